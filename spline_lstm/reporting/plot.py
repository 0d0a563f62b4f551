"""Forecast plot: recent history, test-split forecasts and the forward forecast (PNG bytes)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from contracts.records import ForecastRecord
from spline_lstm.evaluation.scoring import Evaluation
from spline_lstm.windows.processed import ProcessedData

MAX_HISTORY_POINTS = 1500


def render_forecast_png(data: ProcessedData, evaluation: Evaluation, forecast: ForecastRecord,
                        title: str, test_bounds: dict | None = None) -> bytes:
    """The recent history, the test forecasts (step 1, with the widest interval band) and
    the forward forecast with every interval level shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts, values, observed = data.timestamps, data.values, data.observed
    start = max(0, len(ts) - MAX_HISTORY_POINTS)
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=100)
    ax.plot(ts[start:], np.where(observed[start:], values[start:], np.nan), color="#444",
            lw=0.9, label="observed")
    filled = ~observed[start:]
    if filled.any():
        ax.scatter(ts[start:][filled], values[start:][filled], s=6, color="#e69f00",
                   label="filled gap", zorder=3)
    origins = evaluation.origins
    one_step = pd.DatetimeIndex(ts[origins + 1])
    ax.plot(one_step, evaluation.y_pred[:, 0], color="#0072b2", lw=1.0,
            label="test forecast (step 1)")
    if test_bounds:
        level = max(test_bounds)
        lo, hi = test_bounds[level]
        ax.fill_between(one_step, lo[:, 0], hi[:, 0], color="#0072b2", alpha=0.15, lw=0,
                        label=f"{level:g}% interval (step 1)")
    if evaluation.y_pred.shape[1] > 1:
        last = origins[-1]
        path_ts = ts[last + 1:last + 1 + evaluation.y_pred.shape[1]]
        ax.plot(path_ts, evaluation.y_pred[-1, :len(path_ts)], color="#56b4e9", lw=1.4,
                label="last test origin, all steps")
    future = pd.DatetimeIndex(forecast.timestamps)
    levels = sorted({float(k[3:]) for k in forecast.intervals}, reverse=True)
    for i, level in enumerate(levels):  # widest band first, lightest
        ax.fill_between(future, forecast.intervals[f"lo_{level:g}"],
                        forecast.intervals[f"hi_{level:g}"], color="#d55e00",
                        alpha=0.15 + 0.15 * i, lw=0, label=f"{level:g}% interval")
    ax.plot(future, forecast.values, color="#d55e00",
            lw=1.6, marker="o", ms=3, label="forward forecast")
    ax.axvline(ts[data.bounds.val_end], color="#999", ls="--", lw=0.8)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncols=3)
    ax.grid(alpha=0.25)
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
