"""Classical forecasters from statsforecast behind the Forecaster interface.

Fitted once (on points before ``fit_end``) and rolled forward on actuals: parameters
fixed, state updated at every origin. Which models suit a series depends on its season,
because some do not scale (``classical_forecasters``):
- season <= 12: AutoETS, AutoARIMA and AutoTheta, all seasonal;
- longer or several seasons: MSTL (ETS or ARIMA on the seasonally adjusted series) and
  AutoTheta on the primary season. Seasonal AutoARIMA does not finish in minutes for
  seasons of 48 and more, and AutoETS silently drops seasons above 24.

MSTL's own ``forward`` re-decomposes the whole history at every origin (over a second
each on 4,000 points); here the decomposition is refreshed once per primary season of
origins (every few seasons when there are many origins: ``refresh_interval``) and, in
between, its seasonal components are extended periodically. Every
forecast still uses only data up to its origin. Decompositions are memoised by content
(``seasonal_adjust.mstl_seasonal``): the two MSTL forecasters of a run, its backtest windows
and the seasonal adjustment share them.

With covariates known in advance (calendar, planned values, a weather forecast), AutoARIMA
(short seasons) and MSTL's ARIMA trend model (long ones) also run with them as exogenous
regressors (``auto_arima_x``, ``mstl_arima_x``; statsforecast's ``X`` / ``X_future``),
so the network is compared with classical models given the same information. They read
the model-space columns (scaled on train), and over the forward forecast's horizon the
future rows the run was given. Past-observed covariates have no future values, so no
classical model takes them. ``auto_arima_x`` estimates the regression with ARIMA errors
jointly (statsforecast's ``X`` / ``X_future``). ``mstl_arima_x`` either does the same
with the covariates as they are, or relates the seasonally adjusted target to the
seasonally adjusted covariates with a linear-spline basis over changes across the
horizon, the ARIMA modelling what is left (``adjusted_regression``): whichever forecasts
the end of the fit span better (``regression_fit_by_holdout``; jointly, every coefficient
came out near zero one day ahead on half-hourly demand).

Every model without regressors is fitted and rolled forward in a unit of the series'
own (``step_unit``: the mean absolute one-step change of what it is fitted on), and its
forecasts and intervals are scaled back. AutoARIMA's and AutoTheta's optimisers are not
scale-free: a weekly series in micro-units was forecast 27 % worse one step ahead by
AutoARIMA, and a quarterly one in units 1e9 times larger moved AutoTheta's error by
12 %. In the series' own unit a forecast no longer depends on the unit the data was
recorded in; on the benchmark series at their own scales the one-step errors moved by
under 3 % (geometric mean 0.999 of the old ones). ``auto_arima_x``, given
regressors, stays in the data's unit for now: in its own unit the joint ``mstl_arima_x``
of the time on elecdemand one day ahead went from test MASE 0.927 to 1.052, which an
offline replication did not reproduce (benchmarks/results/accuracy_covariates.md).
``mstl_arima_x`` fitted on changes models a single series, the adjusted target less
the covariates' part, in that series' own unit as the univariate models do.

These models keep no weights on disk: ``save`` stores their settings and fit span, and a
loaded one refits on that span of the series it is given (statsforecast fits are
deterministic).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from spline_lstm.models.adjusted_regression import (
    AdjustedRegression,
    regression_columns,
)
from spline_lstm.models.base import Capabilities, Forecaster, fit_end_of
from spline_lstm.shared_quiet import warnings_ignored
from spline_lstm.transforms.seasonal_adjust import mstl_seasonal

SHORT_SEASON = 12
STATS_MODELS = ("auto_ets", "auto_arima", "auto_theta")
MSTL_TRENDS = ("ets", "arima")
# A model given the run's known-in-advance covariates is named as the one without them,
# with this suffix (``auto_arima_x``, ``mstl_arima_x``).
EXOGENOUS_SUFFIX = "_x"
APPROXIMATE_ARIMA_ABOVE = 1000  # fit points; see _search_options
MAX_DECOMPOSITIONS_PER_CALL = 100  # MSTL forecasts; see refresh_interval
THETA_HISTORY_SEASONS, THETA_MIN_HISTORY = 100, 1000  # see StatsForecaster._history_start

# The fits below silence statsforecast inside ``warnings_ignored``, which threads share
# (backtest windows fit in parallel). With ``warnings.catch_warnings`` one thread leaving
# restored the filters while another was inside, and a scipy optimiser's convergence note
# reached the console; that note also stays ignored process-wide.
warnings.filterwarnings("ignore", message="The line search algorithm did not converge")


def step_unit(values: np.ndarray) -> float:
    """The mean absolute one-step change of ``values`` (1.0 when there is none): the unit a
    classical model is fitted in. Equivariant (c x values -> c x the unit), so the model
    sees the same numbers whatever unit the series was recorded in."""
    steps = np.abs(np.diff(np.asarray(values, dtype=np.float64)))
    steps = steps[np.isfinite(steps)]
    unit = float(steps.mean()) if steps.size else 0.0
    return unit if math.isfinite(unit) and unit > 0 else 1.0


def _seasons_over_one(data, seasons: list[int] | None) -> list[int]:
    return [m for m in (seasons or data.preprocessor.seasons) if m > 1]


def known_columns(data, start: int, stop: int) -> np.ndarray:
    """float64 [stop - start, K]: the known-in-advance columns of rows start..stop-1, rows
    past the series from ``data.future`` (25 when the run was given none)."""
    k, n = data.n_future, len(data.series)
    inside = np.asarray(data.series[start:min(stop, n), -k:], dtype=np.float64)
    if stop <= n:
        return inside
    return np.concatenate([inside, np.asarray(data.rows_after_series()[:stop - n, -k:],
                                              dtype=np.float64)])


class _Classical(Forecaster):
    family = "classical"
    capabilities = Capabilities(probabilistic=True)

    def predict(self, data, origins: np.ndarray) -> np.ndarray:
        return self._forward(data, np.asarray(origins), [])[0]

    def predict_interval(self, data, origins: np.ndarray, levels: list[float]
                         ) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
        """(forecasts [N, H], level -> (lo, hi) [N, H]): statsforecast's own intervals."""
        return self._forward(data, np.asarray(origins), list(levels))

    def __init__(self, name: str, seasons: list[int] | None = None) -> None:
        super().__init__(name)
        self.seasons = list(seasons) if seasons else None
        self.fit_end: int | None = None
        self.exogenous = False
        self._unit = 1.0  # what the model's inputs were divided by (see the module doc)

    def _set_unit(self, fitted_on: np.ndarray) -> None:
        """The unit the model is fitted and rolled forward in: the data's own for a model
        given regressors, else ``step_unit`` of what it is fitted on."""
        self._unit = 1.0 if self.exogenous else step_unit(fitted_on)

    def _ensure_fitted(self, data) -> None:
        if not self._is_fitted():  # loaded from its settings: refit on the same span
            self.fit(data, fit_end=self.fit_end)


def _search_options(model: str, n_fit: int) -> dict:
    """AutoARIMA searches its orders with the CSS approximation on long fit spans.

    The exact search fits every candidate order by maximum likelihood, and its cost grows
    fast and unevenly with the span and the season: on monthly sunspots 1.2 s at 1,000
    points, 11 s at 1,400 and 103 s at 2,256 (1.1 s approximated), paid again by every
    backtest window. R's auto.arima approximates above 150 points; here only above
    ``APPROXIMATE_ARIMA_ABOVE``, so shorter series keep the exact search.
    """
    if model == "auto_arima" and n_fit > APPROXIMATE_ARIMA_ABOVE:
        return {"approximation": True}
    return {}


class StatsForecaster(_Classical):
    """AutoETS, AutoARIMA or AutoTheta with the primary season (1 when there is none)."""

    def __init__(self, model: str, seasons: list[int] | None = None,
                 fit_end: int | None = None, exogenous: bool = False) -> None:
        if model not in STATS_MODELS:
            raise ValueError(f"unknown statsforecast model {model!r}; use one of {STATS_MODELS}")
        if exogenous and model != "auto_arima":
            raise ValueError("only auto_arima takes exogenous regressors")
        super().__init__(model + (EXOGENOUS_SUFFIX if exogenous else ""), seasons)
        self.model, self.exogenous = model, exogenous
        self.fit_end = fit_end
        self._model = None

    def _is_fitted(self) -> bool:
        return self._model is not None

    def fit(self, data, *, fit_end: int | None = None) -> "StatsForecaster":
        from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

        seasons = _seasons_over_one(data, self.seasons)
        m = seasons[0] if seasons else 1
        self.fit_end = fit_end_of(data, fit_end)
        model = {"auto_ets": AutoETS, "auto_arima": AutoARIMA, "auto_theta": AutoTheta}[
            self.model](season_length=m, **_search_options(self.model, self.fit_end))
        exog = {"X": known_columns(data, 0, self.fit_end)} if self.exogenous else {}
        fitted_on = np.asarray(data.values[:self.fit_end], dtype=np.float64)
        self._set_unit(fitted_on)
        with warnings_ignored():
            model.fit(fitted_on / self._unit, **exog)
        self._model = model
        return self

    def _forward(self, data, origins: np.ndarray, levels: list[float]):
        self._ensure_fitted(data)
        horizon, values = data.preprocessor.horizon, data.values
        outputs = _Outputs(len(origins), horizon, levels)
        with warnings_ignored():
            for i, o in enumerate(origins):
                start = self._history_start(o, data)
                outputs.put(i, self._model.forward(y=values[start:o + 1] / self._unit,
                                                   h=horizon,
                                                   **_exog(self.exogenous, data, o, horizon),
                                                   **({"level": levels} if levels else {})),
                            unit=self._unit)
        return outputs.result()

    def _history_start(self, origin: int, data) -> int:
        """Where a forecast from ``origin`` starts reading the series.

        AutoTheta's forward decomposes and smooths the whole history it is given (46 ms per
        origin at 7,000 hourly points: 83 s over a year's test split), so it reads the
        latest ``THETA_HISTORY_SEASONS`` seasons (at least ``THETA_MIN_HISTORY`` points):
        9x faster there, and its mean absolute error moved by under 1 % on monthly sunspots
        and daily stock prices (either way) and on hourly demand one day ahead, 5 % lower one
        hour ahead. The other models read everything (their forward is cheap).
        """
        if self.model != "auto_theta":
            return 0
        seasons = _seasons_over_one(data, self.seasons)
        keep = max(THETA_HISTORY_SEASONS * (seasons[0] if seasons else 1), THETA_MIN_HISTORY)
        return max(0, origin + 1 - keep)

    def settings(self) -> dict:
        return {"model": self.model, "seasons": self.seasons, "fit_end": self.fit_end,
                **({"exogenous": True} if self.exogenous else {})}


def _exog(exogenous: bool, data, origin: int, horizon: int) -> dict:
    """statsforecast's X (up to the origin) and X_future (the horizon after it)."""
    if not exogenous:
        return {}
    return {"X": known_columns(data, 0, origin + 1),
            "X_future": known_columns(data, origin + 1, origin + 1 + horizon)}


def _prefix_seasonal(values: np.ndarray, end: int, seasons: list[int],
                     length: int) -> np.ndarray:
    """``mstl_seasonal(values[:end], seasons, length)``: memoised by content, so the two
    MSTL forecasters of a run, and the backtest windows of the same series, share it."""
    return mstl_seasonal(np.ascontiguousarray(values[:end], dtype=np.float64), seasons, length)


def refresh_interval(season: int, n_origins: int) -> int:
    """Origins between MSTL's decompositions when forecasting from ``n_origins`` origins:
    one primary season, or as many whole seasons as keep the decompositions of one call
    to at most ``MAX_DECOMPOSITIONS_PER_CALL``.

    Each decomposition covers the whole history before its origin (0.15 s at 7,000 hourly
    points; 1.4 s before MSTL used R's loess jumps, when the bound was 20), so a year of
    hourly data re-decomposed every day of its 1,752 test origins spends 11 s in one model
    (100 s then); between refreshes the seasonal components are extended periodically, as
    the seasonal adjustment does between its own (every few seasons on long series). At
    20 that year refreshed every 4 days: MASE 0.775 (mstl_ets) and 0.619 (mstl_arima)
    against 0.761 and 0.612 daily, for 10 s of its 3-minute run.
    """
    return season * max(1, math.ceil(n_origins / MAX_DECOMPOSITIONS_PER_CALL / season))


JOINT, ON_CHANGES = "jointly", "on changes over the horizon"  # as the report says them
# The end of the fit span where mstl_arima_x compares its two fits, each fitted on the
# rows before it. The last fifth alone decided differently in a run's backtest windows
# and its final fit (elecdemand one day ahead, March to May: the joint fit, 6 % worse on
# the test split than without covariates, where the fit on changes was 6 % better). The
# last two fifths chose the fit on changes there, as the backtest windows had, and chose
# as the last fifth did in three other periods of the year, at the same two ARIMA fits
# (on three fifths of the span instead of four).
HOLDOUT_SHARE = 0.4
HOLDOUT_ORIGINS = 100  # at most, spread evenly over it
MIN_HOLDOUT_ORIGINS = 10  # fewer: the joint fit, statsforecast's own
# The fit on changes must forecast the holdout this much better than the joint fit,
# statsforecast's own, to be chosen (as a model must beat the default of the model choice,
# selection.families.CHOICE_MARGIN). Half an hour ahead on winter demand the two were
# 1 % apart on the holdout, and the fit on changes was then 6 % worse on the test split.
ON_CHANGES_MARGIN = 0.02


def _fit_arima_with(adjusted: np.ndarray, columns: np.ndarray, horizon: int, how: str):
    """(AutoARIMA, the regression fitted on changes or None, the unit) for ``adjusted``
    [n] with covariate ``columns`` [>= n, C] (``JOINT``: the known columns as they are;
    ``ON_CHANGES``: ``regression_columns``), their coefficients fitted ``how``."""
    from statsforecast.models import AutoARIMA

    n, model = len(adjusted), AutoARIMA()
    with warnings_ignored():
        if how == JOINT:  # statsforecast's regression with ARIMA errors, the data's unit
            model.fit(adjusted, X=columns[:n])
            return model, None, 1.0
        regression = AdjustedRegression.fit(adjusted, columns, horizon)
        left = adjusted - regression.part(columns[:n])
        unit = step_unit(left)
        model.fit(left / unit)
    return model, regression, unit


def _holdout_error(adjusted: np.ndarray, columns: np.ndarray, horizon: int, how: str,
                   start: int, origins: np.ndarray) -> float:
    """Mean absolute error ``horizon`` steps ahead from ``origins``, of the fit ``how`` on
    ``adjusted[:start]``."""
    n = int(origins[-1]) + 1 + horizon
    model, regression, unit = _fit_arima_with(adjusted[:start], columns, horizon, how)
    part = regression.part(columns[:n]) if regression is not None else np.zeros(n)
    total = 0.0
    with warnings_ignored():
        for origin in origins:
            ahead = slice(origin + 1, origin + 1 + horizon)
            joint = {"X": columns[:origin + 1], "X_future": columns[ahead]} \
                if regression is None else {}
            forecast = np.asarray(model.forward(y=(adjusted[:origin + 1] - part[:origin + 1])
                                                / unit, h=horizon, **joint)["mean"]) * unit
            total += float(np.abs(adjusted[ahead] - part[ahead] - forecast).mean())
    return total / len(origins)


def regression_fit_by_holdout(adjusted: np.ndarray, columns: dict[str, np.ndarray],
                              horizon: int) -> str:
    """How ``mstl_arima_x`` fits its covariates' coefficients: ``JOINT`` or
    ``ON_CHANGES`` (``columns``: each one's covariate columns), whichever forecasts the
    last ``HOLDOUT_SHARE`` of the fit span better ``horizon`` steps ahead, each fitted on
    the part before it (the fit on changes by ``ON_CHANGES_MARGIN`` at least).

    The joint fit (statsforecast's, on the known columns as they are) maximises the
    one-step likelihood: right one step ahead, where the ARIMA's own dynamics already
    carry most of what the covariates say (elecdemand one half-hour ahead, test MASE:
    0.067 joint, as without covariates; 0.075 always on changes), and it shrinks effects
    that show over longer horizons to nearly nothing (one day ahead: 0.927 joint, 0.647
    on changes). Both are fitted on the fit span only, so the choice never sees a later
    row.
    """
    if columns[ON_CHANGES].shape[1] == 0:
        return JOINT
    n = len(adjusted)
    start = n - int(n * HOLDOUT_SHARE)
    origins = np.arange(start - 1, n - horizon)
    if len(origins) < MIN_HOLDOUT_ORIGINS:
        return JOINT
    origins = origins[np.linspace(0, len(origins) - 1, min(len(origins), HOLDOUT_ORIGINS))
                      .astype(int)]
    errors = {how: _holdout_error(adjusted, columns[how], horizon, how, start, origins)
              for how in (JOINT, ON_CHANGES)}
    return ON_CHANGES if errors[ON_CHANGES] < errors[JOINT] * (1 - ON_CHANGES_MARGIN) \
        else JOINT


class MSTLForecaster(_Classical):
    """A non-seasonal AutoETS ("ets") or AutoARIMA ("arima") on the MSTL-adjusted series;
    ``exogenous``: the ARIMA with the covariates, or on what is left of the series after
    their part (``adjusted_regression``), whichever ``regression_fit_by_holdout`` picks."""

    def __init__(self, trend: str, seasons: list[int] | None = None,
                 fit_end: int | None = None, exogenous: bool = False) -> None:
        if trend not in MSTL_TRENDS:
            raise ValueError(f"unknown MSTL trend model {trend!r}; use one of {MSTL_TRENDS}")
        if exogenous and trend != "arima":
            raise ValueError("only the arima trend takes exogenous regressors")
        super().__init__(f"mstl_{trend}{EXOGENOUS_SUFFIX if exogenous else ''}", seasons)
        self.trend, self.fit_end, self.exogenous = trend, fit_end, exogenous
        self._model = None
        # exogenous: how the covariates' coefficients were fitted (``regression_fit_by_
        # holdout``) and, fitted on changes, the regression the ARIMA runs beside
        self.regression_fit: str | None = None
        self._regression: AdjustedRegression | None = None

    def _is_fitted(self) -> bool:
        return self._model is not None

    def fit(self, data, *, fit_end: int | None = None) -> "MSTLForecaster":
        from statsforecast.models import AutoARIMA, AutoETS

        self.fit_end = fit_end_of(data, fit_end)
        seasons, values = _seasons_over_one(data, self.seasons), data.values
        seasonal = _prefix_seasonal(values, self.fit_end, seasons,
                                    self.fit_end + data.preprocessor.horizon)
        adjusted = values[:self.fit_end] - seasonal[:self.fit_end]
        if self.exogenous:
            columns = {how: self._covariate_columns(data, self.fit_end, how)
                       for how in (JOINT, ON_CHANGES)}
            self.regression_fit = regression_fit_by_holdout(adjusted, columns,
                                                            data.preprocessor.horizon)
            self._model, self._regression, self._unit = _fit_arima_with(
                adjusted, columns[self.regression_fit], data.preprocessor.horizon,
                self.regression_fit)
            return self
        model = AutoETS(model="ZZN") if self.trend == "ets" else AutoARIMA()
        self._set_unit(adjusted)
        with warnings_ignored():
            model.fit(adjusted / self._unit)
        self._model = model
        return self

    def _covariate_columns(self, data, stop: int, how: str) -> np.ndarray:
        """The covariate columns of rows 0..stop-1 that a fit ``how`` reads: the known
        columns as they are (``JOINT``) or ``adjusted_regression``'s."""
        known = known_columns(data, 0, stop)
        if how == JOINT:
            return known
        return regression_columns(known, self.fit_end, _seasons_over_one(data, self.seasons))

    def _forward(self, data, origins: np.ndarray, levels: list[float]):
        self._ensure_fitted(data)
        seasons, values = _seasons_over_one(data, self.seasons), data.values
        horizon = data.preprocessor.horizon
        outputs = _Outputs(len(origins), horizon, levels)
        refresh_every = refresh_interval(seasons[0], len(origins))
        seasonal, decomposed_at = None, None
        stop = int(origins[-1]) + horizon + 1 if len(origins) else 0
        columns = self._covariate_columns(data, stop, self.regression_fit) \
            if self.exogenous and stop else None
        # fitted on changes: what the covariates add, row by row (0 without them)
        covariates = self._regression.part(columns) if self._regression is not None \
            and columns is not None else np.zeros(stop)
        with warnings_ignored():
            for i, origin in enumerate(origins):
                if decomposed_at is None or origin - decomposed_at >= refresh_every:
                    decomposed_at = origin
                    seasonal = _prefix_seasonal(values, origin + 1, seasons, stop)
                adjusted = values[:origin + 1] - seasonal[:origin + 1] - \
                    covariates[:origin + 1]
                ahead = slice(origin + 1, origin + 1 + horizon)
                joint = {} if self._regression is not None or columns is None else {
                    "X": columns[:origin + 1], "X_future": columns[ahead]}
                outputs.put(i, self._model.forward(y=adjusted / self._unit, h=horizon, **joint,
                                                   **({"level": levels} if levels else {})),
                            unit=self._unit, shift=seasonal[ahead] + covariates[ahead])
        return outputs.result()

    def settings(self) -> dict:
        return {"trend": self.trend, "seasons": self.seasons, "fit_end": self.fit_end,
                **({"exogenous": True} if self.exogenous else {})}


class _Outputs:
    """Collects statsforecast ``forward`` outputs (mean, lo-L, hi-L) origin by origin."""

    def __init__(self, n: int, horizon: int, levels: list[float]) -> None:
        self.levels = levels
        self.mean = np.empty((n, horizon))
        self.bounds = {level: (np.empty((n, horizon)), np.empty((n, horizon)))
                       for level in levels}

    def put(self, i: int, forward: dict, unit: float = 1.0,
            shift: np.ndarray | float = 0.0) -> None:
        """Store one origin's output of a model fitted in ``unit``s, plus ``shift`` (the
        seasonal components MSTL adds back) in the series' units."""
        self.mean[i] = np.asarray(forward["mean"]) * unit + shift
        for level, (lo, hi) in self.bounds.items():  # keyed by the level as given
            lo[i] = np.asarray(forward[f"lo-{level}"]) * unit + shift
            hi[i] = np.asarray(forward[f"hi-{level}"]) * unit + shift

    def result(self) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
        return self.mean, self.bounds


def classical_forecasters(seasons: list[int], exogenous: bool = False) -> list[Forecaster]:
    """The classical models that suit ``seasons`` (see the module docstring), unfitted;
    exogenous: also the ones given the covariates known in advance."""
    seasons = [m for m in seasons if m > 1]
    if not seasons or (len(seasons) == 1 and seasons[0] <= SHORT_SEASON):
        return [StatsForecaster(name, seasons) for name in STATS_MODELS] + (
            [StatsForecaster("auto_arima", seasons, exogenous=True)] if exogenous else [])
    return [StatsForecaster("auto_theta", seasons),
            *(MSTLForecaster(trend, seasons) for trend in MSTL_TRENDS)] + (
            [MSTLForecaster("arima", seasons, exogenous=True)] if exogenous else [])
