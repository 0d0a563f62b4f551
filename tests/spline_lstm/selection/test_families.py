"""A second forecaster family goes through selection and evaluation exactly like the LSTM."""

import numpy as np

from contracts.records import DataSummary
from spline_lstm.evaluation.baselines import baseline_forecasters, run_baselines
from spline_lstm.evaluation.scoring import evaluate_split, score
from spline_lstm.evaluation.verdict import decide
from spline_lstm.models.classical import StatsForecaster
from spline_lstm.models.naive import NaiveForecaster
from spline_lstm.models.prediction import forward_forecast
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.models.registry import build_forecaster, load_forecaster
from spline_lstm.selection.select import Candidate, select
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.preprocess import PreprocessSettings
from tests.helpers import make_filled, make_series

SETTINGS = PreprocessSettings(lookback=24, horizon=3, seasons=[12], val_size=0.15, test_size=0.2)


def _candidates():
    levels = TransformSpec()
    return [
        Candidate(levels, lambda folder: RecurrentForecaster(
            RecurrentSettings(epochs=2, hidden_units=(4,), batch_size=16), folder)),
        Candidate(levels, lambda _folder: build_forecaster("auto_arima"), "auto_arima"),
        Candidate(levels, lambda _folder: NaiveForecaster("seasonal_naive"), "seasonal_naive"),
    ]


def test_lstm_classical_and_naive_are_chosen_and_evaluated_through_one_path(tmp_path):
    filled = make_filled(make_series(240, freq="MS", season=12)["target"], "MS", [12])
    selection = select(filled, SETTINGS, _candidates(), tmp_path, run_id="x",
                       data_summary=DataSummary(source="test", n_rows=240), workers=1)
    rows = {c.candidate.forecaster: c for c in selection.candidates}
    assert set(rows) == {"lstm", "auto_arima", "seasonal_naive"}
    assert all(np.isfinite(c.val_mase) for c in rows.values())
    assert [c.forecaster for c in selection.summary().candidates] == [
        "lstm", "auto_arima", "seasonal_naive"]
    # the validation score of a classical candidate is the same scoring any forecaster gets
    data = selection.winner.data
    arima = rows["auto_arima"].forecaster
    assert rows["auto_arima"].val_mase == score(data, arima.predict(data, data.origins["val"]),
                                                "val")["mase"]
    # ... and the test split, the verdict and the forward forecast take it as they take the LSTM
    test = data.origins["test"]
    baselines = run_baselines(data, baseline_forecasters([12], test, classical=False), test,
                              fit_end=data.bounds.val_end)
    for fitted in (rows["lstm"].forecaster, arima):
        evaluation = evaluate_split(data, fitted.predict(data, test), baselines=baselines.forecasts)
        assert np.isfinite(evaluation.metrics["mase"]) and decide(evaluation).best_baseline
        forecast = forward_forecast(fitted, data)
        assert len(forecast.values) == 3 and np.isfinite(forecast.values).all()


def test_every_family_saves_and_loads_into_the_same_forecasts(tmp_path):
    filled = make_filled(make_series(240, freq="MS", season=12)["target"], "MS", [12])
    selection = select(filled, SETTINGS, _candidates(), tmp_path / "scratch", run_id="x",
                       data_summary=DataSummary(source="test", n_rows=240), workers=1)
    data = selection.winner.data
    for fit in selection.candidates:
        folder = tmp_path / fit.candidate.forecaster
        fit.forecaster.save(folder)
        loaded = load_forecaster(folder)
        assert type(loaded) is type(fit.forecaster) and loaded.name == fit.forecaster.name
        np.testing.assert_array_equal(loaded.predict(data, data.origins["test"]),
                                      fit.forecaster.predict(data, data.origins["test"]))
    assert StatsForecaster.capabilities.keeps_weights is False
    assert RecurrentForecaster.capabilities.uses_validation is True


def test_a_second_network_competes_in_the_lstm_family_and_is_not_the_network(tmp_path):
    from spline_lstm.evaluation.baselines import BaselineRun
    from spline_lstm.selection.families import Block
    from spline_lstm.selection.product import choose_product
    from tests.helpers import make_processed

    data = make_processed(make_series(240)["target"].to_numpy(), horizon=3, seasons=[24])
    val, test = data.origins["val"], data.origins["test"]
    network = NaiveForecaster("moving_average", window=48, name="lstm").fit(data)
    # stands in for the network without covariates: the better one on the block
    other = NaiveForecaster("seasonal_naive", season=24, name="lstm_no_covariates").fit(data)
    evaluation = evaluate_split(data, network.predict(data, val), split="val")
    block = Block("validation split", evaluation.y_true, evaluation.scored,
                  evaluation.mase_scale, {"lstm": evaluation.y_pred,
                                          other.name: other.predict(data, val)})
    product = choose_product(data, network, network.predict(data, test),
                             BaselineRun(forecasts={}), [block], ("lstm", "combination"),
                             {other.name: (other, other.predict(data, test))})
    assert product.forecaster is other and not product.is_network
    assert product.model_choice["network"] == "lstm"
    assert "(the network without covariates)" in product.model_choice["reason"]
    np.testing.assert_array_equal(product.test_forecast, other.predict(data, test))
