"""The promotion policy, model names and what a run logs: pure functions, no MLflow store."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contracts.errors import InvalidArgumentError
from spline_lstm.tracking.lifecycle import default_model_name
from spline_lstm.tracking.log_run import run_metrics
from spline_lstm.tracking.promotion import MARGIN, Scores, decide
from spline_lstm.tracking.registry import validate_model_name
from tests.helpers import make_processed


def test_first_champion_needs_to_beat_seasonal_naive():
    assert decide(Scores(candidate=0.8, seasonal_naive=1.0)).promote
    held = decide(Scores(candidate=1.0, seasonal_naive=0.9))
    assert not held.promote and "seasonal naive" in held.reason


def test_a_candidate_must_beat_the_champion_by_the_margin():
    champion = 0.50
    better = decide(Scores(candidate=champion * (1 - MARGIN) - 1e-6, seasonal_naive=1.0,
                           champion=champion))
    assert better.promote and "beats the champion" in better.reason
    level = decide(Scores(candidate=champion * (1 - MARGIN / 2), seasonal_naive=1.0,
                          champion=champion))
    assert not level.promote and "not better than the champion" in level.reason
    worse = decide(Scores(candidate=0.6, seasonal_naive=1.0, champion=champion))
    assert not worse.promote and "0.5000" in worse.reason


def test_a_candidate_without_a_score_is_held():
    assert not decide(Scores(candidate=math.nan, seasonal_naive=1.0)).promote


@pytest.mark.parametrize("source, expected", [
    (None, "synthetic"), ("data/co2_weekly.csv", "co2_weekly"),
    ("/x/Air Passengers (1949).parquet", "Air-Passengers-1949")])
def test_the_model_name_comes_from_the_input_file(source, expected):
    assert default_model_name(source) == expected
    assert validate_model_name(default_model_name(source)) == expected


@pytest.mark.parametrize("name", ["../etc", "a/b", "", "-x", "x" * 129])
def test_path_like_model_names_are_refused(name):
    with pytest.raises(InvalidArgumentError, match="model name"):
        validate_model_name(name)


def test_run_metrics_keep_finite_numbers_with_epoch_steps():
    metrics = {"metrics": {"mase": 0.5, "r2": float("nan")},
               "baselines": {"seasonal_naive": {"mase": 1.1, "rmse": 2.0, "mae": 1.0}},
               "intervals": {"pipeline": {"80": {"coverage": 81.0, "interval_score": 3.0}}},
               "backtest": {"mase_mean": 0.6, "per_window": [{"window": 1, "mase": 0.7},
                                                             {"window": 2, "mase": 0.5}]}}
    rows = run_metrics(metrics, {"history": {"loss": [0.3, 0.2], "val_loss": [0.4, None]}})
    keys = {(k, s): v for k, v, s in rows}
    assert keys[("test_mase", 0)] == 0.5 and ("test_r2", 0) not in keys
    assert keys[("baseline.seasonal_naive.mase", 0)] == 1.1
    assert keys[("interval_80.coverage", 0)] == 81.0
    assert keys[("backtest_window_mase", 2)] == 0.5
    assert keys[("epoch_loss", 1)] == 0.3 and keys[("epoch_loss", 2)] == 0.2
    assert ("epoch_val_loss", 2) not in keys


def test_a_champion_scores_through_its_own_transforms():
    """Side-by-side scoring: the champion's preprocessing is applied, never refitted, to
    the candidate's series (a differently scaled run gives the same model space)."""
    from spline_lstm.tracking.run_model import RunModel

    t = np.arange(400)
    values = 50 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 24)
    older = make_processed(values[:300], horizon=2, seasons=[24], lookback=24)
    newer = make_processed(values, horizon=2, seasons=[24], lookback=24)
    champion = RunModel("old", older, forecaster=None, calibrator=None, name="x")
    rebased = champion.rebased(newer)
    assert np.array_equal(rebased.origins["test"], newer.origins["test"])
    # the first 300 points map exactly as in the champion's own run
    assert np.allclose(rebased.series[:300], older.series, equal_nan=True)


def test_a_champion_with_covariates_reads_them_from_the_candidate_run():
    from contracts.errors import ArtifactContractError
    from spline_lstm.data.covariates import Covariate
    from spline_lstm.tracking.run_model import RunModel

    t = np.arange(400)
    values = 50 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 24)
    heat = Covariate("heat", "numeric", False, 20 + np.cos(2 * np.pi * t / 24))
    older = make_processed(values[:300], horizon=2, seasons=[24], covariates=(heat.head(300),))
    newer = make_processed(values, horizon=2, seasons=[24], covariates=(heat,))
    champion = RunModel("old", older, forecaster=None, calibrator=None, name="x")
    rebased = champion.rebased(newer)
    assert np.allclose(rebased.series[:300], older.series, equal_nan=True)
    assert rebased.feature_names == ("target", "heat")
    with pytest.raises(ArtifactContractError, match=r"missing \['heat'\]"):
        champion.rebased(make_processed(values, horizon=2, seasons=[24]))


def test_a_path_like_model_name_flag_is_refused_naming_the_flag():
    from contracts.config import RunConfig

    with pytest.raises(InvalidArgumentError, match="--model-name"):
        RunConfig.build(run_id="x", model_name="../etc")


def test_defining_the_pyfunc_model_prints_no_type_hint_warning():
    # MLflow checks predict's type hints when a PythonModel subclass is defined and, without
    # one, warns under a filter of its own: every tracked run's console showed it.
    import subprocess
    import sys
    from pathlib import Path

    code = "import warnings; warnings.simplefilter('default'); " \
           "import spline_lstm.tracking.pyfunc"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Add type hints" not in proc.stderr


def test_overlapping_quiet_logging_in_threads_restores_stdout_and_levels():
    # Tracked series of the many-series flow log their models in threads at once. With
    # contextlib.redirect_stdout each thread restored what it found on entry: one leaving
    # after another had entered put sys.stdout back on stderr for good.
    import logging
    import sys
    import threading

    from spline_lstm.tracking.log_run import quiet_model_logging

    stdout, logger = sys.stdout, logging.getLogger("mlflow.models")
    level = logger.level
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with quiet_model_logging():
            seen["a"] = sys.stdout is sys.stderr and logger.level == logging.ERROR
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def second():
        a_in.wait(5)
        with quiet_model_logging():
            b_in.set()
            a_out.wait(5)
            seen["b after a left"] = sys.stdout is sys.stderr and logger.level == logging.ERROR

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": True, "b after a left": True}
    assert sys.stdout is stdout and logger.level == level
