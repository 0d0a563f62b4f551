"""mstl_arima_x's regression: covariates with a spline basis, seasonally adjusted as the
target is, fitted on changes over the horizon before the ARIMA sees what is left."""

import numpy as np

from spline_lstm.data.covariates import Covariate
from spline_lstm.evaluation.covariate_effect import regression_fits
from spline_lstm.models.adjusted_regression import (
    AdjustedRegression,
    adjusted_regressors,
    regression_columns,
    spline_basis,
)
from spline_lstm.models.classical import JOINT, ON_CHANGES, MSTLForecaster
from tests.helpers import make_processed

HOURS = np.arange(24 * 7 * 10)  # ten weeks, hourly
WEEKDAY = (HOURS // 24) % 7 < 5


def _workday(holidays=(17, 38, 59)) -> np.ndarray:
    """1 on weekdays, 0 on weekends and on the given days (all weekdays)."""
    flag = WEEKDAY.astype(float)
    for day in holidays:
        assert WEEKDAY[day * 24]
        flag[day * 24:(day + 1) * 24] = 0.0
    return flag


def test_numeric_columns_get_hinges_at_their_fit_quartiles_and_flags_none():
    x = np.linspace(0.0, 10.0, 200)
    flag = (np.arange(200) % 2).astype(float)
    basis = spline_basis(np.column_stack([x, flag]), fit_end=100)  # fit span: 0..5
    assert basis.shape == (200, 2 + 3)
    np.testing.assert_array_equal(basis[:, :2], np.column_stack([x, flag]))
    knots = np.quantile(x[:100], [0.25, 0.5, 0.75])
    np.testing.assert_allclose(basis[:, 2:], np.maximum(x[:, None] - knots[None, :], 0.0))


def test_what_the_seasons_explain_is_left_out_and_a_holiday_is_what_is_left_of_a_flag():
    hour_sine = np.sin(2 * np.pi * HOURS / 24)
    workday = _workday()
    adjusted, keep = adjusted_regressors(np.column_stack([hour_sine, workday]),
                                         fit_end=24 * 7 * 8, seasons=[24, 168])
    assert keep.tolist() == [False, True]
    holiday = np.zeros(len(HOURS), bool)
    for day in (17, 38):  # inside the fit span
        holiday[day * 24:(day + 1) * 24] = True
    # raw, the flag is mostly the weekly profile; adjusted (the level kept), a weekday
    # holiday is what stands out
    rest = adjusted[~holiday & (HOURS < 24 * 7 * 8), 1]
    assert adjusted[holiday, 1].mean() < rest.mean() - 0.5
    assert rest.std() < 0.15


def test_coefficients_are_fitted_on_changes_over_the_horizon():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 2))
    level = np.cumsum(rng.normal(size=500))  # a wandering level the differences remove
    y = level + x @ np.array([2.0, -1.0])
    fitted = AdjustedRegression.fit(y[:400], x, horizon=1)
    np.testing.assert_allclose(fitted.coefficients, [2.0, -1.0], atol=0.15)
    np.testing.assert_allclose(fitted.part(x), x @ fitted.coefficients)
    # too few pairs of rows for the columns, or no columns: the covariates add nothing
    assert not AdjustedRegression.fit(y[:15], x, horizon=1).coefficients.any()
    empty = AdjustedRegression.fit(y, np.zeros((500, 0)), horizon=1)
    np.testing.assert_array_equal(empty.part(np.zeros((500, 0))), np.zeros(500))


def test_mstl_arima_with_a_workday_flag_forecasts_a_weekday_holiday():
    rng = np.random.default_rng(5)
    workday = _workday()
    daily = 3 * np.sin(2 * np.pi * HOURS / 24)
    # weekends and holidays alike: 3 lower
    target = 50 + daily - 3 * (1 - workday) + rng.normal(0, 0.3, len(HOURS))
    data = make_processed(target, horizon=24, seasons=[24, 168], lookback=48,
                          covariates=(Covariate("workday", "boolean", True, workday),))
    fit_end = 24 * 7 * 8
    columns = regression_columns(data.series[:, -1:], fit_end, [24, 168])
    assert columns.shape[1] == 1  # the flag, adjusted; it has no spline basis
    origin = np.array([59 * 24 - 1])  # the day before the last holiday, after the fit span
    truth = target[origin[0] + 1:origin[0] + 25]
    with_flag = MSTLForecaster("arima", [24, 168], exogenous=True).fit(data, fit_end=fit_end)
    without = MSTLForecaster("arima", [24, 168]).fit(data, fit_end=fit_end)
    assert with_flag.name == "mstl_arima_x"
    error_with = np.abs(with_flag.predict(data, origin)[0] - truth).mean()
    error_without = np.abs(without.predict(data, origin)[0] - truth).mean()
    assert error_with < 0.6 * error_without
    # the metrics' covariates section says how it fitted them (the plain model: nothing)
    assert with_flag.regression_fit in (JOINT, ON_CHANGES)
    assert regression_fits({"mstl_arima_x": with_flag, "mstl_arima": without}) == {
        "mstl_arima_x": with_flag.regression_fit}
    # a loaded model refits from its settings to the same forecast
    again = MSTLForecaster(**with_flag.settings())
    np.testing.assert_allclose(again.predict(data, origin), with_flag.predict(data, origin))


def test_the_regression_is_fitted_the_way_that_forecasts_the_end_of_the_fit_span_better():
    from spline_lstm.models.classical import (
        JOINT,
        ON_CHANGES,
        regression_fit_by_holdout,
    )

    rng = np.random.default_rng(7)
    n = 1200
    # a slowly moving driver (as temperature) read with hour-to-hour noise: one-step
    # differences of the column are mostly that noise, so the joint fit on differences
    # shrinks the coefficient; the changes over a day are mostly the driver
    daily = rng.normal(size=n // 24 + 1)
    driver = np.interp(np.arange(n) / 24, np.arange(len(daily)), daily)
    x = (driver + rng.normal(0, 0.3, n))[:, None]
    level = np.cumsum(rng.normal(0, 0.05, n))
    y = level + 2.0 * driver + rng.normal(0, 0.1, n)
    assert regression_fit_by_holdout(y, {JOINT: x, ON_CHANGES: x}, horizon=24) == ON_CHANGES
    # nothing left to fit on changes, or too short a span for the holdout: the joint fit
    assert regression_fit_by_holdout(y, {JOINT: x, ON_CHANGES: np.zeros((n, 0))},
                                     horizon=24) == JOINT
    assert regression_fit_by_holdout(y[:60], {JOINT: x, ON_CHANGES: x}, horizon=24) == JOINT


def test_the_holdout_is_the_last_two_fifths_of_the_fit_span_fitted_on_the_rows_before(
        monkeypatch):
    import spline_lstm.models.classical as classical

    calls, errors = [], {JOINT: 1.0}

    def holdout_error(adjusted, columns, horizon, how, start, origins):
        calls.append((how, start, int(origins[0]), int(origins[-1]), len(origins)))
        return errors[how]

    monkeypatch.setattr(classical, "_holdout_error", holdout_error)
    x = np.zeros((1200, 1))

    def chosen(on_changes: float) -> str:
        errors[ON_CHANGES] = on_changes
        return classical.regression_fit_by_holdout(np.zeros(1200),
                                                   {JOINT: x, ON_CHANGES: x}, horizon=24)

    # the fit on changes must be better by the margin: 3 % is, 1 % is not
    assert chosen(0.97) == ON_CHANGES
    assert chosen(0.99) == JOINT
    # each fit on the first 720 rows; 100 origins from the row before the holdout to H
    # before the span's end
    assert sorted(calls[:2]) == [(JOINT, 720, 719, 1200 - 24 - 1, 100),
                                 (ON_CHANGES, 720, 719, 1200 - 24 - 1, 100)]


def test_covariates_the_seasons_explain_are_fitted_jointly():
    values = 50 + 3 * np.sin(2 * np.pi * HOURS / 24) + \
        np.random.default_rng(2).normal(0, 0.3, len(HOURS))
    hour_of_day = (HOURS % 24).astype(float)  # a covariate with nothing past its season
    data = make_processed(values, horizon=6, seasons=[24, 168], lookback=48,
                          covariates=(Covariate("hour", "numeric", True, hour_of_day),))
    fit_end = 24 * 7 * 8
    assert regression_columns(data.series[:, -1:], fit_end, [24, 168]).shape[1] == 0
    model = MSTLForecaster("arima", [24, 168], exogenous=True).fit(data, fit_end=fit_end)
    assert model.regression_fit == JOINT  # statsforecast's own, on the column as it is
    forecast = model.predict(data, np.array([fit_end + 10, fit_end + 20]))
    assert forecast.shape == (2, 6) and np.isfinite(forecast).all()
