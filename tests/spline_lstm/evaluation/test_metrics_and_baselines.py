import numpy as np
import pytest

from spline_lstm.evaluation.baselines import baseline_forecasters, run_baselines
from spline_lstm.evaluation.metrics import forecast_metrics, seasonal_naive_scale
from spline_lstm.models.naive import moving_average, naive_last, seasonal_naive
from tests.helpers import make_processed, make_series


def test_metrics_match_hand_computed_values():
    y = np.array([1.0, 2.0, 4.0, 0.0])
    p = np.array([2.0, 2.0, 2.0, 1.0])
    m = forecast_metrics(y, p, mase_scale=2.0)
    assert m["mae"] == pytest.approx(1.0)
    assert m["mse"] == pytest.approx(1.5) and m["rmse"] == pytest.approx(np.sqrt(1.5))
    assert m["mape"] == pytest.approx((100 + 0 + 50) / 3)  # y == 0 is left out (robust MAPE)
    assert m["r2"] == pytest.approx(1 - 6.0 / np.sum((y - y.mean()) ** 2))
    assert m["mase"] == pytest.approx(0.5)


def test_masked_targets_are_not_scored():
    y = np.array([1.0, 100.0, 3.0])
    p = np.array([1.0, 0.0, 3.0])
    assert forecast_metrics(y, p, mase_scale=1.0, mask=np.array([True, False, True]))["mae"] == 0.0


def test_mase_scale_is_the_train_seasonal_naive_mae_over_observed_pairs():
    train = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
    observed = np.ones(6, dtype=bool)
    assert seasonal_naive_scale(train, observed, 3) == pytest.approx(4.0)
    assert seasonal_naive_scale(train, observed, 1) == pytest.approx(1.2)
    observed[3] = False  # pairs touching an unobserved (filled) point are skipped
    assert seasonal_naive_scale(train, observed, 3) == pytest.approx(4.0)


def test_baselines_forecast_from_the_origin():
    values = np.arange(20, dtype=np.float64)
    origins = np.array([9, 10])
    assert naive_last(values, origins, 2).tolist() == [[9, 9], [10, 10]]
    assert seasonal_naive(values, origins, 3, season=2).tolist() == [[8, 9, 8], [9, 10, 9]]
    assert moving_average(values, origins, 1, window=4).tolist() == [[7.5], [8.5]]
    names = [f.name for f in baseline_forecasters([4, 8], origins, classical=False)]
    assert names == ["naive_last", "seasonal_naive", "seasonal_naive_8", "moving_average"]
    # without a usable season, the SPEC's seasonal_naive is naive-last under that name
    assert [f.name for f in baseline_forecasters([1], origins, classical=False)] == [
        "naive_last", "seasonal_naive", "moving_average"]


def test_baselines_run_through_the_forecaster_interface_on_the_models_origins():
    data = make_processed(make_series(400, season=12)["target"], horizon=3, seasons=[12])
    test = data.origins["test"]
    run = run_baselines(data, baseline_forecasters([12], test, classical=True), test,
                        fit_end=data.bounds.val_end)
    assert set(run.forecasts) == {"naive_last", "seasonal_naive", "moving_average", "auto_ets",
                                  "auto_arima", "auto_theta"} and not run.skipped
    assert sorted(run.seconds) == ["auto_arima", "auto_ets", "auto_theta"]
    np.testing.assert_array_equal(run.forecasts["naive_last"],
                                  naive_last(data.values, test, 3))
    assert all(f.shape == (len(test), 3) for f in run.forecasts.values())
