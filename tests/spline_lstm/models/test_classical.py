import numpy as np
import pytest

from spline_lstm.models.classical import classical_forecasts
from tests.helpers import make_series


@pytest.mark.parametrize("seasons,expected", [
    ([12], {"auto_ets", "auto_arima", "auto_theta"}),
    ([24, 168], {"auto_theta", "mstl_ets", "mstl_arima"}),
])
def test_each_model_forecasts_every_origin_and_step(seasons, expected):
    values = make_series(600, season=seasons[0])["target"].to_numpy()
    origins = np.arange(480, 590, 7)
    result = classical_forecasts(values, 480, origins, 6, seasons)
    assert set(result.forecasts) == expected and not result.skipped
    for forecast in result.forecasts.values():
        assert forecast.shape == (len(origins), 6) and np.isfinite(forecast).all()
    naive_mae = np.abs(values[origins + 1] - values[origins]).mean()
    for name, forecast in result.forecasts.items():  # sane, not just finite
        assert np.abs(forecast[:, 0] - values[origins + 1]).mean() < 3 * naive_mae, name


@pytest.mark.parametrize("seasons", [[12], [24, 168]])
def test_a_forecast_uses_nothing_after_its_origin(seasons):
    values = make_series(600, season=seasons[0])["target"].to_numpy()
    origins = np.array([500, 540])
    before = classical_forecasts(values, 480, origins, 4, seasons)
    later = values.copy()
    later[541:] += 50.0
    after = classical_forecasts(later, 480, origins, 4, seasons)
    for name in before.forecasts:
        np.testing.assert_allclose(after.forecasts[name], before.forecasts[name], rtol=1e-9)
