"""Choosing the run's forecast across families on the blocks before the test split."""

import numpy as np
import pytest

from contracts.config import RunConfig
from contracts.errors import InvalidArgumentError
from spline_lstm.evaluation.baselines import baseline_forecasters, run_baselines
from spline_lstm.evaluation.intervals import calibrate_blocks
from spline_lstm.models.combination import CombinationForecaster
from spline_lstm.models.naive import NaiveForecaster
from spline_lstm.models.registry import load_forecaster
from spline_lstm.selection.families import (
    CHOICE_MARGIN,
    Block,
    choose_model,
    chooses_models,
    cross_fitted_forecasts,
    model_of,
    score_models,
)
from spline_lstm.selection.product import choose_product, validation_block
from spline_lstm.windows.folds import auto_windows
from tests.helpers import make_processed, make_series

KINDS = {"lstm": "lstm", "auto_ets": "classical", "naive_last": "naive"}


def _block(errors: dict[str, float], label: str = "b", n: int = 6) -> Block:
    """Forecasts off the truth by a constant ``errors[name]`` (MASE = |error| / scale 1)."""
    truth = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    return Block(label, truth, np.ones_like(truth, dtype=bool), 1.0,
                 {name: truth + e for name, e in errors.items()})


def test_the_lowest_mean_block_mase_is_chosen_and_every_candidate_is_listed():
    blocks = [_block({"lstm": 1.0, "auto_ets": 0.5, "naive_last": 2.0}, "w1"),
              _block({"lstm": 1.0, "auto_ets": 1.1, "naive_last": 2.0}, "w2")]
    choice = choose_model(blocks, KINDS, ("lstm", "classical", "naive"))
    assert choice.chosen.name == "auto_ets" and choice.chosen.mean == pytest.approx(0.8)
    assert [s.name for s in choice.scores] == ["auto_ets", "lstm", "naive_last"]
    assert choice.blocks == ["w1", "w2"]
    assert "classical model" in choice.sentence() and "not a failure" in choice.sentence()


def test_combinations_of_the_best_can_win_when_errors_cancel():
    # lstm too high, auto_ets too low by the same amount: their mean is exact
    blocks = [_block({"lstm": 1.0, "auto_ets": -1.0, "naive_last": 3.0})]
    choice = choose_model(blocks, KINDS, ("lstm", "classical", "naive", "combination"))
    assert choice.chosen.kind == "combination" and choice.chosen.members == ("lstm", "auto_ets")
    assert choice.chosen.mean == pytest.approx(0.0)
    names = {s.name for s in choice.scores}
    assert {"mean(lstm+auto_ets)", "mean(lstm+auto_ets+naive_last)",
            "median(lstm+auto_ets+naive_last)"} <= names


def test_a_model_and_its_covariate_twin_count_as_one_in_combinations():
    kinds = {"lstm": "lstm", "lstm_no_covariates": "lstm", "mstl_arima": "classical",
             "mstl_arima_x": "classical", "auto_ets": "classical"}
    # ranked: mstl_arima_x, mstl_arima, lstm, lstm_no_covariates, auto_ets
    blocks = [_block({"mstl_arima_x": 0.50, "mstl_arima": 0.51, "lstm": -0.6,
                      "lstm_no_covariates": -0.62, "auto_ets": 0.9})]
    scores = score_models(blocks, kinds, ALL)
    means = {s.members for s in scores if s.kind == "combination" and s.how == "mean"}
    assert means == {("mstl_arima_x", "lstm"), ("mstl_arima_x", "lstm", "auto_ets")}
    assert ("mstl_arima_x", "lstm", "auto_ets") in {s.members for s in scores if s.how ==
                                                    "median"}
    # each twin is still a candidate of its own, and the default holds every classical model
    assert {"mstl_arima", "lstm_no_covariates"} <= {s.name for s in scores}
    assert "median(mstl_arima_x+mstl_arima+auto_ets)" in {s.name for s in scores}
    # the better of a pair gets the place, with the covariates or without them
    blocks = [_block({"mstl_arima_x": 0.52, "mstl_arima": 0.51, "lstm": -0.6,
                      "lstm_no_covariates": -0.58, "auto_ets": 0.9})]
    pair = next(s for s in score_models(blocks, kinds, ALL) if s.name.startswith("mean(")
                and len(s.members) == 2)
    assert set(pair.members) == {"mstl_arima", "lstm_no_covariates"}


def test_candidates_that_forecast_alike_count_as_one_in_combinations():
    # a yearly series: seasonal_naive (season 1) is naive_last, forecast for forecast
    kinds = {"lstm": "lstm", "naive_last": "naive", "seasonal_naive": "naive",
             "auto_ets": "classical", "auto_arima": "classical"}
    blocks = [_block({"naive_last": 0.3, "seasonal_naive": 0.3, "auto_ets": -0.5,
                      "lstm": 0.8, "auto_arima": 0.9}, label) for label in ("w1", "w2")]
    scores = score_models(blocks, kinds, ALL)
    combined = {(s.how, s.members) for s in scores if s.kind == "combination"}
    assert ("mean", ("naive_last", "auto_ets")) in combined  # not mean(naive_last+itself)
    assert not any({"naive_last", "seasonal_naive"} <= set(m) for _, m in combined)
    assert ("median", ("naive_last", "auto_ets", "lstm")) in combined
    assert "seasonal_naive" in {s.name for s in scores}  # still a candidate of its own


def test_only_the_covariate_suffixes_make_twins():
    assert model_of("mstl_arima_x") == model_of("mstl_arima") == "mstl_arima"
    assert model_of("auto_arima_x") == "auto_arima"
    assert model_of("lstm_no_covariates") == "lstm"
    assert model_of("seasonal_naive_336") == "seasonal_naive_336"
    assert model_of("auto_ets") == "auto_ets" and model_of("mstl_ets") == "mstl_ets"


CLASSICAL3 = {"lstm": "lstm", "auto_ets": "classical", "auto_arima": "classical",
              "auto_theta": "classical", "naive_last": "naive"}
ALL = ("lstm", "classical", "naive", "combination")


def test_the_median_of_the_classical_models_stays_unless_beaten_by_the_margin():
    # the classical models err by +1, -1, +0.5: their median is off by 0.5
    close = 0.5 * (1 - CHOICE_MARGIN / 2)  # lower than the default, by less than the margin
    blocks = [_block({"lstm": close, "auto_ets": 1.0, "auto_arima": -1.0, "auto_theta": 0.5,
                      "naive_last": 3.0})]
    choice = choose_model(blocks, CLASSICAL3, ALL)
    assert choice.scores[0].name == "lstm"  # the lowest mean block MASE ...
    assert choice.chosen.name == choice.default == "median(auto_theta+auto_ets+auto_arima)"
    assert choice.chosen.how == "median" and choice.chosen.mean == pytest.approx(0.5)
    assert "the default" in choice.sentence() and "lstm" in choice.sentence()
    clear = 0.5 * (1 - 2 * CHOICE_MARGIN)  # ... and one that beats it by more wins
    blocks = [_block({"lstm": clear, "auto_ets": 1.0, "auto_arima": -1.0, "auto_theta": 0.5,
                      "naive_last": 3.0})]
    assert choose_model(blocks, CLASSICAL3, ALL).chosen.name == "lstm"


def test_a_candidate_holding_a_naive_model_must_beat_the_default_by_one_standard_error():
    # the classical models err by +1, -1 and e: their median is off by |e| in each block
    families = ("classical", "naive", "combination")
    kinds = {k: v for k, v in CLASSICAL3.items() if k != "lstm"}

    def blocks(naive: tuple, theta: tuple) -> list[Block]:
        return [_block({"auto_ets": 1.0, "auto_arima": -1.0, "auto_theta": t,
                        "naive_last": e}, f"w{i}")
                for i, (e, t) in enumerate(zip(naive, theta), start=1)]

    # naive_last far ahead in one block of three, behind in the others: lower on average
    # by more than the margin, by less than one standard error
    choice = choose_model(blocks((0.1, 0.6, 0.6), (0.6, 0.5, 0.5)), kinds, families)
    assert choice.scores[0].name == "naive_last"
    assert choice.chosen.name == choice.default == "median(auto_theta+auto_ets+auto_arima)"
    kept = choice.default_kept
    assert (kept.name, kept.against) == ("naive_last", choice.default)
    assert kept.advantage == pytest.approx(0.1)
    assert kept.standard_error == pytest.approx(np.std([0.5, -0.1, -0.1], ddof=1) / np.sqrt(3))
    assert "one standard error" in choice.sentence() and "naive_last" in choice.sentence()
    assert choice.to_dict({})["default_kept"]["name"] == "naive_last"
    # ahead in every block: it replaces the default
    choice = choose_model(blocks((0.4, 0.4, 0.4), (0.6, 0.5, 0.5)), kinds, families)
    assert choice.chosen.name == "naive_last" and choice.default_kept is None
    # two blocks: the margin alone decides, as before
    choice = choose_model(blocks((0.1, 0.6), (0.6, 0.5)), kinds, families)
    assert choice.chosen.name == "naive_last" and choice.default_kept is None
    # a candidate without a naive model: the margin alone decides
    kinds = {**kinds, "naive_last": "classical"}  # the same errors, from a classical model
    choice = choose_model(blocks((0.1, 0.6, 0.6), (0.6, 0.5, 0.5)), kinds, families)
    assert choice.chosen.name == "naive_last" and choice.default_kept is None


def test_the_network_must_beat_the_best_candidate_without_it_by_one_standard_error():
    families = ("lstm", "classical", "naive")
    # lstm lower on average (0.5 against 0.567), but not block after block: set aside
    blocks = [_block({"lstm": 0.5, "auto_ets": e, "naive_last": 2.0}, f"w{i}")
              for i, e in enumerate((0.4, 0.7, 0.6), start=1)]
    choice = choose_model(blocks, KINDS, families)
    assert choice.scores[0].name == "lstm" and choice.chosen.name == "auto_ets"
    aside = choice.network_set_aside
    assert (aside.name, aside.against) == ("lstm", "auto_ets")
    assert aside.advantage == pytest.approx(0.2 / 3)
    assert aside.standard_error == pytest.approx(np.std([-0.1, 0.2, 0.1], ddof=1) / np.sqrt(3))
    assert "one standard error" in choice.sentence()
    assert choice.to_dict({})["network_set_aside"]["name"] == "lstm"
    # lower in every block: kept
    blocks = [_block({"lstm": 0.5, "auto_ets": e, "naive_last": 2.0}, f"w{i}")
              for i, e in enumerate((0.6, 0.65, 0.7), start=1)]
    choice = choose_model(blocks, KINDS, families)
    assert choice.chosen.name == "lstm" and choice.network_set_aside is None
    # two blocks (a long series): their one difference's spread is no standard error
    assert choose_model(blocks[:1] + [_block({"lstm": 0.5, "auto_ets": 0.45})], KINDS,
                        ("lstm", "classical")).chosen.name == "lstm"


def test_there_is_no_default_without_two_classical_models_or_combinations():
    blocks = [_block({"lstm": 0.49, "auto_ets": 0.5, "naive_last": 3.0})]
    assert choose_model(blocks, KINDS, ALL).default is None  # one classical model
    blocks = [_block({"lstm": 0.49, "auto_ets": 1.0, "auto_arima": -1.0, "auto_theta": 0.5,
                      "naive_last": 3.0})]
    choice = choose_model(blocks, CLASSICAL3, ("lstm", "classical", "naive"))
    assert choice.default is None and choice.chosen.name == "lstm"


def test_each_block_is_forecast_by_the_choice_made_without_it():
    # auto_ets wins overall on the luck of w1; without w1, lstm would have been chosen
    blocks = [_block({"lstm": 1.0, "auto_ets": 0.1, "naive_last": 2.0}, "w1"),
              _block({"lstm": 1.0, "auto_ets": 1.2, "naive_last": 2.0}, "w2"),
              _block({"lstm": 1.0, "auto_ets": 1.3, "naive_last": 2.0}, "w3")]
    families = ("lstm", "classical", "naive")
    choice = choose_model(blocks, KINDS, families)
    assert choice.chosen.name == "auto_ets"
    held_out = cross_fitted_forecasts(blocks, KINDS, families, choice)
    # w1 is forecast by lstm (chosen on w2, w3); w2 and w3 by auto_ets (w1's luck included)
    errors = [float(np.mean(f - b.y_true)) for f, b in zip(held_out, blocks)]
    assert errors == pytest.approx([1.0, 1.2, 1.3])
    # the choice's own errors would be [0.1, 1.2, 1.3]: smaller, so narrower intervals
    assert cross_fitted_forecasts(blocks[:1], KINDS, families, choice)[0] == \
        pytest.approx(blocks[0].forecasts["auto_ets"])


def test_families_left_out_are_never_candidates():
    blocks = [_block({"lstm": 1.0, "auto_ets": 0.1, "naive_last": 0.2})]
    choice = choose_model(blocks, KINDS, ("lstm", "naive"))
    assert choice.chosen.name == "naive_last"
    assert {s.name for s in choice.scores} == {"lstm", "naive_last"}


def test_a_candidate_missing_from_one_block_is_not_compared_on_fewer_blocks():
    blocks = [_block({"lstm": 1.0, "auto_ets": 0.1}), _block({"lstm": 1.0})]
    scores = score_models(blocks, KINDS, ("lstm", "classical"))
    assert [s.name for s in scores] == ["lstm"]


def test_nothing_scorable_falls_back_to_the_network():
    blocks = [_block({"lstm": np.nan, "auto_ets": np.nan})]
    assert choose_model(blocks, KINDS, ("lstm", "classical")).chosen.name == "lstm"


def test_a_long_series_gets_fewer_backtest_windows_than_a_short_one():
    short = auto_windows(200, step=14, val_points=14, lookback=24, horizon=12)
    long = auto_windows(4000, step=400, val_points=400, lookback=96, horizon=48)
    assert (short, long) == (5, 2)
    assert auto_windows(40, step=6, val_points=6, lookback=24, horizon=3) == 0  # none fits


def test_candidates_flag_is_checked_and_lstm_alone_chooses_nothing():
    assert not chooses_models(RunConfig(run_id="x", candidates=["lstm"]))
    assert chooses_models(RunConfig(run_id="x"))
    assert RunConfig(run_id="x", candidates=["naive", "lstm"]).candidates == ["lstm", "naive"]
    for bad in (["prophet"], ["combination"], ["lstm", "lstm"]):
        with pytest.raises(InvalidArgumentError, match="candidates"):
            RunConfig.build(run_id="x", candidates=bad)
    with pytest.raises(InvalidArgumentError, match="--baselines simple"):
        RunConfig.build(run_id="x", candidates=["classical"], baselines="simple")


def _data():
    return make_processed(make_series(300, freq="MS", season=12)["target"].to_numpy(),
                          horizon=3, seasons=[12], lookback=24, freq="MS")


def test_a_chosen_baseline_is_the_fitted_one_and_its_intervals_never_read_the_test_split():
    data = _data()
    test = data.origins["test"]
    network = NaiveForecaster("moving_average", window=2, name="lstm")  # stands in
    baselines = run_baselines(data, baseline_forecasters([12], test, classical=False), test,
                              fit_end=data.bounds.val_end)
    block = validation_block(data, network, classical=False)
    product = choose_product(data, network, network.predict(data, test), baselines, [block],
                             ("lstm", "naive"))
    chosen = product.choice.chosen.name
    assert product.forecaster is baselines.fitted.get(chosen, network)
    assert np.array_equal(product.test_forecast,
                          baselines.forecasts.get(chosen, network.predict(data, test)))
    assert product.model_choice["network_test_metrics"]["mase"] > 0
    # calibration reads only the block's forecasts: poisoning the test split changes nothing
    calibrator = calibrate_blocks(data, product.blocks, [80.0], source="validation split")
    data.values[data.bounds.val_end:] += 1e6
    again = calibrate_blocks(data, product.blocks, [80.0], source="validation split")
    assert calibrator.quantiles == again.quantiles and calibrator.n_scores > 0


def test_a_combination_is_one_forecaster_that_saves_and_loads(tmp_path):
    data = _data()
    members = [NaiveForecaster("naive_last"), NaiveForecaster("seasonal_naive", season=12)]
    combination = CombinationForecaster("median(a+b)", members, "mean")
    origins = data.origins["test"]
    expected = (members[0].predict(data, origins) + members[1].predict(data, origins)) / 2
    assert np.allclose(combination.predict(data, origins), expected)
    combination.save(tmp_path / "chosen")
    loaded = load_forecaster(tmp_path / "chosen")
    assert isinstance(loaded, CombinationForecaster) and loaded.how == "mean"
    assert np.array_equal(loaded.predict(data, origins), combination.predict(data, origins))
    with pytest.raises(ValueError, match="two members"):
        CombinationForecaster("x", members[:1])
