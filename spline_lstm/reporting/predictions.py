"""predictions/{run_id}.csv: every test forecast and the forward forecast, long format (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.artifacts import PREDICTION_COLUMNS
from contracts.records import ForecastRecord
from spline_lstm.evaluation.scoring import Evaluation


def predictions_frame(data, evaluation: Evaluation, forecast: ForecastRecord) -> pd.DataFrame:
    """One row per (origin, step) (SPEC §3), test then forecast, original units."""
    pre, ts = data.preprocessor, data.timestamps
    origins = evaluation.origins
    steps = np.arange(1, pre.horizon + 1)
    y_true = np.where(evaluation.scored, evaluation.y_true, np.nan)
    test = pd.DataFrame({
        "origin": np.repeat(ts[origins], pre.horizon),
        "timestamp": ts[(origins[:, None] + steps[None, :]).ravel()],
        "step": np.tile(steps, len(origins)),
        "y_true": y_true.ravel(),
        "y_pred": evaluation.y_pred.ravel(),
        "kind": "test",
    })
    future = pd.DataFrame({
        "origin": [forecast.origin] * pre.horizon,
        "timestamp": forecast.timestamps,
        "step": steps,
        "y_true": np.nan,
        "y_pred": forecast.values,
        "kind": "forecast",
    })
    frame = pd.concat([test, future], ignore_index=True)[list(PREDICTION_COLUMNS)]
    if pre.timezone:
        for col in ("origin", "timestamp"):
            frame[col] = pd.DatetimeIndex(frame[col]).tz_localize(pre.timezone)
    return frame
