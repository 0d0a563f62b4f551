"""Classical baselines from statsforecast, fitted on train+val and rolled forward over
the test split on actuals (parameters fixed, state updated at every origin).

Which models run depends on the season, because some do not scale:
- season <= 12: AutoETS, AutoARIMA and AutoTheta, all seasonal;
- longer or several seasons: MSTL (ETS or ARIMA on the seasonally adjusted series) and
  AutoTheta on the primary season. Seasonal AutoARIMA does not finish in minutes for
  seasons of 48 and more, and AutoETS silently drops seasons above 24.

MSTL's own ``forward`` re-decomposes the whole history at every origin (over a second
each on 4,000 points); here the decomposition is refreshed once per primary season of
origins and, in between, its seasonal components are extended periodically. Every
forecast still uses only data up to its origin.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from spline_lstm.transforms.seasonal_adjust import mstl_seasonal

SHORT_SEASON = 12


@dataclass(frozen=True)
class ClassicalResult:
    forecasts: dict[str, np.ndarray]  # name -> [N, H], original units
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why


def classical_forecasts(values: np.ndarray, fit_end: int, origins: np.ndarray, horizon: int,
                        seasons: list[int]) -> ClassicalResult:
    """Forecasts [N, H] of each classical model from every origin (all > fit_end - 2)."""
    seasons = [m for m in seasons if m > 1]
    history = np.asarray(values[:fit_end], dtype=np.float64)
    forecasts, seconds, skipped = {}, {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not seasons or (len(seasons) == 1 and seasons[0] <= SHORT_SEASON):
            m = seasons[0] if seasons else 1
            from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

            for name, model in (("auto_ets", AutoETS(season_length=m)),
                                ("auto_arima", AutoARIMA(season_length=m)),
                                ("auto_theta", AutoTheta(season_length=m))):
                _run(name, skipped, seconds, forecasts,
                     lambda model=model: _rolled(model, history, values, origins, horizon))
        else:
            from statsforecast.models import AutoTheta

            _run("auto_theta", skipped, seconds, forecasts, lambda: _rolled(
                AutoTheta(season_length=seasons[0]), history, values, origins, horizon))
            _run("mstl", skipped, seconds, forecasts,
                 lambda: _rolled_mstl(values, fit_end, origins, horizon, seasons))
    mstl = forecasts.pop("mstl", None)
    if mstl is not None:
        forecasts.update(mstl)
    return ClassicalResult(forecasts=forecasts, seconds=seconds, skipped=skipped)


def _run(name, skipped, seconds, forecasts, compute) -> None:
    start = time.perf_counter()
    try:
        forecasts[name] = compute()
    except Exception as exc:  # noqa: BLE001 - a baseline that fails is reported, not fatal
        skipped[name] = f"{type(exc).__name__}: {exc}"[:300]
        return
    seconds[name] = round(time.perf_counter() - start, 2)


def _rolled(model, history: np.ndarray, values: np.ndarray, origins: np.ndarray,
            horizon: int) -> np.ndarray:
    model.fit(history)
    return np.stack([model.forward(y=values[:o + 1], h=horizon)["mean"] for o in origins])


def _rolled_mstl(values: np.ndarray, fit_end: int, origins: np.ndarray, horizon: int,
                 seasons: list[int]) -> dict[str, np.ndarray]:
    """MSTL + AutoETS and MSTL + AutoARIMA (non-seasonal) on the adjusted series."""
    from statsforecast.models import AutoARIMA, AutoETS

    trends = {"mstl_ets": AutoETS(model="ZZN"), "mstl_arima": AutoARIMA()}
    seasonal_fit = mstl_seasonal(values[:fit_end], seasons, fit_end + horizon)
    for model in trends.values():
        model.fit(values[:fit_end] - seasonal_fit[:fit_end])
    out = {name: np.empty((len(origins), horizon)) for name in trends}
    refresh_every = seasons[0]
    seasonal, decomposed_at = None, None
    for i, origin in enumerate(origins):
        if decomposed_at is None or origin - decomposed_at >= refresh_every:
            decomposed_at = origin
            seasonal = mstl_seasonal(values[:origin + 1], seasons,
                                     int(origins[-1]) + horizon + 1)
        adjusted = values[:origin + 1] - seasonal[:origin + 1]
        future = seasonal[origin + 1:origin + 1 + horizon]
        for name, model in trends.items():
            out[name][i] = model.forward(y=adjusted, h=horizon)["mean"] + future
    return out
