"""Tracking and the registry against a real MLflow server on loopback
(scripts/mlflow_server.sh): runs logged with their model, candidate -> champion by the policy,
rollback, history, concurrent promotions, back-fill after an outage, coded bad input.

Marked ``server`` (a server start and six tiny runs, about 2 minutes).
The tests run in order and share one registry: each builds on the state the previous left.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import TINY_FLAGS, read_error_line

pytestmark = pytest.mark.server
REPO = Path(__file__).resolve().parents[2]
MODEL = "demand"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """One MLflow server for the module; MLFLOW_TRACKING_URI points at it meanwhile."""
    env = {**os.environ, "SPLINE_MLFLOW_DIR": str(tmp_path_factory.mktemp("mlflow-server")),
           "SPLINE_MLFLOW_PORT": str(_free_port())}
    up = subprocess.run([str(REPO / "scripts/mlflow_server.sh"), "up"], env=env,
                        capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-3000:]
    uri = up.stdout.strip().splitlines()[-1]
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        yield uri
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
        down = subprocess.run([str(REPO / "scripts/mlflow_server.sh"), "down"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        with socket.socket() as sock:  # nothing is left listening
            assert sock.connect_ex(("127.0.0.1", int(uri.rsplit(":", 1)[1]))) != 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, Path]:
    """(artifacts dir, series): an hourly series with a trend, where naive-last beats
    seasonal naive and the classical models beat naive-last by far."""
    root = tmp_path_factory.mktemp("registry")
    t = np.arange(480)
    rng = np.random.default_rng(3)
    values = 100 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, t.size)
    stamps = pd.date_range("2024-03-01", periods=t.size, freq="h")
    csv = root / f"{MODEL}.csv"
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S"), "target": values}
                 ).to_csv(csv, index=False)
    return root / "artifacts", csv


def _e2e(capsys, workspace, run_id: str, *flags: str) -> dict:
    from flows.e2e import main

    artifacts, csv = workspace
    code = main(["--run-id", run_id, "--artifacts-dir", str(artifacts), "--input", str(csv),
                 "--horizon", "1", "--season", "24", *TINY_FLAGS, "--tracking", "on", *flags])
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


NAIVE = ("--candidates", "naive", "--baselines", "simple", "--backtest-windows", "0")
CLASSICAL = ("--candidates", "classical", "--backtest-windows", "0")


def _console(capsys, workspace, *args: str) -> tuple[int, dict]:
    from flows.console import main

    code = main([*args, "--artifacts-dir", str(workspace[0]), "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0
                  else read_error_line(err))


def _client():
    from mlflow import MlflowClient

    return MlflowClient(os.environ["MLFLOW_TRACKING_URI"])


def test_a_run_is_logged_with_its_model_and_registered_as_candidate(
        prefect_harness, mlflow_server, workspace, capsys):
    import mlflow

    line = _e2e(capsys, workspace, "naive-1", *NAIVE)
    tracking = line["tracking"]
    assert tracking["status"] == "tracked" and tracking["model_name"] == MODEL
    assert tracking["model_version"] == "1"
    artifacts = workspace[0]
    metadata = json.loads((artifacts / "metadata/naive-1.json").read_text())
    assert metadata["tracking"]["mlflow_run_id"] == tracking["mlflow_run_id"]
    assert metadata["tracking"]["tracking_uri"] == mlflow_server

    run = _client().get_run(tracking["mlflow_run_id"])
    assert run.info.run_name == "naive-1" and run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["spline.run_id"] == "naive-1" and tags["git_commit"] == metadata["git_commit"]
    assert tags["prefect.flow_run_id"] and tags["forecaster"] == line["forecaster"]
    assert len(tags["input_sha256"]) == 64
    assert run.data.params["horizon"] == "1" and run.data.params["candidates"] == "naive"
    assert run.data.metrics["test_mase"] == pytest.approx(line["metrics"]["mase"])
    assert "baseline.seasonal_naive.mase" in run.data.metrics
    losses = _client().get_metric_history(run.info.run_id, "epoch_loss")
    assert [m.step for m in losses] == [1, 2]
    logged = {f.path for folder in ("report", "predictions", "metrics", "metadata")
              for f in _client().list_artifacts(run.info.run_id, folder)}
    assert {"report/naive-1.md", "report/naive-1.png", "predictions/naive-1.csv",
            "metrics/naive-1.json", "metadata/naive-1.json"} <= logged

    # the registered model loads anywhere and forecasts exactly what the run forecast
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@candidate")
    assert model.metadata.signature is not None
    predicted = model.predict(pd.DataFrame({"horizon": [1]}))
    assert predicted["value"].tolist() == pytest.approx(line["forecast"]["values"], rel=1e-9)
    assert predicted["lo_80"].tolist() == pytest.approx(line["forecast"]["lo_80"], rel=1e-9)

    from flows.health import main as health

    assert health(["--run-id", "naive-1", "--artifacts-dir", str(artifacts)]) == 0


def test_the_first_champion_then_a_better_candidate_takes_over(
        prefect_harness, mlflow_server, workspace, capsys):
    code, first = _console(capsys, workspace, "models", "promote", MODEL)
    assert code == 0 and first["promoted"] and first["version"] == "1", first
    assert "first champion" in first["reason"]

    line = _e2e(capsys, workspace, "classical-1", *CLASSICAL, "--promote")
    promotion = line["tracking"]["promotion"]
    assert promotion["promoted"], promotion
    assert "beats the champion" in promotion["reason"]
    aliases = _client().get_registered_model(MODEL).aliases
    assert aliases["champion"] == "2" and aliases["rollback"] == "1"
    assert "candidate" not in aliases


def test_a_worse_candidate_stays_candidate_with_its_reason(
        prefect_harness, mlflow_server, workspace, capsys):
    line = _e2e(capsys, workspace, "naive-2", *NAIVE, "--promote")
    promotion = line["tracking"]["promotion"]
    assert not promotion["promoted"]
    assert "not better than the champion" in promotion["reason"]
    model = _client().get_registered_model(MODEL)
    assert model.aliases["champion"] == "2" and model.aliases["candidate"] == "3"
    held = _client().get_model_version(MODEL, "3")
    assert held.tags["spline.promotion"] == "held"
    assert held.tags["spline.promotion_reason"] == promotion["reason"]


def test_rollback_restores_the_previous_champion_and_history_lists_every_move(
        mlflow_server, workspace, capsys):
    code, result = _console(capsys, workspace, "models", "rollback", MODEL, "--reason",
                            "bad forecasts in production")
    assert code == 0 and result["champion"] == "1" and result["rollback"] == "2"
    aliases = _client().get_registered_model(MODEL).aliases
    assert aliases["champion"] == "1" and aliases["rollback"] == "2"

    code, history = _console(capsys, workspace, "models", "history", MODEL)
    moves = [(e["action"], e.get("alias"), e.get("from_version"), e.get("to_version")
              or e.get("version")) for e in history["history"]]
    assert moves == [
        ("register", "candidate", None, "1"), ("promote", "champion", None, "1"),
        ("register", "candidate", None, "2"), ("promote", "rollback", None, "1"),
        ("promote", "champion", "1", "2"),
        ("register", "candidate", None, "3"), ("hold", None, None, "3"),
        ("rollback", "champion", "2", "1"), ("rollback", "rollback", "1", "2")]
    assert all(e["by"] and e["at"] for e in history["history"])
    assert history["history"][-1]["why"] == "bad forecasts in production"
    assert [e["seq"] for e in history["history"]] == list(range(1, 10))

    from flows.console import main

    assert main(["models", "history", MODEL, "--artifacts-dir", str(workspace[0])]) == 0
    table = capsys.readouterr().out
    assert "ACTION" in table and "bad forecasts in production" in table


def test_concurrent_promotions_are_serialised(mlflow_server, workspace):
    from spline_lstm.tracking import registry, store

    client = store.connect(workspace[0])
    results, errors = [], []

    def force(version: str) -> None:
        try:
            results.append(registry.promote(client, MODEL, workspace[0], version=version,
                                            force=True, reason=f"drill {version}"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=force, args=(v,)) for v in ("2", "3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 2
    aliases = _client().get_registered_model(MODEL).aliases
    first, second = results
    # serialised: the second promotion saw the first's champion and kept it as rollback
    assert second["previous_champion"] == first["version"]
    assert aliases["champion"] == second["version"] and aliases["rollback"] == first["version"]
    seqs = [e["seq"] for e in registry.history(client, MODEL)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_the_promote_and_rollback_flows_move_the_aliases(prefect_harness, mlflow_server,
                                                        workspace):
    from flows.promote import promote_flow, rollback_flow

    before = _client().get_registered_model(MODEL).aliases
    state = rollback_flow(MODEL, str(workspace[0]), reason="flow drill", return_state=True)
    assert state.is_completed(), state
    after = _client().get_registered_model(MODEL).aliases
    assert (after["champion"], after["rollback"]) == (before["rollback"], before["champion"])
    state = promote_flow(MODEL, str(workspace[0]), version=int(before["champion"]), force=True,
                         reason="flow drill back", return_state=True)
    assert state.is_completed() and state.result()["promoted"]
    assert _client().get_registered_model(MODEL).aliases["champion"] == before["champion"]
    state = promote_flow(MODEL, str(workspace[0]), version=99, return_state=True)
    assert state.is_failed() and "no version '99'" in str(state.message)


def test_an_outage_leaves_the_run_safe_and_a_backfill_tracks_it_once(
        prefect_harness, mlflow_server, workspace, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_free_port()}")
    line = _e2e(capsys, workspace, "outage-1", *NAIVE)
    assert line["ok"] and line["tracking"]["status"] == "not tracked"
    metadata = json.loads((workspace[0] / "metadata/outage-1.json").read_text())
    assert metadata["tracking"]["status"] == "not tracked"
    assert "spline-lstm track --run-id outage-1" in metadata["tracking"]["backfill"]

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    code, first = _console(capsys, workspace, "track", "--run-id", "outage-1")
    assert code == 0 and first["status"] == "tracked" and first["model_name"] == MODEL
    code, again = _console(capsys, workspace, "track", "--run-id", "outage-1")
    assert code == 0 and again["mlflow_run_id"] == first["mlflow_run_id"]
    assert again["model_version"] == first["model_version"]
    runs = _client().search_runs(
        [_client().get_experiment_by_name("spline-lstm").experiment_id],
        filter_string="tags.`spline.run_id` = 'outage-1'")
    assert len(runs) == 1


def test_the_health_check_catches_metadata_naming_another_mlflow_run(
        mlflow_server, workspace, tmp_path):
    import shutil

    from flows.health import main as health

    artifacts = tmp_path / "artifacts"
    shutil.copytree(workspace[0], artifacts, ignore=shutil.ignore_patterns("mlflow"))
    path = artifacts / "metadata/naive-2.json"
    metadata = json.loads(path.read_text())
    other = json.loads((artifacts / "metadata/naive-1.json").read_text())["tracking"]
    metadata["tracking"]["mlflow_run_id"] = other["mlflow_run_id"]
    path.write_text(json.dumps(metadata))
    assert health(["--run-id", "naive-2", "--artifacts-dir", str(artifacts)]) == 27


@pytest.mark.parametrize("args, code, words", [
    (("models", "show", "nosuch"), 21, "'nosuch' does not exist"),
    (("models", "promote", "nosuch"), 21, "'nosuch' does not exist"),
    (("models", "promote", MODEL, "--version", "99"), 21, "no version '99'"),
    (("models", "promote", MODEL, "--force"), 20, "needs --reason"),
    (("models", "promote", "../etc"), 20, "model name '../etc'"),
    (("models", "rollback", "nosuch"), 21, "'nosuch' does not exist"),
    (("track", "--run-id", "never-ran"), 30, "never-ran"),
])
def test_bad_registry_input_gets_a_coded_error_naming_it(mlflow_server, workspace, capsys,
                                                          args, code, words):
    exit_code, error = _console(capsys, workspace, *args)
    assert exit_code == code, error
    assert words in error["error"]["message"]


def test_promote_without_candidate_and_rollback_without_previous_champion(
        mlflow_server, workspace, capsys):
    code, tracked = _console(capsys, workspace, "track", "--run-id", "naive-1",
                             "--model-name", "lonely", "--promote")
    assert code == 0 and tracked["promotion"]["promoted"], tracked
    code, error = _console(capsys, workspace, "models", "promote", "lonely")
    assert code == 20 and "'lonely' has no candidate" in error["error"]["message"]
    code, error = _console(capsys, workspace, "models", "rollback", "lonely")
    assert code == 20 and "'lonely' has no previous champion" in error["error"]["message"]
