"""Forecast metrics in original units (SPEC §5)."""

from __future__ import annotations

import numpy as np

from contracts.artifacts import METRIC_KEYS

MAPE_EPS = 1e-8  # targets below this share of the largest one are left out of MAPE
TINY = 1e-100


def seasonal_naive_scale(train_values: np.ndarray, train_observed: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast on the train split (MASE denominator).

    Only pairs where both points were observed count; season 1 is naive-last.
    """
    m = max(1, int(season))
    values = np.asarray(train_values, dtype=np.float64)
    observed = np.asarray(train_observed, dtype=bool)
    if len(values) <= m:
        return float("nan")
    both = observed[m:] & observed[:-m]
    diffs = np.abs(values[m:] - values[:-m])[both]
    return float(diffs.mean()) if diffs.size else float("nan")


def forecast_metrics(y_true: np.ndarray, y_pred: np.ndarray, *, mase_scale: float,
                     mask: np.ndarray | None = None) -> dict[str, float]:
    """mae, mse, rmse, robust mape (%), r2, mase and smape (%) over the scored entries.

    y_true, y_pred: same shape; mask: True where the target was observed (scored).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    keep = np.ones(y_true.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    t, p = y_true[keep], y_pred[keep]
    if t.size == 0:
        return {k: float("nan") for k in METRIC_KEYS}
    err = p - t
    mae = float(np.mean(np.abs(err)))
    magnitude = float(np.max(np.abs(t)))
    # Squares of values below 1e-100 underflow: square them in units of their magnitude.
    unit = magnitude if 0 < magnitude < TINY else 1.0
    e, tu = err / unit, t / unit
    mse = float(np.mean(e ** 2)) * unit ** 2
    nonzero = np.abs(t) > MAPE_EPS * magnitude
    mape = float(np.mean(np.abs(err[nonzero]) / np.abs(t[nonzero])) * 100) if nonzero.any() \
        else float("nan")
    sst = float(np.sum((tu - tu.mean()) ** 2))
    r2 = 1.0 - float(np.sum(e ** 2)) / sst if sst > 0 else float("nan")
    denom = np.abs(t) + np.abs(p)
    smape = float(np.mean(np.where(denom > 0, 2 * np.abs(err) / np.where(denom > 0, denom, 1), 0))
                  * 100)
    mase = mae / mase_scale if mase_scale and np.isfinite(mase_scale) and mase_scale > 0 \
        else float("nan")
    values = {"mae": mae, "mse": mse, "rmse": float(np.sqrt(mse)), "mape": mape, "r2": r2,
              "mase": mase, "smape": smape}
    return {key: values[key] for key in METRIC_KEYS}


def per_step_metrics(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray,
                     mase_scale: float) -> list[dict[str, float]]:
    """forecast_metrics for each horizon step (columns of [N, H] arrays)."""
    return [dict(step=h + 1, **forecast_metrics(y_true[:, h], y_pred[:, h],
                                                 mase_scale=mase_scale, mask=mask[:, h]))
            for h in range(y_true.shape[1])]
