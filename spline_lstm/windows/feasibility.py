"""Refuse before any training what could only fail after it (pure).

A run that cannot produce its forward forecast, cut a window in every split or score its
test split would otherwise train for minutes and then fail late (or, worse, "succeed"
into a health-gate failure that no re-run can fix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from contracts.errors import InputSchemaError, InsufficientDataError
from spline_lstm.windows.folds import default_step, plan_folds
from spline_lstm.windows.split import (
    SPLITS,
    SplitBounds,
    require_windows,
    window_origins,
)


def check_feasible(timestamps: pd.DatetimeIndex, values: np.ndarray, observed: np.ndarray,
                   freq: str, *, lookback: int, horizon: int, val_size: float,
                   test_size: float, backtest_windows: int = 0,
                   backtest_step: int | None = None) -> None:
    """Raise 25 / 26 naming what to change; return quietly when the run can work.

    backtest_windows: also check that the folds fit (before the transform's burn-in is
    known; the exact check runs again once it is).
    """
    check_forecast_timestamps(timestamps[-1], freq, horizon)
    seen = np.asarray(values)[np.asarray(observed, dtype=bool)]
    if seen.size == 1:  # e.g. a --freq coarser than the whole span: every row in one slot
        raise InsufficientDataError(
            f"the {freq} grid holds a single observed point ({timestamps[0]}), so there is "
            "nothing to split or learn; omit --freq to use the data's own step, give a finer "
            "one, or supply a longer series")
    if seen.size and np.ptp(seen) == 0:
        raise InputSchemaError(
            f"the target is constant (every observed value is {seen[0]:g}): there is nothing "
            "to learn; check --target-col or supply a series that varies")
    bounds = SplitBounds.from_fractions(len(values), val_size, test_size, horizon=horizon)
    counts = {s: len(window_origins(bounds, s, lookback=lookback, horizon=horizon))
              for s in SPLITS}
    require_windows(counts, bounds, lookback=lookback, horizon=horizon)
    check_test_split_scorable(values[bounds.val_end:], observed[bounds.val_end:])
    if backtest_windows:
        val_points = bounds.val_end - bounds.train_end
        plan_folds(bounds.val_end, windows=backtest_windows, step=backtest_step or
                   default_step(bounds.val_end, val_points, horizon), val_points=val_points,
                   lookback=lookback, horizon=horizon)


def check_forecast_timestamps(last: pd.Timestamp, freq: str, horizon: int) -> None:
    """The forward forecast's timestamps must exist in pandas (up to 2262-04-11)."""
    try:
        stamps = pd.date_range(last, periods=horizon + 1, freq=to_offset(freq))
        if len(stamps) != horizon + 1 or stamps[-1] < last:
            raise OverflowError(f"{horizon} steps of {freq}")
    except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError) as exc:
        raise InputSchemaError(
            f"the series ends at {last}, and a forecast {horizon} step(s) of {freq} beyond it "
            f"would pass the last date pandas can represent ({pd.Timestamp.max:%Y-%m-%d}) "
            f"({type(exc).__name__}); lower --horizon or shift the timestamps") from None


def check_test_split_scorable(values: np.ndarray, observed: np.ndarray) -> None:
    """R² needs observed test targets that vary, MAPE one that is not zero."""
    scored = np.asarray(values)[np.asarray(observed, dtype=bool)]
    if scored.size == 0:
        raise InsufficientDataError(
            "the test split has no observed value (only filled gaps), so nothing can be "
            "scored; use a larger --test-size or a series observed at its end")
    if np.ptp(scored) == 0:
        raise InsufficientDataError(
            f"every observed value of the test split is {scored[0]:g}, so R² (and, for 0, "
            "MAPE) is undefined and the run could not be scored; use a larger --test-size "
            "or a series whose last part varies")
