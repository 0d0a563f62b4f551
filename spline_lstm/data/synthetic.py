"""A seeded synthetic series (trend, two seasons, AR noise, gaps) for smoke runs and tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from contracts.schemas import Col
from spline_lstm.data.ingest import IngestResult

# Hourly timestamps from 2024 run out of pandas' range (year 2262) near 2M points.
HOURLY_SYNTHETIC_LIMIT = 1_000_000


def synthetic_series(n_points: int, seed: int, *, gap_fraction: float = 0.025) -> IngestResult:
    """Generate a seeded series: trend + daily/weekly seasonality + AR noise + gaps.

    Hourly up to HOURLY_SYNTHETIC_LIMIT points, per minute beyond (sensor-style data).
    Generated in memory only; nothing is written. Vectorised, so 10M points take seconds.
    ``gap_fraction`` is the expected share of missing points (gaps of 1-4 steps).
    """
    freq, day = ("h", 24) if n_points <= HOURLY_SYNTHETIC_LIMIT else ("min", 1440)
    rng = np.random.default_rng(seed)
    t = np.arange(n_points, dtype=np.float64)
    shocks = rng.normal(0.0, 0.35, n_points)
    shocks[0] = 0.0
    noise = lfilter([1.0], [1.0, -0.6], shocks)  # AR(1): noise[i] = 0.6 noise[i-1] + shock
    values = (50.0 + 0.24 * t / day + 4.0 * np.sin(2 * np.pi * t / day)
              + 1.5 * np.sin(2 * np.pi * t / (7 * day)) + noise)
    timestamps = pd.date_range("2024-01-01", periods=n_points, freq=freq)
    n_gaps = max(1, int(n_points * gap_fraction / 2.5))  # mean gap length is 2.5 steps
    starts = rng.integers(1, max(2, n_points - 6), size=n_gaps)
    ends = np.minimum(starts + rng.integers(1, 5, size=n_gaps), n_points - 1)
    depth = np.zeros(n_points + 1, dtype=np.int32)  # how many gaps cover each point
    np.add.at(depth, starts, 1)
    np.add.at(depth, ends, -1)
    missing = np.cumsum(depth[:-1]) > 0
    values[missing] = np.nan
    # Half of the gaps arrive as absent rows, half as empty values: both occur in real files.
    dropped = missing & (rng.random(n_points) < 0.5)
    frame = pd.DataFrame({Col.TIMESTAMP.value: timestamps[~dropped],
                          Col.TARGET.value: values[~dropped]})
    return IngestResult(frame=frame, source=f"synthetic(n_points={n_points}, seed={seed})")
