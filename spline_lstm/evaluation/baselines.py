"""The baselines a run is compared with: naive ones always, classical ones on request.

Each is a Forecaster fitted on points before ``fit_end`` (train + validation for the
test split) and rolled forward on actuals, so it is scored on the model's own origins.
A classical model that fails is reported as skipped; a naive one cannot fail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spline_lstm.cancel import StopRequested, raise_if_stop_requested
from spline_lstm.models.base import Forecaster
from spline_lstm.models.classical import classical_forecasters
from spline_lstm.models.naive import NaiveForecaster


@dataclass(frozen=True)
class BaselineRun:
    forecasts: dict[str, np.ndarray]  # name -> [N, H], original units
    seconds: dict[str, float] = field(default_factory=dict)  # classical models only
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why
    # name -> level -> (lo, hi) [N, H]: the native intervals of the models that have them
    intervals: dict[str, dict[float, tuple[np.ndarray, np.ndarray]]] = field(
        default_factory=dict)
    fitted: dict[str, Forecaster] = field(default_factory=dict, repr=False)  # name -> model

    def kinds(self) -> dict[str, str]:
        """name -> family (naive / classical) of every baseline that forecast."""
        return {name: self.fitted[name].family for name in self.forecasts}

    @property
    def classical(self) -> list[str]:
        return sorted(self.seconds)


def baseline_forecasters(seasons: list[int], origins: np.ndarray, *,
                         classical: bool, exogenous: bool = False) -> list[Forecaster]:
    """naive_last, seasonal_naive (one per usable season), moving_average, then classical
    (exogenous: with the ones given the covariates known in advance).

    The SPEC's ``seasonal_naive`` always exists: without a usable season it is naive-last.
    """
    out: list[Forecaster] = [NaiveForecaster("naive_last")]
    for m in seasons:
        if m > 1 and origins.min(initial=m) >= m - 1:
            name = "seasonal_naive" if m == seasons[0] else f"seasonal_naive_{m}"
            out.append(NaiveForecaster("seasonal_naive", season=m, name=name))
    if not any(f.name == "seasonal_naive" for f in out):
        out.append(NaiveForecaster("seasonal_naive", season=1))
    out.append(NaiveForecaster("moving_average", window=max(seasons[0], 2)))
    return out + (classical_forecasters(seasons, exogenous) if classical else [])


def run_baselines(data, forecasters: list[Forecaster], origins: np.ndarray,
                  fit_end: int, levels: list[float] | None = None) -> BaselineRun:
    """Fit each forecaster before ``fit_end`` and forecast from ``origins`` (with the native
    intervals at ``levels`` of the models that have them)."""
    forecasts, seconds, skipped, intervals, fitted_models = {}, {}, {}, {}, {}
    for forecaster in forecasters:
        raise_if_stop_requested()
        start = time.perf_counter()
        try:
            fitted = forecaster.fit(data, fit_end=fit_end)
            if levels and fitted.capabilities.probabilistic:
                forecasts[fitted.name], intervals[fitted.name] = fitted.predict_interval(
                    data, origins, levels)
            else:
                forecasts[fitted.name] = fitted.predict(data, origins)
        except Exception as exc:  # noqa: BLE001 - a classical baseline that fails is reported
            if forecaster.family == "naive" or isinstance(exc, StopRequested):
                raise
            skipped[forecaster.name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        fitted_models[fitted.name] = fitted
        if forecaster.family != "naive":
            seconds[forecaster.name] = round(time.perf_counter() - start, 2)
    return BaselineRun(forecasts=forecasts, seconds=seconds, skipped=skipped,
                       intervals=intervals, fitted=fitted_models)
