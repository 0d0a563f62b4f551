"""Turn a trained model into forecasts in original units: test split and the true future."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from contracts.artifacts import PREDICTION_COLUMNS
from spline_lstm.evaluation.scoring import Evaluation
from spline_lstm.windows.preprocess import ProcessedData


PREDICT_BATCH = 1024


def predict_model_space(model, X: np.ndarray) -> np.ndarray:
    """Model-space forecasts [N, H] for a few windows X [N, L, 1]."""
    return np.asarray(model.predict(X, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float64)


def predict_split(model, data: ProcessedData, split: str = "test") -> np.ndarray:
    """Forecasts [N, H] in original units for every window of ``split`` (streamed)."""
    if len(data.origins[split]) == 0:
        return np.zeros((0, data.preprocessor.horizon))
    batches = data.dataset(split, PREDICT_BATCH, with_targets=False)
    predicted = np.asarray(model.predict(batches, verbose=0), dtype=np.float64)
    return data.preprocessor.to_original_units(predicted, data.values, data.origins[split])


def forward_forecast(model, data: ProcessedData) -> dict:
    """Forecast the ``horizon`` steps after the last observation.

    Returns origin (timestamp), timestamps (list) and values (original units).
    """
    pre = data.preprocessor
    origin = len(data.series) - 1
    window = data.series[origin - pre.lookback + 1:origin + 1].reshape(1, pre.lookback, 1)
    predicted = predict_model_space(model, window.astype(np.float32))
    values = pre.to_original_units(predicted, data.values, np.array([origin]))[0]
    return {
        "origin": data.timestamps[origin],
        "timestamps": list(future_timestamps(data.timestamps[origin], pre.freq, pre.horizon)),
        "values": [float(v) for v in values],
    }


def future_timestamps(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=horizon + 1, freq=to_offset(freq))[1:]


def predictions_frame(data: ProcessedData, evaluation: Evaluation, forecast: dict) -> pd.DataFrame:
    """Long-format predictions (SPEC §3): one row per (origin, step), test then forecast."""
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
        "origin": [forecast["origin"]] * pre.horizon,
        "timestamp": forecast["timestamps"],
        "step": steps,
        "y_true": np.nan,
        "y_pred": forecast["values"],
        "kind": "forecast",
    })
    frame = pd.concat([test, future], ignore_index=True)[list(PREDICTION_COLUMNS)]
    if pre.timezone:
        for col in ("origin", "timestamp"):
            frame[col] = pd.DatetimeIndex(frame[col]).tz_localize(pre.timezone)
    return frame
