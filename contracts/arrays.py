"""Explicit array contracts: shape, dtype and finiteness of model inputs and targets."""

from __future__ import annotations

import numpy as np

from contracts.errors import InputShapeError


def check_window_pair(
    X: np.ndarray,
    y: np.ndarray,
    *,
    lookback: int,
    horizon: int,
    n_features: int = 1,
    split: str = "",
) -> None:
    """Raise INPUT_SHAPE_ERROR unless X is [N, lookback, n_features] and y is [N, horizon].

    Both must be float32, finite, with the same N.
    """
    where = f" ({split} split)" if split else ""
    expected_x = f"[N, {lookback}, {n_features}]"
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise InputShapeError(f"X and y{where} must be numpy arrays, got {type(X).__name__} "
                              f"and {type(y).__name__}")
    if X.ndim != 3 or X.shape[1:] != (lookback, n_features):
        raise InputShapeError(
            f"X{where} has shape {list(X.shape)}, expected {expected_x} (lookback={lookback}); "
            "re-run preprocessing with the same --lookback or pass matching artifacts"
        )
    if y.ndim != 2 or y.shape[1] != horizon:
        raise InputShapeError(
            f"y{where} has shape {list(y.shape)}, expected [N, {horizon}] (horizon={horizon}); "
            "re-run preprocessing with the same --horizon or pass matching artifacts"
        )
    if X.shape[0] != y.shape[0]:
        raise InputShapeError(
            f"batch mismatch{where}: X has {X.shape[0]} windows but y has {y.shape[0]}; "
            "the processed arrays are inconsistent, re-run preprocessing"
        )
    for name, arr in (("X", X), ("y", y)):
        if arr.dtype != np.float32:
            raise InputShapeError(f"{name}{where} has dtype {arr.dtype}, expected float32")
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise InputShapeError(f"{name}{where} holds {bad} non-finite values (NaN/inf); "
                                  "re-run preprocessing")


def check_window_source(series: np.ndarray, origins: dict[str, np.ndarray], *, lookback: int,
                        horizon: int) -> None:
    """Raise INPUT_SHAPE_ERROR unless every window can be cut from ``series``.

    series: float32 [n, F]; origins: split -> int [N], each in [lookback-1, n-horizon-1],
    and the values every window reads are finite.
    """
    if not isinstance(series, np.ndarray) or series.ndim != 2 or series.dtype != np.float32:
        raise InputShapeError(f"the model series must be a float32 array [n, features], got "
                              f"{getattr(series, 'dtype', type(series).__name__)} with shape "
                              f"{list(getattr(series, 'shape', []))}; re-run preprocessing")
    n = len(series)
    for split, split_origins in origins.items():
        if len(split_origins) == 0:
            continue
        low, high = int(split_origins.min()), int(split_origins.max())
        if low < lookback - 1 or high > n - horizon - 1:
            raise InputShapeError(
                f"{split} windows reach outside the series: origins {low}..{high} with lookback "
                f"{lookback} and horizon {horizon} need 0..{n - 1}, the series has {n} points; "
                "re-run preprocessing")
        used = series[low - lookback + 1:high + horizon + 1]
        if not np.isfinite(used).all():
            raise InputShapeError(f"the {split} windows read non-finite values of the series; "
                                  "re-run preprocessing")
