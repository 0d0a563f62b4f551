"""The e2e flow end to end: artifacts, gate, consume path, exit codes, state messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.artifacts import ArtifactLayout
from flows import health
from flows.e2e import main
from spline_lstm.models.network import load_checkpoint
from tests.helpers import (
    FAST_FLAGS,
    TINY_FLAGS,
    leftovers,
    make_series,
    read_error_line,
    read_until,
)

pytestmark = pytest.mark.flow
REPO = Path(__file__).resolve().parents[2]



def test_smoke_run_writes_every_artifact_and_passes_the_gate(smoke_run, capsys):
    artifacts, run_id = smoke_run
    layout = ArtifactLayout(artifacts, run_id)
    for path in layout.required_artifacts() + (layout.forecast_png,):
        assert path.is_file(), f"missing {path}"
    assert health.main(["--run-id", run_id, "--artifacts-dir", str(artifacts)]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True

    metrics = json.loads(layout.metrics_json.read_text())
    assert metrics["dataset"]["horizon"] == 3 and metrics["dataset"]["lookback"] == 12
    assert {"naive_last", "seasonal_naive", "moving_average", "auto_theta", "mstl_ets",
            "mstl_arima"} <= set(metrics["baselines"])
    selection = json.loads(layout.meta_json.read_text())["data_summary"]["transform_selection"]
    assert [c["name"] for c in selection["candidates"]] == ["levels", "sdiff24", "mstl"]
    assert metrics["dataset"]["transform"] == selection["chosen"]
    assert len(metrics["inference"]["y_pred_last"]) == 3
    assert metrics["inference"]["x_shape"] == [1, 12, 1]

    checkpoint_meta = json.loads(layout.checkpoint_meta_json.read_text())
    assert checkpoint_meta["best_val_loss_reloaded"] == pytest.approx(
        checkpoint_meta["best_val_loss"], rel=1e-5)
    load_checkpoint(layout.last_checkpoint)

    predictions = pd.read_csv(layout.predictions_csv)
    assert list(predictions.columns) == ["origin", "timestamp", "step", "y_true", "y_pred", "kind",
                                         "lo_80", "hi_80", "lo_95", "hi_95"]
    forecast = predictions[predictions["kind"] == "forecast"]
    assert forecast["step"].tolist() == [1, 2, 3] and forecast["y_true"].isna().all()
    test_rows = predictions[predictions["kind"] == "test"]
    assert len(test_rows) == 3 * metrics["dataset"]["n_test"]
    for level in ("80", "95"):  # nested bands around every forecast
        assert (predictions[f"lo_{level}"] <= predictions["y_pred"]).all()
        assert (predictions["y_pred"] <= predictions[f"hi_{level}"]).all()
    assert (predictions["lo_95"] <= predictions["lo_80"]).all()
    assert (predictions["hi_80"] <= predictions["hi_95"]).all()

    metadata = json.loads(layout.metadata_json.read_text())
    assert metadata["seed"] == 42 and metadata["config"]["run_id"] == run_id
    report = layout.report_md.read_text()
    for section in ("## Verdict", "Reproduce:", "## Data", "## Test metrics", "## Latest inference",
                    "## Forecast", "## Artifacts", "## Warnings"):
        assert section in report
    assert "None" not in report  # every line reads a typed field that has a value
    verdict = metrics["verdict"]  # decided once, in the metrics record; the report reads it
    assert verdict["best_baseline"] in report.split("## Run")[0]
    assert verdict["model_mase"] == metrics["metrics"]["mase"]
    chain = json.loads(layout.meta_json.read_text())["transform_chain"]
    assert f"transforms (fitted on train): **{chain['name']}**" in report
    assert not (artifacts / ".staging" / run_id).exists()


def test_a_run_is_tracked_in_the_local_store_by_default(smoke_run):
    """No MLFLOW_TRACKING_URI: a SQLite store under the artifacts dir, no server needed."""
    from mlflow import MlflowClient

    artifacts, run_id = smoke_run
    tracking = json.loads(ArtifactLayout(artifacts, run_id).metadata_json.read_text())["tracking"]
    assert tracking["status"] == "tracked", tracking
    store = artifacts.resolve() / "mlflow" / "mlflow.db"
    assert tracking["tracking_uri"] == f"sqlite:///{store}" and store.is_file()
    client = MlflowClient(tracking["tracking_uri"])
    assert client.get_run(tracking["mlflow_run_id"]).info.run_name == run_id
    aliases = client.get_registered_model("synthetic").aliases
    assert str(aliases["candidate"]) == tracking["model_version"]
    assert (artifacts / "mlflow" / "artifacts").is_dir()  # artifacts beside the store


def test_same_config_and_seed_give_the_same_metrics_from_the_command(smoke_run, tmp_path):
    """The command (not a caller of main()) fits the baselines and tracks the run in side
    processes (spline_lstm.job_process): the smoke run's exact flags give its metrics."""
    from prefect.settings import PREFECT_API_URL

    artifacts, run_id = smoke_run
    again = tmp_path / "artifacts"
    proc = subprocess.run(
        [sys.executable, "flows/e2e.py", "--run-id", "smoke-again", "--artifacts-dir",
         str(again), "--horizon", "3", *TINY_FLAGS, "--tracking", "on"], cwd=REPO,
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}, capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "classical baselines" in proc.stderr and "tracked as MLflow run" in proc.stderr
    assert proc.stderr.count("(in a side process)") == 2, proc.stderr[-3000:]
    first = json.loads(ArtifactLayout(artifacts, run_id).metrics_json.read_text())
    second = json.loads(ArtifactLayout(again, "smoke-again").metrics_json.read_text())
    for key in ("mae", "rmse", "mase"):
        assert second["metrics"][key] == pytest.approx(first["metrics"][key], rel=1e-9)
    assert second["baselines"] == first["baselines"]  # to the last digit
    assert second["model_choice"]["chosen"] == first["model_choice"]["chosen"]
    tracking = json.loads(ArtifactLayout(again, "smoke-again").metadata_json.read_text())
    assert tracking["tracking"]["status"] == "tracked"


def test_preprocess_only_then_consume_path(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    assert main(["--run-id", "two-step", "--artifacts-dir", str(artifacts), "--preprocess-only",
                 *FAST_FLAGS]) == 0
    layout = ArtifactLayout(artifacts, "two-step")
    assert layout.processed_npz.is_file() and not layout.metrics_json.exists()
    # the consume path chooses across families like any run (here among the naive models)
    assert main(["--run-id", "two-step", "--artifacts-dir", str(artifacts), "--processed-npz",
                 str(layout.processed_npz), *FAST_FLAGS[:-2], "--candidates", "naive",
                 "--backtest-windows", "2"]) == 0
    assert health.main(["--run-id", "two-step", "--artifacts-dir", str(artifacts)]) == 0
    choice = json.loads(layout.metrics_json.read_text())["model_choice"]
    assert choice["kind"] == "naive" and any(layout.chosen_model_dir.iterdir())


def test_seasonal_adjustment_runs_end_to_end_and_through_the_consume_path(prefect_harness,
                                                                         tmp_path):
    artifacts = tmp_path / "artifacts"
    flags = [*FAST_FLAGS, "--seasonal-adjust", "mstl", "--horizon", "3"]
    assert main(["--run-id", "adjusted", "--artifacts-dir", str(artifacts), "--preprocess-only",
                 *flags]) == 0
    layout = ArtifactLayout(artifacts, "adjusted")
    assert main(["--run-id", "adjusted", "--artifacts-dir", str(artifacts), "--processed-npz",
                 str(layout.processed_npz), *flags]) == 0
    assert json.loads(layout.metrics_json.read_text())["dataset"]["transform"] == "mstl"
    chain = json.loads(layout.meta_json.read_text())["transform_chain"]
    assert chain["name"] == "mstl" and [s["step"] for s in chain["steps"]] == [
        "power", "seasonal_adjustment", "differencing", "scaling"]
    adjustment = chain["steps"][1]
    assert adjustment["kind"] == "rolling_mstl" and adjustment["lag"] == 3
    forecast = pd.read_csv(layout.predictions_csv).query("kind == 'forecast'")["y_pred"]
    assert len(forecast) == 3 and np.isfinite(forecast).all()
    assert "- seasonal adjustment:" in layout.report_md.read_text()


def test_consume_path_refuses_another_runs_artifacts(smoke_run, tmp_path, capsys):
    artifacts, run_id = smoke_run
    code = main(["--run-id", "thief", "--artifacts-dir", str(tmp_path / "a"), "--processed-npz",
                 str(ArtifactLayout(artifacts, run_id).processed_npz), *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 27 and payload["error"]["code"] == "RUN_ID_MISMATCH"
    assert "'thief'" in payload["error"]["message"] and f"'{run_id}'" in payload["error"]["message"]


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], int, str, str]]:
    bad = make_series(120).astype({"target": object})
    bad.loc[5, "target"] = "twelve"
    bad.loc[9, "timestamp"] = bad.loc[8, "timestamp"]
    bad.to_csv(tmp_path / "bad.csv", index=False)
    make_series(20).to_csv(tmp_path / "short.csv", index=False)
    gappy = make_series(300)
    gappy.loc[100:119, "target"] = None
    gappy.to_csv(tmp_path / "gappy.csv", index=False)
    make_series(200).to_csv(tmp_path / "hourly.csv", index=False)
    make_series(200).rename(columns={"target": "passengers"}).to_csv(tmp_path / "named.csv",
                                                                     index=False)
    return {
        "wrong target column": (["--input", str(tmp_path / "named.csv")], 25,
                                "INPUT_SCHEMA_ERROR", "lacks column(s) ['target']"),
        "missing file": (["--input", str(tmp_path / "nope.csv")], 21, "FILE_NOT_FOUND", "nope.csv"),
        "bad raw data": (["--input", str(tmp_path / "bad.csv")], 25, "INPUT_SCHEMA_ERROR",
                         "twelve"),
        "too little data": (["--input", str(tmp_path / "short.csv")], 26, "INSUFFICIENT_DATA_ERROR",
                            "too few windows"),
        "gap too long": (["--input", str(tmp_path / "gappy.csv"), "--max-gap", "12"], 25,
                         "INPUT_SCHEMA_ERROR", "20 missing steps from 2024-01-05 04:00:00"),
        "nothing to adjust": (["--input", str(tmp_path / "hourly.csv"), "--seasonal-adjust",
                               "mstl", "--season", "1"], 20, "INVALID_ARGUMENT",
                              "use --seasonal-adjust none"),
        "adjustment burn-in": (["--input", str(tmp_path / "hourly.csv"), "--seasonal-adjust",
                                "mstl", "--season", "60"], 26, "INSUFFICIENT_DATA_ERROR",
                               "burn-in (differencing, seasonal adjustment)"),
    }


@pytest.mark.parametrize("case", ["missing file", "bad raw data", "too little data", "gap too long",
                                  "nothing to adjust", "adjustment burn-in"])
def test_failures_exit_with_their_code_and_leave_no_artifacts(prefect_harness, tmp_path, capsys, case):
    flags, exit_code, code, fragment = _bad_inputs(tmp_path)[case]
    artifacts = tmp_path / "artifacts"
    run_id = "bad-" + case.replace(" ", "-")
    result = main(["--run-id", run_id, "--artifacts-dir", str(artifacts), *flags, *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert result == exit_code
    assert payload["ok"] is False and payload["exit_code"] == exit_code
    assert payload["error"]["code"] == code and fragment in payload["error"]["message"]
    assert leftovers(artifacts, run_id) == []
    if case in PREFLIGHT:  # refused before Prefect starts: no flow run, no card, no folder
        assert not artifacts.exists()
        return
    card = (artifacts / "logs" / f"{run_id}.failed.md").read_text()
    assert code in card and "## Re-run" in card and "python flows/e2e.py" in card
    rerun = card.split("## Re-run")[1].split("## Stack")[0]
    assert "--overwrite" not in rerun  # nothing of this run_id exists to overwrite
    if case == "gap too long":  # the re-run command carries the fix, so pasting it works
        assert "--max-gap 20" in rerun
    if case == "wrong target column":
        assert "--target-col passengers" in rerun


PREFLIGHT = {"missing file"}


def test_a_run_id_that_succeeds_later_has_its_failure_card_marked_resolved(prefect_harness,
                                                                           tmp_path):
    artifacts = tmp_path / "artifacts"
    bad = tmp_path / "bad.csv"
    make_series(20).to_csv(bad, index=False)
    assert main(["--run-id", "later", "--artifacts-dir", str(artifacts), "--input", str(bad),
                 *FAST_FLAGS]) == 26
    card = artifacts / "logs" / "later.failed.md"
    assert card.is_file()
    assert main(["--run-id", "later", "--artifacts-dir", str(artifacts), *FAST_FLAGS]) == 0
    resolved = artifacts / "logs" / "resolved" / "later.failed.md"
    assert not card.exists() and resolved.read_text().startswith("> Resolved: run_id `later`")


@pytest.mark.parametrize("argv,fragment", [
    (["--run-id", "../escape"], "invalid run_id '../escape'"),
    (["--run-id", "has space"], "invalid run_id"),
    (["--run-id", "ok", "--epochs", "-3"], "--epochs"),
    (["--run-id", "ok", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--run-id", "ok", "--horizon", "two"], "invalid int value"),
    (["--run-id", "ok", "--seasonal-adjust", "stl"], "--seasonal-adjust"),
    (["--epochs", "2"], "--run-id"),
])
def test_invalid_arguments_exit_20_before_any_file_is_written(tmp_path, capsys, argv, fragment):
    artifacts = tmp_path / "artifacts"
    code = main([*argv, "--artifacts-dir", str(artifacts)])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 20 and payload["error"]["code"] == "INVALID_ARGUMENT"
    assert fragment in payload["error"]["message"]
    assert not artifacts.exists()


def test_an_existing_run_is_not_overwritten(smoke_run, capsys):
    artifacts, run_id = smoke_run
    before = ArtifactLayout(artifacts, run_id).metrics_json.read_bytes()
    code = main(["--run-id", run_id, "--artifacts-dir", str(artifacts), *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 20 and "already has artifacts" in payload["error"]["message"]
    assert ArtifactLayout(artifacts, run_id).metrics_json.read_bytes() == before


def test_a_failed_gate_fails_the_flow_and_commits_nothing(prefect_harness, tmp_path, capsys,
                                                          monkeypatch):
    import tasks.evaluate as evaluate_module

    real = evaluate_module.build_metrics_record

    def wrong_run_id(*args, **kwargs):
        from dataclasses import replace

        return replace(real(*args, **kwargs), run_id="not-this-run")

    monkeypatch.setattr(evaluate_module, "build_metrics_record", wrong_run_id)
    artifacts = tmp_path / "artifacts"
    code = main(["--run-id", "gated", "--artifacts-dir", str(artifacts), *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 27 and payload["error"]["code"] == "RUN_ID_MISMATCH"
    assert "metrics.json says run_id 'not-this-run'" in payload["error"]["message"]
    assert leftovers(artifacts, "gated") == []


def test_the_failed_task_and_flow_state_messages_carry_the_code(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.e2e import e2e_flow

    # stage_tags is a flow parameter (a deployment sets it), never read from the environment
    state = e2e_flow(run_id="state-msg", input=str(tmp_path / "absent.csv"),
                     artifacts_dir=str(tmp_path / "a"), stage_tags="on", return_state=True)
    assert state.is_failed()
    assert "FILE_NOT_FOUND (exit 21)" in state.message and "absent.csv" in state.message
    with get_client(sync_client=True) as client:
        flow_run_id = state.state_details.flow_run_id

        def failed_task_runs():
            task_runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            return [t for t in task_runs if t.state and t.state.is_failed()]

        failed = read_until(failed_task_runs, bool)
        assert [t.name.rsplit("-", 1)[0] for t in failed] == ["ingest"]
        assert failed[0].tags == ["stage:ingest"]
        assert "FILE_NOT_FOUND (exit 21)" in failed[0].state.message
        artifacts = client.read_artifacts()
        assert any(a.key == "failure-state-msg" for a in artifacts)


def test_auto_stage_tags_follow_the_servers_stage_limits(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.e2e import e2e_flow
    from tasks.logs import server_caps_stages

    def ingest_tags(run_id: str) -> list[str]:  # a missing input fails fast, in ingest
        state = e2e_flow(run_id=run_id, input=str(tmp_path / "absent.csv"),
                         artifacts_dir=str(tmp_path / "a"), return_state=True)
        assert state.is_failed()
        with get_client(sync_client=True) as client:
            runs = read_until(lambda: client.read_task_runs(flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))), bool)
        assert runs, "the ingest task run was never recorded"
        return [tag for run in runs for tag in run.tags]

    assert not server_caps_stages() and ingest_tags("auto-untagged") == []
    with get_client(sync_client=True) as client:
        client.create_concurrency_limit(tag="stage:train", concurrency_limit=4)
    try:
        assert server_caps_stages() and ingest_tags("auto-tagged") == ["stage:ingest"]
    finally:
        with get_client(sync_client=True) as client:
            client.delete_concurrency_limit_by_tag("stage:train")
    assert not server_caps_stages()


def test_the_console_shows_no_traceback_for_input_errors(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    bad = make_series(50).astype({"target": object})
    bad.loc[3, "target"] = "oops"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.run([sys.executable, "flows/e2e.py", "--run-id", "quiet", "--input",
                           str(tmp_path / "bad.csv"), "--artifacts-dir", str(tmp_path / "a")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 25
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    payload = json.loads(proc.stderr.strip().splitlines()[-1])
    assert payload["error"]["code"] == "INPUT_SCHEMA_ERROR" and "oops" in payload["error"]["message"]
    assert "Traceback" in (tmp_path / "a" / "logs" / "quiet.log").read_text()
