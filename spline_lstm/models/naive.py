"""Free forecasts every model must beat: naive-last, seasonal-naive, moving average.

All take the original-unit series and forecast origins and return [N, H] forecasts, so
they are scored on exactly the same (origin, step) pairs as the model.
"""

from __future__ import annotations

import numpy as np


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


def simple_baselines(values: np.ndarray, origins: np.ndarray, horizon: int,
                     seasons: list[int]) -> dict[str, np.ndarray]:
    """naive_last, seasonal_naive (one per season > 1) and moving_average (primary season)."""
    forecasts = {"naive_last": naive_last(values, origins, horizon)}
    for m in seasons:
        if m > 1 and origins.min(initial=m) >= m - 1:
            key = "seasonal_naive" if m == seasons[0] else f"seasonal_naive_{m}"
            forecasts[key] = seasonal_naive(values, origins, horizon, m)
    if "seasonal_naive" not in forecasts:  # no usable season: the SPEC still wants the key
        forecasts["seasonal_naive"] = forecasts["naive_last"].copy()
    forecasts["moving_average"] = moving_average(values, origins, horizon, max(seasons[0], 2))
    return forecasts
