"""Forecasts every model must beat: naive-last, seasonal-naive and moving average.

Nothing to fit; each reads the original-unit series at and before its origins, so the
baselines are scored on exactly the same (origin, step) pairs as the model.
"""

from __future__ import annotations

import numpy as np

from spline_lstm.models.base import Capabilities, Forecaster


def naive_last(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the value at the origin."""
    return np.repeat(values[origins][:, None], horizon, axis=1).astype(np.float64)


def seasonal_naive(values: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last observed season: step k takes the value at origin + k - m*ceil(k/m)."""
    m = max(1, int(season))
    steps = np.arange(1, horizon + 1)
    lags = steps - m * np.ceil(steps / m).astype(np.int64)
    index = origins[:, None] + lags[None, :]
    if index.min(initial=0) < 0:
        raise ValueError(f"seasonal naive with season {m} needs {m} points before each origin")
    return values[index].astype(np.float64)


def moving_average(values: np.ndarray, origins: np.ndarray, horizon: int, window: int) -> np.ndarray:
    """Repeat the mean of the last ``window`` values."""
    window = max(1, int(window))
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    start = np.maximum(origins + 1 - window, 0)
    means = (csum[origins + 1] - csum[start]) / (origins + 1 - start)
    return np.repeat(means[:, None], horizon, axis=1)


class NaiveForecaster(Forecaster):
    """naive_last, seasonal_naive (season m; 1 = naive last) or moving_average (window)."""

    family = "naive"
    capabilities = Capabilities()
    KINDS = ("naive_last", "seasonal_naive", "moving_average")

    def __init__(self, kind: str = "naive_last", season: int | None = None,
                 window: int | None = None, name: str | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown naive forecaster {kind!r}; use one of {self.KINDS}")
        super().__init__(name or kind)
        self.kind, self.season, self.window = kind, season, window

    def fit(self, data, *, fit_end: int | None = None) -> "NaiveForecaster":
        return self

    def predict(self, data, origins: np.ndarray) -> np.ndarray:
        """season / window default to the primary season of ``data`` (window at least 2)."""
        values, horizon = data.values, data.preprocessor.horizon
        if self.kind == "naive_last":
            return naive_last(values, origins, horizon)
        if self.kind == "seasonal_naive":
            return seasonal_naive(values, origins, horizon, self.season or data.preprocessor.season)
        return moving_average(values, origins, horizon,
                              self.window or max(data.preprocessor.season, 2))

    def settings(self) -> dict:
        return {"kind": self.kind, "season": self.season, "window": self.window,
                "name": self.name}
