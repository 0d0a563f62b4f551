"""The many-series flow: child runs per series, a summary, failures isolated, real Dask."""

import json
import math
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.many import main
from spline_lstm.store.gate import check_run
from tests.helpers import FAST_FLAGS, make_series, read_error_line

pytestmark = pytest.mark.flow


def _long_file(path: Path, series: dict[str, pd.DataFrame]) -> Path:
    frames = [frame.assign(series_id=sid)[["series_id", "timestamp", "target"]]
              for sid, frame in series.items()]
    pd.concat(frames).to_csv(path, index=False)
    return path


def _with_inf(seed: int) -> pd.DataFrame:
    frame = make_series(seed=seed)
    frame.loc[50, "target"] = math.inf
    return frame


def _summary(artifacts: Path, run_id: str) -> list[dict]:
    return json.loads((artifacts / "many" / run_id / "summary.json").read_text())["series"]


def _flow_run(name: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            name=FlowRunFilterName(any_=[name])))
        assert len(runs) == 1, name
        parent_task = (client.read_task_run(runs[0].parent_task_run_id)
                       if runs[0].parent_task_run_id else None)
        return runs[0], parent_task


def test_each_series_is_a_child_run_and_a_bad_one_fails_alone(prefect_harness, tmp_path,
                                                              capsys):
    artifacts = tmp_path / "artifacts"
    source = _long_file(tmp_path / "long.csv", {"pump a": make_series(seed=1),
                                                "broken": _with_inf(2),
                                                "pump-b": make_series(seed=3)})
    code = main(["--run-id", "fleet", "--input", str(source), "--artifacts-dir",
                 str(artifacts), "--max-workers", "2", *FAST_FLAGS])
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    rows = {r["series_id"]: r for r in _summary(artifacts, "fleet")}
    assert list(rows) == ["pump a", "broken", "pump-b"]  # the input's order
    for sid, run_id in (("pump a", "fleet--pump_a"), ("pump-b", "fleet--pump-b")):
        row = rows[sid]
        assert row["run_id"] == run_id and row["status"] == "completed"
        assert math.isfinite(row["mase"]) and row["seconds"] > 0
        assert row["forecaster"] == "lstm"  # --candidates lstm in FAST_FLAGS
        assert check_run(artifacts, run_id).passed  # its own full SPEC §3 artifact set
    broken = rows["broken"]
    assert broken["status"] == "failed" and broken["exit_code"] == 25
    assert "INPUT_SCHEMA_ERROR" in broken["message"] and "inf" in broken["message"]
    assert not (artifacts / "metrics" / "fleet--broken.json").exists()
    summary_md = (artifacts / "many" / "fleet" / "summary.md").read_text()
    assert "3 series on thread pool (2 threads): 2 completed, 1 failed" in summary_md
    # one parent flow run: every child flow run hangs off one of its task runs
    parent, _ = _flow_run("fleet")
    for run_id in ("fleet--pump_a", "fleet--broken", "fleet--pump-b"):
        child, via_task = _flow_run(run_id)
        assert via_task is not None and via_task.flow_run_id == parent.id, run_id
        assert via_task.name == run_id  # the series' own task run, no extra "subflow" one
    assert parent.state.is_completed() and not _flow_run("fleet--broken")[0].state.is_completed()
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        table = client.read_latest_artifacts()
    assert any(a.key == "many-fleet" and a.type == "table" for a in table)


def test_fail_fast_stops_and_fails_the_parent_with_the_series_code(prefect_harness, tmp_path,
                                                                  capfd):
    artifacts = tmp_path / "artifacts"
    source = _long_file(tmp_path / "long.csv", {"broken": _with_inf(2),
                                                "never-started": make_series(seed=3)})
    code = main(["--run-id", "fast", "--input", str(source), "--artifacts-dir", str(artifacts),
                 "--fail-fast", "--max-workers", "1", *FAST_FLAGS])
    payload = read_error_line(capfd.readouterr().err)
    assert code == 25 and payload["exit_code"] == 25
    assert "--fail-fast: series 'broken' failed, 1 not started" in payload["error"]["message"]
    rows = _summary(artifacts, "fast")
    assert [r["status"] for r in rows] == ["failed", "skipped"]


def test_the_parent_fails_when_every_series_fails(prefect_harness, tmp_path, capfd):
    artifacts = tmp_path / "artifacts"
    source = _long_file(tmp_path / "long.csv", {"a": _with_inf(1), "b": _with_inf(2)})
    code = main(["--run-id", "all-bad", "--input", str(source), "--artifacts-dir",
                 str(artifacts), *FAST_FLAGS])
    payload = read_error_line(capfd.readouterr().err)
    assert code == 25 and "every one of the 2 series failed" in payload["error"]["message"]


@pytest.mark.parametrize("argv, code, fragment", [
    (["--run-id", "x y", "--input-dir", "."], 20, "invalid run_id"),
    (["--run-id", "ok", "--input-dir", ".", "--input", "f.csv"], 20, "exactly one of"),
    (["--run-id", "ok", "--input-dir", ".", "--epochs", "-1"], 20, "--epochs"),
    (["--run-id", "ok", "--input-dir", ".", "--processed-npz", "a.npz"], 20,
     "unrecognized arguments"),
    (["--run-id", "ok", "--input-dir", ".", "--stage-tags", "maybe"], 20,
     "argument --stage-tags: invalid choice: 'maybe'"),
    (["--run-id", "ok", "--input-dir", ".", "--future-covariates", "f.csv"], 20,
     "only a --covariate-spec declares"),
    (["--run-id", "ok", "--input-dir", ".", "--covariate-spec", "missing.json"], 21,
     "covariate spec not found"),
])
def test_bad_flags_exit_20_before_any_file_is_written(prefect_harness, tmp_path, capfd,
                                                      argv, code, fragment):
    result = main([*argv, "--artifacts-dir", str(tmp_path / "artifacts")])
    payload = read_error_line(capfd.readouterr().err)
    assert result == code and payload["exit_code"] == code
    assert fragment in payload["error"]["message"]
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("flag, expected", [
    ([], "off"),  # fleets: no per-task lease requests unless asked for
    (["--stage-tags", "on"], "on"),
])
def test_children_run_without_stage_tags_unless_asked(flag, expected):
    from flows.many import parse_parameters

    parameters = parse_parameters(["--run-id", "fleet", "--input-dir", ".", *flag])
    assert parameters["stage_tags"] == expected and "stage_tags" not in parameters["options"]


def test_series_run_on_a_real_two_worker_dask_cluster(prefect_harness, tmp_path, capfd):
    folder = tmp_path / "series"
    folder.mkdir()
    make_series(seed=1).to_csv(folder / "north.csv", index=False)
    make_series(seed=4).to_parquet(folder / "south.parquet")
    _with_inf(2).to_csv(folder / "broken.csv", index=False)
    artifacts = tmp_path / "artifacts"
    # one backtest window per series: backtests run inside each series' child flow, on Dask
    code = main(["--run-id", "dask-fleet", "--input-dir", str(folder), "--artifacts-dir",
                 str(artifacts), "--runner", "dask", "--dask-workers", "2",
                 "--backtest-windows", "1", *FAST_FLAGS])
    out, err = capfd.readouterr()
    assert code == 0, out[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["runner"] == "local Dask cluster (2 workers)"
    rows = _summary(artifacts, "dask-fleet")
    assert [(r["series_id"], r["status"]) for r in rows] == [
        ("broken", "failed"), ("north", "completed"), ("south", "completed")]
    # the workers' consoles (this process' stderr, for a local cluster) as the command's:
    # the bad series' coded message, its stack trace in its own log only
    assert "INPUT_SCHEMA_ERROR" in err and "Traceback" not in err + out
    assert "Traceback" in (artifacts / "logs" / "dask-fleet--broken.log").read_text()
    rows = [r for r in rows if r["status"] == "completed"]
    here = f"{socket.gethostname()}:{os.getpid()}"
    assert all(r["worker"] != here for r in rows)  # computed in the Dask worker processes
    for row in rows:
        assert check_run(artifacts, row["run_id"]).passed
        metrics = json.loads((artifacts / "metrics" / f"{row['run_id']}.json").read_text())
        assert metrics["backtest"]["windows"] == 1


def test_dask_address_joins_an_existing_cluster(prefect_harness, tmp_path, capsys,
                                                monkeypatch):
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    # An operator's cluster: its workers are told where the Prefect API is.
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    folder = tmp_path / "series"
    folder.mkdir()
    make_series(seed=2).to_csv(folder / "east.csv", index=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        code = main(["--run-id", "joined", "--input-dir", str(folder), "--artifacts-dir",
                     str(tmp_path / "artifacts"), "--dask-address", cluster.scheduler_address,
                     *FAST_FLAGS])
        worker_pids = {w.pid for w in cluster.workers.values() if hasattr(w, "pid")}
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    row, = _summary(tmp_path / "artifacts", "joined")
    assert row["status"] == "completed"
    assert int(row["worker"].rsplit(":", 1)[1]) in worker_pids  # ran on that cluster


def test_an_unreachable_dask_address_exits_24_and_names_the_flag(prefect_harness, tmp_path,
                                                                 capfd, monkeypatch):
    import flows.fleet_runner

    monkeypatch.setattr(flows.fleet_runner, "DASK_CONNECT_TIMEOUT", "2s")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "series"
    folder.mkdir()
    make_series(seed=1).to_csv(folder / "north.csv", index=False)
    code = main(["--run-id", "nowhere", "--input-dir", str(folder), "--artifacts-dir",
                 str(tmp_path / "artifacts"), "--dask-address", f"tcp://127.0.0.1:{port}",
                 *FAST_FLAGS])
    payload = read_error_line(capfd.readouterr().err)
    assert code == 24 and payload["exit_code"] == 24
    assert "could not start or reach the Dask cluster" in payload["error"]["message"]
    assert "--dask-address" in payload["error"]["message"]
    assert not (tmp_path / "artifacts" / "metrics").exists()  # no series ran


def test_covariates_travel_with_each_series_and_its_future_rows(prefect_harness, tmp_path,
                                                                 capsys):
    """--covariate-spec applies to every series: each child reads its own covariate
    columns, and its rows of the long-format --future-covariates file for the forecast."""
    artifacts, frames = tmp_path / "artifacts", {}
    for sid, seed in (("a", 1), ("b", 2)):
        frame = make_series(seed=seed)
        t = np.arange(len(frame))
        frames[sid] = frame.assign(temperature=15 + 5 * np.sin(t * 2 * np.pi / 24) + seed,
                                   promo=(t // 5 % 3 == 0).astype(int))
    source = tmp_path / "long.csv"
    pd.concat([f.assign(series_id=sid) for sid, f in frames.items()]).to_csv(source,
                                                                             index=False)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"schema_version": "covariate_spec.v1", "dynamic_covariates": [
        {"name": "temperature", "type": "numeric", "required": True},
        {"name": "promo", "type": "boolean", "required": True, "known_in_advance": True}]}))
    future = tmp_path / "future.csv"
    pd.concat([pd.DataFrame({"series_id": sid, "promo": [1, 0, 1], "timestamp": pd.date_range(
        f["timestamp"].iloc[-1], periods=4, freq="h")[1:].strftime("%Y-%m-%d %H:%M:%S")})
        for sid, f in frames.items()]).to_csv(future, index=False)
    code = main(["--run-id", "cov-fleet", "--input", str(source), "--artifacts-dir",
                 str(artifacts), "--covariate-spec", str(spec), "--future-covariates",
                 str(future), "--horizon", "3", *FAST_FLAGS])
    assert code == 0, capsys.readouterr().out[-2000:]
    for sid in ("a", "b"):
        run_id = f"cov-fleet--{sid}"
        metrics = json.loads((artifacts / "metrics" / f"{run_id}.json").read_text())
        assert [c["name"] for c in metrics["covariates"]["used"]] == ["temperature", "promo"]
        assert metrics["dataset"]["feature_names"] == ["target", "temperature", "promo"]
        assert check_run(artifacts, run_id).passed
    # a series' own covariate values, not another's
    split = pd.read_parquet(artifacts / "many" / "cov-fleet" / "inputs" / "b.parquet")
    assert np.allclose(split["temperature"].astype(float), frames["b"]["temperature"])
