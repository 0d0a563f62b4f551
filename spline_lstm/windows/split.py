"""Chronological split of a series and the forecast windows of each split (pure).

A window is identified by its *origin*: the index of its last input point. Inputs are
``series[origin - lookback + 1 : origin + 1]``, targets ``series[origin + 1 : origin +
horizon + 1]``. A window belongs to the split that holds all of its targets, so no
target is ever scored in two splits; inputs may reach back into the previous split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.errors import InsufficientDataError
from spline_lstm.data.frequency import usable_seasons

SPLITS = ("train", "val", "test")
MIN_TRAIN_WINDOWS = 8
MIN_LOOKBACK = 8
MAX_AUTO_LOOKBACK = 400


@dataclass(frozen=True)
class SplitBounds:
    """Points [0, train_end) are train, [train_end, val_end) val, [val_end, n) test."""

    n: int
    train_end: int
    val_end: int

    @classmethod
    def from_fractions(cls, n: int, val_size: float, test_size: float, *,
                       horizon: int) -> "SplitBounds":
        """The one rule for split sizes: test and val rounded, train the rest; val and test
        each hold at least one horizon of points.

        A window belongs to the split holding all its targets, so a split shorter than the
        horizon holds none: 10 % of six years of monthly data is 7 points, and a 12-month
        forecast could not be validated. Such a split grows to one horizon (one window),
        taken from train; where the fractions give more, nothing changes.
        """
        n_test = max(int(round(n * test_size)), horizon)
        n_val = max(int(round(n * val_size)), horizon)
        return cls(n=n, train_end=n - n_test - n_val, val_end=n - n_test)

    def target_range(self, split: str) -> tuple[int, int]:
        return {"train": (0, self.train_end), "val": (self.train_end, self.val_end),
                "test": (self.val_end, self.n)}[split]

    def sizes(self) -> dict[str, int]:
        return {s: self.target_range(s)[1] - self.target_range(s)[0] for s in SPLITS}



def choose_lookback(seasons: list[int], horizon: int, n_train: int) -> int:
    """Two primary seasons (or two horizons, if longer), within what the train split allows."""
    season = usable_seasons(seasons, n_train)[0]
    wanted = max(2 * season, 2 * horizon, MIN_LOOKBACK)
    room = max(MIN_LOOKBACK, (n_train - horizon) // 2)  # leave room for train windows
    return int(min(wanted, room, MAX_AUTO_LOOKBACK))


def window_origins(bounds: SplitBounds, split: str, *, lookback: int, horizon: int,
                   burn_in: int = 0, observed: np.ndarray | None = None) -> np.ndarray:
    """Origins (int64) of every window whose targets all lie in ``split``.

    burn_in: leading points without a model value (differencing, seasonal adjustment);
    inputs start after it.
    observed: when given, keep only origins that are observed points (forecasts are
    issued from a real observation; used for val/test).
    """
    start, end = bounds.target_range(split)
    first = max(start - 1, burn_in + lookback - 1)
    last = end - horizon - 1
    origins = np.arange(first, last + 1, dtype=np.int64)
    if observed is not None and len(origins):
        origins = origins[observed[origins]]
    return origins


def require_windows(counts: dict[str, int], bounds: SplitBounds, *, lookback: int,
                    horizon: int, burn_in: int = 0) -> None:
    """Raise INSUFFICIENT_DATA_ERROR when a split has too few windows to train or score."""
    needed = {"train": MIN_TRAIN_WINDOWS, "val": 1, "test": 1}
    short = {s: counts[s] for s in SPLITS if counts[s] < needed[s]}
    if not short:
        return
    sizes = bounds.sizes()
    detail = ", ".join(f"{s}: {counts[s]} window(s) from {sizes[s]} points (need {needed[s]})"
                       for s in short)
    raise InsufficientDataError(
        f"too few windows after the chronological split ({detail}); the series has "
        f"{bounds.n} grid points and each window needs lookback {lookback} + horizon "
        f"{horizon}{f' + {burn_in} burn-in (differencing, seasonal adjustment)' if burn_in else ''} points. "
        "Supply a longer series, or lower --lookback / --horizon")
