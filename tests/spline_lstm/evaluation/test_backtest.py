"""Rolling-origin folds stay before the test split, expand, and refuse what does not fit."""

import numpy as np
import pytest

from contracts.errors import InsufficientDataError
from contracts.records import DataSummary
from spline_lstm.evaluation.backtest import run_fold, summarize
from spline_lstm.evaluation.intervals import calibrate
from spline_lstm.models.naive import NaiveForecaster
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.folds import plan_folds
from spline_lstm.windows.preprocess import PreprocessSettings
from tests.helpers import make_filled, make_processed, make_series


def test_folds_expand_and_the_last_block_ends_where_the_test_split_begins():
    folds = plan_folds(800, windows=3, step=100, val_points=80, lookback=24, horizon=4)
    assert [(f.train_end, f.cut, f.end) for f in folds] == [
        (420, 500, 600), (520, 600, 700), (620, 700, 800)]
    assert [f.index for f in folds] == [1, 2, 3]


def test_too_many_windows_is_26_saying_how_many_fit():
    with pytest.raises(InsufficientDataError, match=r"so 3 window\(s\) fit. Use "
                                                    r"--backtest-windows 3"):
        plan_folds(400, windows=5, step=100, val_points=50, lookback=24, horizon=4)
    with pytest.raises(InsufficientDataError, match="0 window"):
        plan_folds(100, windows=1, step=100, val_points=10, lookback=24, horizon=4)


SETTINGS = PreprocessSettings(lookback=24, horizon=3, seasons=[24], val_size=0.1, test_size=0.2)


def _fold_result(values):
    filled = make_filled(values, "h", [24])
    fold = plan_folds(int(len(values) * 0.8), windows=2, step=48, val_points=48, lookback=24,
                      horizon=3)[0]
    return fold, run_fold(filled, SETTINGS, TransformSpec(), lambda _f: NaiveForecaster(
        "seasonal_naive"), fold, None, run_id="t", data_summary=DataSummary(source="t", n_rows=1),
        classical=False)


def test_a_fold_reads_nothing_after_its_block():
    values = make_series(600)["target"].to_numpy()
    fold, result = _fold_result(values)
    later = values.copy()
    later[fold.end:] += 100.0
    _, again = _fold_result(later)
    assert again.mase == result.mase and np.array_equal(again.y_pred, result.y_pred)
    assert result.y_true.shape == (fold.end - fold.cut - 3 + 1, 3)  # every window of its block
    summary = summarize([result, again], 48)
    assert summary["windows"] == 2 and summary["per_window"][0]["block_points"] == 48
    assert len(summary["mase_per_step_mean"]) == 3 and "naive_last" in summary[
        "baselines_mase_mean"]


def test_static_calibration_never_reads_the_test_split():
    values = make_series(600)["target"].to_numpy()
    changed = values.copy()
    changed[-100:] *= 3.0  # the test split only
    calibrators = [calibrate(make_processed(v, horizon=3, seasons=[24]),
                             NaiveForecaster("seasonal_naive"), [80, 95]) for v in (values, changed)]
    assert calibrators[0] == calibrators[1]


def test_a_fold_runs_where_a_covariate_does_not_vary_yet(tmp_path):
    from spline_lstm.data.covariates import Covariate

    values = make_series(600)["target"].to_numpy()
    price = np.r_[np.zeros(350), np.linspace(1.0, 2.0, 250)]  # introduced at point 350
    filled = make_filled(values, "h", [24]).with_covariates(
        (Covariate("price", "numeric", False, price),), ())
    fold = plan_folds(480, windows=2, step=48, val_points=48, lookback=24, horizon=3)[0]
    assert fold.train_end < 350 < int(600 * 0.7)  # constant in the fold, varies in the run
    result = run_fold(filled, SETTINGS, TransformSpec(), lambda _f: NaiveForecaster(
        "seasonal_naive"), fold, tmp_path, run_id="t",
        data_summary=DataSummary(source="t", n_rows=1), classical=False)
    assert np.isfinite(result.mase)


class _Recording(NaiveForecaster):
    """seasonal_naive that notes which covariates its data reads relative to the origin."""

    seen: list = []

    def fit(self, data):
        self.seen.append(data.preprocessor.features.relative_names)
        return super().fit(data)


def test_a_fold_reads_covariates_relative_to_the_origin_as_the_run_decided(tmp_path):
    from dataclasses import replace

    from spline_lstm.data.covariates import Covariate

    values = make_series(600)["target"].to_numpy()
    # a covariate that steps up inside the fold's block only: the fold's own validation
    # part would keep it as a level; a run that saw it trend reads it as a change
    level = np.where(np.arange(600) < 400, 1.0, 5.0) + np.sin(np.arange(600) / 5.0)
    filled = replace(make_filled(values, "h", [24]),
                     covariates=(Covariate("price", "numeric", False, level),))
    fold = plan_folds(480, windows=2, step=48, val_points=48, lookback=24, horizon=3)[0]
    assert fold.cut <= 400 < fold.end  # the step is in the block, after the fold's split

    def fold_reads(relative):
        _Recording.seen = []
        run_fold(filled, SETTINGS, TransformSpec(), lambda _f: _Recording("seasonal_naive"),
                 fold, tmp_path, run_id="t", data_summary=DataSummary(source="t", n_rows=1),
                 classical=False, relative_covariates=relative)
        return _Recording.seen[0]

    assert fold_reads(None) == ()  # decided on the fold's own validation part
    assert fold_reads(("price",)) == ("price",)  # the run's decision
    assert fold_reads(()) == ()
