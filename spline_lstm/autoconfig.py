"""Settings derived from the data when the user leaves them out (lookback, max gap, ...)."""

from __future__ import annotations

from spline_lstm.frequency import usable_seasons

MIN_LOOKBACK = 8
MAX_AUTO_LOOKBACK = 400
MIN_MAX_GAP = 12


def choose_max_gap(seasons: list[int]) -> int:
    """Longest gap filled by default: one primary season (at least 12 steps)."""
    return max(MIN_MAX_GAP, seasons[0])


def choose_lookback(seasons: list[int], horizon: int, n_points: int, train_fraction: float) -> int:
    """Two primary seasons (or two horizons, if longer), within what the train split allows."""
    n_train = int(n_points * train_fraction)
    season = usable_seasons(seasons, n_train)[0]
    wanted = max(2 * season, 2 * horizon, MIN_LOOKBACK)
    # Leave room for at least a handful of train windows.
    room = max(MIN_LOOKBACK, (n_train - horizon) // 2)
    return int(min(wanted, room, MAX_AUTO_LOOKBACK))


RECURRENT_STEPS = 96


def choose_recurrent_lookback(lookback: int) -> int:
    """The recurrent layers read at most the last 96 steps; the linear highway reads all."""
    return min(lookback, RECURRENT_STEPS)
