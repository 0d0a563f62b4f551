"""The run's forecast is the candidate chosen on backtests, whatever its family."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from contracts.artifacts import ArtifactLayout
from flows.e2e import main
from spline_lstm.models.registry import load_forecaster
from tests.helpers import FAST_FLAGS

pytestmark = pytest.mark.flow
# FAST_FLAGS without "--candidates lstm": the families are the test's to choose
CHOOSING_FLAGS = FAST_FLAGS[:-2]


def test_the_default_run_chooses_on_backtests_and_says_so(smoke_run):
    artifacts, run_id = smoke_run
    layout = ArtifactLayout(artifacts, run_id)
    metrics = json.loads(layout.metrics_json.read_text())
    choice = metrics["model_choice"]
    assert choice["families"] == ["lstm", "classical", "naive", "combination"]
    assert choice["chosen_on"] == ["backtest window 1", "backtest window 2"]
    rows = {row["name"]: row for row in choice["candidates"]}
    assert {"lstm", "naive_last", "auto_theta"} <= set(rows)
    assert any(row["kind"] == "combination" for row in rows.values())
    means = [row["backtest_mase_mean"] for row in choice["candidates"]]
    assert means == sorted(means) and rows[choice["chosen"]]["backtest_mase_mean"] == means[0]
    # the product's test metrics are the chosen candidate's
    assert metrics["metrics"]["mase"] == pytest.approx(rows[choice["chosen"]]["test_mase"])
    assert metrics["model_choice"]["network_test_metrics"]["mase"] == pytest.approx(
        rows["lstm"]["test_mase"])
    report = layout.report_md.read_text()
    assert "## Model choice" in report and choice["reason"] in report


def test_a_naive_choice_is_the_forecast_everywhere(prefect_harness, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    assert main(["--run-id", "naive-pick", "--artifacts-dir", str(artifacts), "--horizon", "3",
                 "--backtest-windows", "2", "--candidates", "naive", *CHOOSING_FLAGS]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    layout = ArtifactLayout(artifacts, "naive-pick")
    metrics = json.loads(layout.metrics_json.read_text())
    choice = metrics["model_choice"]
    chosen = choice["chosen"]
    assert choice["kind"] == "naive" and {r["kind"] for r in choice["candidates"]} == {"naive"}
    assert "not a failure" in choice["reason"]
    assert metrics["metrics"] == pytest.approx(metrics["baselines"][chosen], nan_ok=True)
    assert metrics["verdict"]["best_baseline"] != chosen  # never compared with itself
    assert "2 backtest" not in metrics["intervals"]["calibration"]["source"]
    assert metrics["intervals"]["calibration"]["source"].startswith("backtest window 1")
    # the saved choice reloads into the forward forecast the run published
    forecaster = load_forecaster(layout.chosen_model_dir)
    assert forecaster.name == chosen
    predictions = pd.read_csv(layout.predictions_csv)
    future = predictions[predictions["kind"] == "forecast"]
    assert np.allclose(future["y_pred"], line["forecast"]["values"])
    assert ((future["lo_95"] <= future["y_pred"]) & (future["y_pred"] <= future["hi_95"])).all()
    assert "## Model choice" in layout.report_md.read_text()
