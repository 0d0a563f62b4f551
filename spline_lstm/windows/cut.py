"""Cut forecast windows out of the model-space series as copies (small data, tests, npz)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def cut_windows(series: np.ndarray, origins: np.ndarray, lookback: int, horizon: int,
                target_index: int = 0, x_reach: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X [N, lookback + x_reach, F] and y [N, horizon] (float32) for the given origins.

    series: [n, F] model space; y holds the target column. x_reach: steps after the origin
    X also holds (the horizon, for covariates known in advance; the network reads only
    those columns there). Windows are read from one strided view of ``series``; only the
    selected rows are copied.
    """
    rows = sliding_window_view(series, lookback + horizon, axis=0)  # [n', F, L+H]
    picked = rows[origins - lookback + 1]
    X = np.transpose(picked[:, :, :lookback + x_reach], (0, 2, 1)).astype(np.float32)
    y = picked[:, target_index, lookback:].astype(np.float32)
    return X, y
