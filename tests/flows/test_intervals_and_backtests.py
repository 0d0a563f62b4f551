"""Prediction intervals everywhere a forecast goes, and backtests as child task runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from contracts.artifacts import ArtifactLayout
from flows.e2e import main
from tests.helpers import FAST_FLAGS, read_error_line, read_until

pytestmark = pytest.mark.flow


def test_intervals_reach_the_predictions_the_json_line_and_the_report(smoke_run, capsys):
    artifacts, run_id = smoke_run
    layout = ArtifactLayout(artifacts, run_id)
    predictions = pd.read_csv(layout.predictions_csv)
    assert list(predictions.columns)[-4:] == ["lo_80", "hi_80", "lo_95", "hi_95"]
    assert predictions[["lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()
    assert (predictions["lo_95"] <= predictions["lo_80"]).all()
    assert ((predictions["lo_80"] <= predictions["y_pred"]) &
            (predictions["y_pred"] <= predictions["hi_80"])).all()
    intervals = json.loads(layout.metrics_json.read_text())["intervals"]
    assert intervals["levels"] == [80.0, 95.0]
    assert set(intervals["pipeline"]["95"]) == {"coverage", "mean_width", "interval_score", "n"}
    assert {"auto_theta", "mstl_ets", "mstl_arima"} <= set(intervals["baselines"])  # their own
    calibration = json.loads(layout.intervals_json.read_text())
    assert calibration["run_id"] == run_id
    # adaptive (the default): where each level's working miscoverage ended the test walk
    assert set(calibration["online_miscoverage"]) == {"80", "95"}
    assert 0.05 * 0.25 <= calibration["online_miscoverage"]["95"] <= 0.05 * 2
    report = layout.report_md.read_text()
    assert "## Prediction intervals (test split)" in report and "| lo_80 | hi_80 |" in report
    assert "the forward forecast's 80 % band is drawn as a " in report
    assert "% band of the errors, its 95 % band as a " in report


def test_backtest_windows_run_as_child_task_runs_and_calibrate_the_intervals(
        prefect_harness, tmp_path, capsys):
    from prefect.client.orchestration import get_client

    artifacts = tmp_path / "artifacts"
    assert main(["--run-id", "bt", "--artifacts-dir", str(artifacts), "--horizon", "3",
                 "--backtest-windows", "2", "--level", "90", *FAST_FLAGS]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(line["forecast"]["lo_90"]) == 3 and len(line["forecast"]["hi_90"]) == 3
    metrics = json.loads(ArtifactLayout(artifacts, "bt").metrics_json.read_text())
    backtest = metrics["backtest"]
    assert backtest["windows"] == 2 and len(backtest["per_window"]) == 2
    assert len(backtest["mase_per_step_mean"]) == 3 and backtest["mase_mean"] > 0
    assert "naive_last" in backtest["per_window"][0]["baselines"]
    assert "2 backtest blocks" in metrics["intervals"]["calibration"]["source"]
    assert "## Backtest (rolling origin" in ArtifactLayout(artifacts, "bt").report_md.read_text()
    windows = {"backtest-window-1", "backtest-window-2"}
    with get_client(sync_client=True) as client:
        names = read_until(lambda: {t.name for t in client.read_task_runs()},
                           lambda seen: windows <= seen)
    assert windows <= names


def test_a_failing_backtest_window_fails_the_run_with_its_code(prefect_harness, tmp_path,
                                                               capsys, monkeypatch):
    import tasks.backtest as backtest_module
    from contracts.errors import InsufficientDataError

    real = backtest_module.run_fold

    def second_fails(filled, settings, transform, make, fold, *args, **kwargs):
        if fold.index == 2:
            raise InsufficientDataError("window 2 has nothing to score (planted)")
        return real(filled, settings, transform, make, fold, *args, **kwargs)

    monkeypatch.setattr(backtest_module, "run_fold", second_fails)
    artifacts = tmp_path / "artifacts"
    code = main(["--run-id", "bt-fail", "--artifacts-dir", str(artifacts), "--horizon", "3",
                 "--backtest-windows", "2", *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 26 and "planted" in payload["error"]["message"]
    assert ArtifactLayout(artifacts, "bt-fail").existing_artifacts() == []  # no partial run


@pytest.mark.parametrize("flags,fragment", [
    (["--backtest-windows", "40"], "window(s) fit. Use --backtest-windows"),
    (["--level", "80", "100"], "--level: each level must lie strictly between 0 and 100"),
    (["--level", "95", "95"], "--level: levels must differ"),
    (["--level", "50", "60", "70", "80", "90", "95"], "--level: give 1 to 5 levels"),
])
def test_bad_interval_and_backtest_flags_are_coded(prefect_harness, tmp_path, capsys, flags,
                                                   fragment):
    code = main(["--run-id", "flags", "--artifacts-dir", str(tmp_path / "a"), *flags,
                 *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == (26 if "backtest" in flags[0] else 20)
    assert fragment in payload["error"]["message"]
