"""Settings derived from the data when the user leaves them out (lookback, max gap, ...)."""

from __future__ import annotations

from spline_lstm.data.frequency import usable_seasons

MIN_LOOKBACK = 8
MAX_AUTO_LOOKBACK = 400
MIN_MAX_GAP = 12
SEGMENTS_PER_WINDOW = 8
DEFAULT_BATCH = 64
MIN_BATCH = 8
MIN_STEPS_PER_EPOCH = 8


def choose_max_gap(seasons: list[int]) -> int:
    """Longest gap filled by default: one primary season (at least 12 steps)."""
    return max(MIN_MAX_GAP, seasons[0])


def choose_lookback(seasons: list[int], horizon: int, n_points: int, train_fraction: float) -> int:
    """Two primary seasons (or two horizons, if longer), within what the train split allows."""
    n_train = int(n_points * train_fraction)
    season = usable_seasons(seasons, n_train)[0]
    wanted = max(2 * season, 2 * horizon, MIN_LOOKBACK)
    room = max(MIN_LOOKBACK, (n_train - horizon) // 2)  # leave room for train windows
    return int(min(wanted, room, MAX_AUTO_LOOKBACK))


def choose_segment_length(lookback: int, season: int) -> int:
    """About 8 segments per window, each a whole fraction of the season when possible.

    Two seasons of weekly data (104 steps) -> segments of 13; half-hourly (96) -> 12;
    monthly (24) -> 3.
    """
    target = lookback / SEGMENTS_PER_WINDOW
    base = season if season > 1 else lookback
    divisors = [d for d in range(1, base + 1) if base % d == 0 and d <= lookback]
    return max(min(divisors, key=lambda d: (abs(d - target), -d)), 1)


def choose_batch_size(n_train_windows: int) -> int:
    """64, or smaller when the train split is small, so an epoch takes at least 8 steps.

    With one or two batches per epoch a short series barely trains before early stopping
    ends it (monthly air passengers, 54 windows at H=12: best epoch 1 of 16, test MASE
    0.766 at batch 64, 0.735 at batch 8).
    """
    return int(max(MIN_BATCH, min(DEFAULT_BATCH, n_train_windows // MIN_STEPS_PER_EPOCH)))
