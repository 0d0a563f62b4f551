"""The forward forecast: any forecaster, from the last observation, with its timestamps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from contracts.records import ForecastRecord
from spline_lstm.models.base import Forecaster


def future_timestamps(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=horizon + 1, freq=to_offset(freq))[1:]


def forward_forecast(forecaster: Forecaster, data) -> ForecastRecord:
    """Forecast the ``horizon`` steps after the last point of ``data`` (original units)."""
    pre = data.preprocessor
    origin = len(data.values) - 1
    values = forecaster.predict(data, np.array([origin], dtype=np.int64))[0]
    return ForecastRecord(origin=data.timestamps[origin],
                          timestamps=list(future_timestamps(data.timestamps[origin], pre.freq,
                                                            pre.horizon)),
                          values=[float(v) for v in values])


def with_intervals(forecast: ForecastRecord, calibrator) -> ForecastRecord:
    """The forecast with the calibrated bounds at every level (lo_80, hi_80, ...)."""
    from spline_lstm.evaluation.intervals import level_key

    bounds = calibrator.bounds(np.asarray([forecast.values]))
    intervals = {}
    for level, (lo, hi) in sorted(bounds.items()):
        intervals[f"lo_{level_key(level)}"] = [float(v) for v in lo[0]]
        intervals[f"hi_{level_key(level)}"] = [float(v) for v in hi[0]]
    return replace(forecast, intervals=intervals)
