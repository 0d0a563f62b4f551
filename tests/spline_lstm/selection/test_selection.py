"""Transform selection happens on validation only; nothing is fitted on val/test."""

import numpy as np
import pandas as pd
import pytest

from contracts.config import RunConfig
from contracts.records import DataSummary
from spline_lstm.evaluation.metrics import seasonal_naive_scale
from spline_lstm.evaluation.scoring import evaluate_split
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.selection.candidates import looks_multiplicative, transform_candidates
from spline_lstm.selection.select import Candidate, select
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.transforms.preprocessor import Preprocessor
from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
from tests.helpers import TEST_DATA, make_filled, make_series

SETTINGS = PreprocessSettings(lookback=24, horizon=4, seasons=[12], val_size=0.1, test_size=0.2)
TINY = RecurrentSettings(epochs=2, hidden_units=(4,), batch_size=32)
SUMMARY = DataSummary(source="test", n_rows=144)


def _filled(values: np.ndarray):
    return make_filled(values, freq="MS", seasons=[12])


def _air() -> np.ndarray:
    return pd.read_csv(TEST_DATA / "airpassengers_monthly.csv")["target"].to_numpy(float)


def _lstm(*transforms: TransformSpec, settings: RecurrentSettings = TINY) -> list[Candidate]:
    return [Candidate(t, lambda folder: RecurrentForecaster(settings, folder)) for t in transforms]


def _select(candidates, tmp_path, workers=None):
    return select(_filled(_air()), SETTINGS, candidates, tmp_path, run_id="x",
                  data_summary=SUMMARY, workers=workers)


def test_air_passengers_looks_multiplicative_an_additive_series_does_not():
    assert looks_multiplicative(_air()[:100], 12)
    assert not looks_multiplicative(make_series(240, season=12)["target"].to_numpy()[:160], 12)


def test_auto_compares_levels_and_each_usable_season_and_log_when_multiplicative():
    auto = RunConfig(run_id="x")
    names = [c.name for c in transform_candidates(auto, _air()[:100], [12])]
    assert names == ["levels", "sdiff12", "log", "log+sdiff12"]  # a short season: no MSTL
    additive = make_series(2000, season=48)["target"].to_numpy()[:1400]
    names = [c.name for c in transform_candidates(auto, additive, [48, 336])]
    assert names == ["levels", "sdiff48", "sdiff336", "mstl"]
    weekly = make_series(300, season=52)["target"].to_numpy()
    assert [c.name for c in transform_candidates(auto, weekly, [52])] == [
        "levels", "sdiff52", "mstl"]
    fixed = RunConfig(run_id="x", power="boxcox", seasonal_difference=0)
    assert transform_candidates(fixed, _air()[:100], [12]) == [TransformSpec(power="boxcox")]
    no_season = make_series(300, season=24)["target"].to_numpy()
    assert [c.name for c in transform_candidates(auto, no_season, [1])] == ["levels"]


def test_seasonal_adjustment_can_be_forced_or_left_out():
    forced = RunConfig(run_id="x", power="none", seasonal_adjust="mstl")
    assert transform_candidates(forced, _air()[:100], [12]) == [
        TransformSpec(power="none", seasonal_adjust=True)]
    off = RunConfig(run_id="x", seasonal_adjust="none")
    assert "mstl" not in {c.name for c in transform_candidates(off, _air()[:100], [12])}


def test_selection_keeps_the_candidate_with_the_lowest_validation_mase(tmp_path):
    selection = _select(_lstm(TransformSpec(), TransformSpec("log", seasonal_difference=12)),
                        tmp_path)
    scores = {c.candidate.name: c.val_mase for c in selection.candidates}
    assert selection.winner.val_mase == min(scores.values())
    winner = selection.winner.forecaster
    assert winner.best_path.is_file() and winner.last_path.is_file()
    assert selection.winner.data.preprocessor.transform_name == selection.winner.candidate.name
    summary = selection.summary()
    assert summary.chosen == selection.winner.candidate.name
    assert {c.name for c in summary.candidates} == {"levels", "log+sdiff12"}
    assert all(c.best_epoch is not None for c in summary.candidates)


def test_candidates_trained_in_parallel_score_exactly_as_one_at_a_time(tmp_path):
    transforms = [TransformSpec(), TransformSpec("log", seasonal_difference=12),
                  TransformSpec("log")]
    runs = [_select(_lstm(*transforms), tmp_path / str(workers), workers=workers)
            for workers in (1, 2)]
    scores = [[c.val_mase for c in run.candidates] for run in runs]
    assert scores[0] == scores[1] and all(np.isfinite(scores[0]))
    assert [c.candidate.transform for c in runs[1].candidates] == transforms  # in order
    assert runs[0].winner.candidate.name == runs[1].winner.candidate.name


def test_one_selection_thread_per_usable_cpu_never_more_than_candidates(monkeypatch):
    from spline_lstm.selection import select as selection

    monkeypatch.setattr(selection.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert [selection.selection_workers(n) for n in (1, 2, 8)] == [1, 2, 2]
    monkeypatch.delattr(selection.os, "sched_getaffinity")  # e.g. macOS
    monkeypatch.setattr(selection.os, "cpu_count", lambda: 4)
    assert selection.selection_workers(8) == 4


def test_a_candidate_that_cannot_be_preprocessed_is_skipped_with_its_reason(tmp_path):
    too_long = TransformSpec(seasonal_difference=84)  # burn-in leaves no train window
    selection = _select(_lstm(too_long, TransformSpec(), settings=RecurrentSettings(
        epochs=1, hidden_units=(4,), batch_size=32)), tmp_path, workers=2)
    assert selection.winner.candidate.transform == TransformSpec()
    skipped = selection.candidates[0]
    assert skipped.forecaster is None and skipped.note.startswith("skipped:")
    assert selection.summary().candidates[0].val_mase is None


@pytest.mark.parametrize("spec", [TransformSpec("boxcox", seasonal_difference=12),
                                  TransformSpec("log", seasonal_adjust=True)],
                         ids=lambda c: c.name)
def test_perturbing_the_test_split_changes_no_fitted_parameter(tmp_path, spec):
    values = _air()
    changed = values.copy()
    changed[-25:] *= 3.0  # the test split (20% of 144 points) only
    fitted = []
    for i, series in enumerate((values, changed)):
        data = preprocess(_filled(series), SETTINGS.with_transform(spec), run_id="x",
                          data_summary=SUMMARY)
        forecaster = RecurrentForecaster(TINY, tmp_path / str(i)).fit(data)
        fitted.append((data.preprocessor.to_payload(),
                       [w.copy() for w in forecaster.model.get_weights()],
                       data.X("train"), data.X("val")))
    (payload_a, weights_a, train_a, val_a), (payload_b, weights_b, train_b, val_b) = fitted
    assert payload_a == payload_b  # power lambda, scaler, seasons: all from train only
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b))
    assert np.array_equal(train_a, train_b) and np.array_equal(val_a, val_b)


def test_seasonal_adjustment_round_trips_through_the_preprocessor():
    """Model-space targets turned back by the preprocessor give the raw observations."""
    settings = SETTINGS.with_transform(TransformSpec("log", seasonal_adjust=True))
    data = preprocess(_filled(_air()), settings, run_id="x", data_summary=SUMMARY)
    pre = data.preprocessor
    assert pre.transform_name == "log+mstl" and pre.burn_in == 2 * 12 + 4
    origins = data.origins["test"]
    back = pre.to_original_units(data.y("test"), data.values, origins)
    np.testing.assert_allclose(back, data.values[origins[:, None] + np.arange(1, 5)], rtol=1e-5)
    assert Preprocessor.from_payload(pre.to_payload()) == pre


def test_mase_uses_the_train_split_seasonal_naive_scale():
    data = preprocess(_filled(_air()), SETTINGS, run_id="x", data_summary=SUMMARY)
    truth = data.values[data.origins["test"][:, None] + np.arange(1, 5)]
    evaluation = evaluate_split(data, truth + 1.0)
    scale = seasonal_naive_scale(data.values[:data.bounds.train_end],
                                 data.observed[:data.bounds.train_end], 12)
    assert evaluation.mase_scale == pytest.approx(scale)
    assert evaluation.metrics["mase"] == pytest.approx(1.0 / scale)
