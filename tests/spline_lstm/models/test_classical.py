"""Classical forecasters: every origin and step, sane, and blind to what follows an origin."""

import shutil

import numpy as np
import pytest

from spline_lstm.models.classical import classical_forecasters
from spline_lstm.models.registry import load_forecaster
from tests.helpers import make_processed, make_series


def _fit_predict(values, seasons, origins, horizon=6, fit_end=480):
    data = make_processed(values, horizon=horizon, seasons=seasons, lookback=48)
    return {f.name: f.fit(data, fit_end=fit_end).predict(data, origins)
            for f in classical_forecasters(seasons)}, data


@pytest.mark.parametrize("seasons,expected", [
    ([12], {"auto_ets", "auto_arima", "auto_theta"}),
    ([24, 168], {"auto_theta", "mstl_ets", "mstl_arima"}),
])
def test_each_model_forecasts_every_origin_and_step(seasons, expected):
    values = make_series(600, season=seasons[0])["target"].to_numpy()
    origins = np.arange(480, 590, 7)
    forecasts, _ = _fit_predict(values, seasons, origins)
    assert set(forecasts) == expected
    for forecast in forecasts.values():
        assert forecast.shape == (len(origins), 6) and np.isfinite(forecast).all()
    naive_mae = np.abs(values[origins + 1] - values[origins]).mean()
    for name, forecast in forecasts.items():  # sane, not just finite
        assert np.abs(forecast[:, 0] - values[origins + 1]).mean() < 3 * naive_mae, name


@pytest.mark.parametrize("seasons", [[12], [24, 168]])
def test_a_forecast_uses_nothing_after_its_origin(seasons):
    values = make_series(600, season=seasons[0])["target"].to_numpy()
    origins = np.array([500, 540])
    before, _ = _fit_predict(values, seasons, origins, horizon=4)
    later = values.copy()
    later[541:] += 50.0
    after, _ = _fit_predict(later, seasons, origins, horizon=4)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-9)


def test_a_saved_classical_forecaster_refits_on_load_to_the_same_forecasts(tmp_path):
    values = make_series(600, season=12)["target"].to_numpy()
    data = make_processed(values, horizon=4, seasons=[12], lookback=48)
    fitted = classical_forecasters([12])[1].fit(data, fit_end=480)  # auto_arima
    fitted.save(tmp_path / "saved")
    loaded = load_forecaster(tmp_path / "saved")
    shutil.rmtree(tmp_path / "saved")  # loaded whole: serving removes a version's download
    assert (loaded.name, loaded.fit_end) == ("auto_arima", 480)
    origins = data.origins["test"]
    np.testing.assert_array_equal(loaded.predict(data, origins), fitted.predict(data, origins))


@pytest.mark.parametrize("seasons", [[12], [24, 168]])
def test_forecasts_and_intervals_do_not_depend_on_the_unit_of_the_series(seasons):
    # Fitted on the raw values, forecasts here moved by up to 2.4 %; in the series' own
    # unit only the optimiser's tolerance is left (AutoARIMA on MSTL: 6e-5)
    values = make_series(600, season=seasons[0])["target"].to_numpy()
    origins = np.arange(480, 590, 11)
    results = {}
    for factor in (1.0, 1e-6, 1e9):
        data = make_processed(values * factor, horizon=4, seasons=seasons, lookback=48)
        results[factor] = {f.name: f.fit(data, fit_end=480).predict_interval(
            data, origins, [80]) for f in classical_forecasters(seasons)}
    for factor in (1e-6, 1e9):
        for name, (mean, bounds) in results[factor].items():
            base_mean, base_bounds = results[1.0][name]
            np.testing.assert_allclose(mean / factor, base_mean, rtol=1e-3, err_msg=name)
            for got, want in zip(bounds[80], base_bounds[80]):
                np.testing.assert_allclose(got / factor, want, rtol=1e-3, err_msg=name)


def test_the_step_unit_scales_with_the_series_and_is_never_zero():
    from spline_lstm.models.classical import step_unit

    assert step_unit(np.array([1.0, 3.0, 2.0])) == pytest.approx(1.5)
    assert step_unit(np.array([1.0, 3.0, 2.0]) * 1e-7) == pytest.approx(1.5e-7)
    assert step_unit(np.full(5, 4.0)) == 1.0 and step_unit(np.array([2.0])) == 1.0


def test_autoarima_approximates_its_search_only_on_long_fit_spans():
    from spline_lstm.models.classical import APPROXIMATE_ARIMA_ABOVE, StatsForecaster

    values = make_series(APPROXIMATE_ARIMA_ABOVE + 60, season=12)["target"].to_numpy()
    data = make_processed(values, horizon=1, seasons=[12], lookback=24)
    short = StatsForecaster("auto_arima", [12]).fit(data, fit_end=APPROXIMATE_ARIMA_ABOVE)
    long = StatsForecaster("auto_arima", [12]).fit(data, fit_end=APPROXIMATE_ARIMA_ABOVE + 1)
    assert short._model.approximation is False and long._model.approximation is True
    theta = StatsForecaster("auto_theta", [12]).fit(data, fit_end=APPROXIMATE_ARIMA_ABOVE + 1)
    assert not hasattr(theta._model, "approximation")


def test_mstl_decompositions_per_call_are_bounded_on_long_blocks(monkeypatch):
    import spline_lstm.models.classical as classical

    # a block of origins up to one season per decomposition keeps one per season
    assert classical.refresh_interval(24, 240) == 24
    assert classical.refresh_interval(48, 48 * classical.MAX_DECOMPOSITIONS_PER_CALL) == 48
    # a longer one: whole seasons, never more than the bound
    for n in (481, 1752, 10_000):
        every = classical.refresh_interval(24, n)
        assert every % 24 == 0 and -(-n // every) <= classical.MAX_DECOMPOSITIONS_PER_CALL

    values = make_series(900, season=24)["target"].to_numpy()
    data = make_processed(values, horizon=2, seasons=[24, 168], lookback=48)
    calls = []
    real = classical.mstl_seasonal
    monkeypatch.setattr(classical, "mstl_seasonal",
                        lambda history, *a: calls.append(len(history)) or real(history, *a))
    monkeypatch.setattr(classical, "MAX_DECOMPOSITIONS_PER_CALL", 3)
    origins = np.arange(600, 890)  # 290 origins: 13 seasons of 24, refreshed every 5
    model = classical.MSTLForecaster("ets", [24, 168]).fit(data, fit_end=600)
    calls.clear()
    forecast = model.predict(data, origins)
    assert len(calls) == 3 and np.isfinite(forecast).all()
    assert calls == [601, 601 + 120, 601 + 240]  # each ends at its own origin


def test_autotheta_forecasts_from_its_latest_seasons_only():
    import spline_lstm.models.classical as classical

    keep = classical.THETA_HISTORY_SEASONS * 12
    values = make_series(keep + 200, season=12)["target"].to_numpy()
    data = make_processed(values, horizon=3, seasons=[12], lookback=24)
    theta = classical.StatsForecaster("auto_theta", [12]).fit(data, fit_end=keep - 100)
    late, early = keep + 150, keep - 50
    forecast = theta.predict(data, np.array([early, late]))
    unit = theta._unit  # the model works in the series' own unit (step_unit)

    def forward(y):
        return theta._model.forward(y=y / unit, h=3)["mean"] * unit

    alone, whole = forward(values[late + 1 - keep:late + 1]), forward(values[:early + 1])
    np.testing.assert_allclose(forecast, np.stack([whole, alone]))
    assert not np.allclose(alone, forward(values[:late + 1]))
    arima = classical.StatsForecaster("auto_arima", [12])
    assert arima._history_start(late, data) == 0


def test_the_optimisers_convergence_note_stays_off_the_console_outside_the_fits():
    # backtest windows fit in threads, where catch_warnings() cannot be relied on; a fresh
    # interpreter, because pytest resets the filters a module adds while it is collected
    import subprocess
    import sys
    from pathlib import Path

    code = ("import warnings; warnings.simplefilter('default'); "
            "import spline_lstm.models.classical; "
            "warnings.warn('The line search algorithm did not converge', RuntimeWarning)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], timeout=120)
    assert proc.returncode == 0 and "line search" not in proc.stderr, proc.stderr[-2000:]
