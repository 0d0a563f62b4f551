"""Grid frequency and season lengths of a series."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from contracts.errors import InputSchemaError, InvalidArgumentError
from spline_lstm.shared_quiet import warnings_ignored

_DAY = pd.Timedelta(days=1)
# Calendar frequencies whose steps vary in length, tried when the median step says so.
_CALENDAR_CANDIDATES = (
    (pd.Timedelta(days=28), pd.Timedelta(days=31), ("MS", "ME")),
    (pd.Timedelta(days=89), pd.Timedelta(days=92), ("QS", "QE")),
    (pd.Timedelta(days=365), pd.Timedelta(days=366), ("YS", "YE")),
)


MIN_STEP = pd.Timedelta(milliseconds=1)  # finer grids are not time series we can serve
# Daily stamps that never fall on a weekend over at least this many weekend days are
# business days (markets, offices): a calendar-day grid would fill every weekend.
MIN_WEEKEND_DAYS_SEEN = 4
BUSINESS_WEEK = 5


def parse_freq(freq: str) -> pd.DateOffset:
    """Parse a user-given pandas offset alias: a positive step of at least 1 ms (else 20)."""
    try:
        with warnings_ignored():  # pandas' advice on old aliases ('M' -> 'ME') is not ours
            offset = to_offset(freq)
    except Exception:  # noqa: BLE001 - pandas raises several types for bad aliases
        raise InvalidArgumentError(
            f"--freq {freq!r} is not a pandas offset alias; use e.g. 30min, h, D, W-SAT, MS"
        ) from None
    step = step_timedelta(offset)
    if offset.n <= 0 or (step is not None and step < MIN_STEP):
        raise InvalidArgumentError(
            f"--freq {freq!r} is not a positive step of at least 1ms (got {offset!r}); use "
            "e.g. 30min, h, D, W-SAT, MS, or omit it to infer the step from the data")
    return offset


def infer_freq(timestamps: pd.Series | pd.DatetimeIndex) -> pd.DateOffset:
    """Infer the grid step of sorted, unique timestamps, tolerating gaps.

    Exact inference (pandas) first; otherwise the most common step, or the calendar
    frequency (month, quarter, year) that every timestamp lies on. Daily stamps on
    weekdays only are business days (``B``) even with holidays missing: read as calendar
    days, every weekend would be two filled points and a forecast could fall on a Saturday.
    """
    index = pd.DatetimeIndex(timestamps)
    if len(index) < 3:
        raise InputSchemaError(
            f"cannot infer the frequency from {len(index)} timestamp(s); give --freq or more data")
    exact = pd.infer_freq(index)
    if exact is not None:
        return to_offset(exact)
    steps = np.diff(index.asi8)
    values, counts = np.unique(steps, return_counts=True)
    common = pd.Timedelta(int(values[np.argmax(counts)]))
    if common == _DAY and _weekdays_only(index):
        return to_offset("B")
    for low, high, aliases in _CALENDAR_CANDIDATES:
        if low <= common <= high:
            for alias in aliases:
                grid = pd.date_range(index[0], index[-1], freq=alias)
                if index.isin(grid).all():
                    return to_offset(alias)
    return to_offset(common)


def _weekdays_only(index: pd.DatetimeIndex) -> bool:
    """Does no stamp fall on a weekend although the span holds enough weekend days to
    tell (a short span could miss them by chance)?"""
    if (index.dayofweek >= 5).any():
        return False
    days = pd.date_range(index[0].normalize(), index[-1].normalize(), freq="D")
    return int((days.dayofweek >= 5).sum()) >= MIN_WEEKEND_DAYS_SEEN


def is_business_daily(freq: pd.DateOffset) -> bool:
    return isinstance(freq, pd.offsets.BusinessDay) and freq.n == 1


def nominal_step(freq: pd.DateOffset) -> pd.Timedelta | None:
    """A step's length for calendar features: ``step_timedelta``, and one day for business
    days (whose steps are 1 or 3 days long)."""
    return _DAY if is_business_daily(freq) else step_timedelta(freq)


def step_timedelta(freq: pd.DateOffset) -> pd.Timedelta | None:
    """The fixed length of one step, or None for calendar frequencies (months, years)."""
    if isinstance(freq, pd.offsets.Week):  # anchored weeks (W-SAT) are still 7 days
        return pd.Timedelta(weeks=freq.n)
    try:
        return pd.Timedelta(freq)
    except ValueError:
        return None


def infer_seasons(freq: pd.DateOffset) -> list[int]:
    """Season lengths implied by the frequency, primary first.

    hourly 24 (and weekly 168), half-hourly 48 (and 336), daily 7, business days 5 (a
    week), weekly 52, monthly 12, quarterly 4; a step with no natural cycle gives [1] (no
    season).
    """
    if is_business_daily(freq):
        return [BUSINESS_WEEK]
    name = freq.name if hasattr(freq, "name") else str(freq)
    if name.startswith(("MS", "ME", "M", "BM", "BMS", "SM")):
        return [12]
    if name.startswith(("QS", "QE", "Q", "BQ")):
        return [4]
    if name.startswith(("YS", "YE", "Y", "A", "BY")):
        return [1]
    step = step_timedelta(freq)
    if step is None or step <= pd.Timedelta(0):
        return [1]
    if name.startswith("W") or step == pd.Timedelta(days=7):
        return [52]
    if step == _DAY:
        return [7]
    if step < _DAY and (_DAY % step) == pd.Timedelta(0):
        per_day = int(_DAY / step)
        return [per_day, 7 * per_day]
    return [1]


def usable_seasons(seasons: list[int], n_train: int, min_cycles: int = 2) -> list[int]:
    """Keep the seasons that the train split holds at least ``min_cycles`` times."""
    kept = [m for m in seasons if m > 1 and n_train >= min_cycles * m]
    return kept or [1]
