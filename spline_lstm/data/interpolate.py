"""Put a raw series on a regular grid and fill its gaps with splines (pure).

Filling is causal at each gap's right end: a filled value uses observations up to the
end of its gap and none after it, so a forecast issued from an observed point never
sees the future through the filled inputs of its window. Observed grid points keep
their values exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contracts.errors import InputSchemaError
from contracts.records import GridSummary
from contracts.schemas import Col
from spline_lstm.data.frequency import step_timedelta

FILL_METHODS = ("auto", "linear", "pchip", "seasonal")
MIN_MAX_GAP = 12
_MAX_LISTED_GAPS = 20
_SEASONAL_ROUNDS = 8  # vectorised passes before chained seasonal gaps fall back to a loop


@dataclass(frozen=True)
class FilledSeries:
    """A regular series: ``values`` on ``timestamps`` with ``observed`` marking real points."""

    timestamps: pd.DatetimeIndex
    values: np.ndarray  # float64 [n]
    observed: np.ndarray  # bool [n]
    grid: GridSummary = field(default_factory=GridSummary)

    def to_frame(self) -> pd.DataFrame:
        """The series as a frame in the RegularSeries layout (validate it with the schema)."""
        return pd.DataFrame({Col.TIMESTAMP.value: self.timestamps.to_numpy(),
                             Col.TARGET.value: self.values,
                             Col.OBSERVED.value: self.observed}, copy=False)



def choose_max_gap(seasons: list[int]) -> int:
    """Longest gap filled by default: one primary season (at least 12 steps)."""
    return max(MIN_MAX_GAP, seasons[0])


def interpolate_series(frame: pd.DataFrame, freq: pd.DateOffset, seasons: list[int],
                       max_gap: int, fill_method: str) -> FilledSeries:
    """A RawSeries frame on a regular ``freq`` grid with its gaps filled (25 for a gap
    longer than ``max_gap`` steps)."""
    grid, values, observed, grid_notes = regularize(frame, freq)
    filled, summary = fill_gaps(values, observed, season=seasons[0], method=fill_method,
                                max_gap=max_gap, timestamps=grid)
    return FilledSeries(timestamps=grid, values=filled, observed=observed, grid=GridSummary(
        **summary, **grid_notes, freq=freq.freqstr, seasons=list(seasons), max_gap=max_gap,
        n_grid=len(grid), start=str(grid[0]), end=str(grid[-1])))


def regularize(frame: pd.DataFrame, freq: pd.DateOffset) -> tuple[pd.DatetimeIndex, np.ndarray,
                                                                  np.ndarray, dict]:
    """Map observations onto a regular grid spanning the first to last observed value.

    Returns (grid, values with NaN in gaps, observed mask, notes). Observations off the
    grid snap to the nearest grid point; several in one slot are averaged.
    """
    has_value = frame[Col.TARGET.value].notna().to_numpy()
    times = pd.DatetimeIndex(frame[Col.TIMESTAMP.value].to_numpy()[has_value])
    values = frame[Col.TARGET.value].to_numpy(dtype=np.float64)[has_value]
    stamps = times.asi8
    step = step_timedelta(freq)
    if step is not None:  # fixed step: integer arithmetic, no float temporaries (10M+ rows)
        grid = pd.date_range(times[0], times[-1], freq=step)
        offsets = stamps - stamps[0]
        on_grid = offsets % step.value == 0
        slots = offsets
        slots += step.value // 2
        slots //= step.value  # nearest grid point (ties round up)
        np.clip(slots, 0, len(grid) - 1, out=slots)
    else:
        grid = pd.date_range(times[0] - freq, times[-1] + freq, freq=freq)
        slots = grid.get_indexer(times, method="nearest")
        used = slots[[0, -1]]
        grid, slots = grid[used[0]:used[1] + 1], slots - used[0]
        on_grid = grid.asi8[slots] == stamps
    counts = np.bincount(slots, minlength=len(grid))
    observed = counts > 0
    out = np.bincount(slots, weights=values, minlength=len(grid))
    with np.errstate(invalid="ignore"):
        np.divide(out, counts, out=out)  # slot means; 0/0 = NaN marks the gaps
    # Exact values where one observation sits exactly on its grid point (no averaging error).
    exact = on_grid & (counts == 1)[slots]
    out[slots[exact]] = values[exact]
    notes = {
        "n_rows_with_value": int(len(values)),
        "n_off_grid": int(len(on_grid) - np.count_nonzero(on_grid)),
        "n_merged_into_shared_slot": int((counts[counts > 1]).sum()),
    }
    return grid, out, observed, notes


def gap_runs(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of every run of unobserved points."""
    padded = np.concatenate([[False], ~observed, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def fill_gaps(values: np.ndarray, observed: np.ndarray, *, season: int = 1,
              method: str = "auto", max_gap: int | None = None,
              timestamps: pd.DatetimeIndex | None = None) -> tuple[np.ndarray, dict]:
    """Return (filled copy of ``values``, summary). Inputs are not modified.

    values: float64 [n] with NaN where not observed; observed: bool [n], first and last True.
    method: linear | pchip (monotone Hermite cubic) | seasonal (bridge + last season's shape)
    | auto (pchip below an eighth of a season, seasonal from there on).
    """
    if method not in FILL_METHODS:
        raise ValueError(f"unknown fill method {method!r}")
    starts, lengths = gap_runs(observed)
    _refuse_long_gaps(starts, lengths, max_gap, timestamps)
    filled = values.astype(np.float64, copy=True)
    seasonal_from = max(3, season // 8) if season > 1 else None
    use_seasonal = np.zeros(len(starts), dtype=bool)
    if method == "seasonal" or (method == "auto" and seasonal_from is not None):
        threshold = 1 if method == "seasonal" else seasonal_from
        use_seasonal = (lengths >= threshold) & (season > 1)
    cubic = method != "linear"
    _fill_hermite(filled, observed, starts[~use_seasonal], lengths[~use_seasonal], cubic=cubic)
    seasonal_done = _fill_seasonal(filled, observed, starts[use_seasonal], lengths[use_seasonal],
                                   season)
    summary = {
        "method": method,
        "season_used": int(season),
        "n_filled": int(lengths.sum()),
        "n_gaps": int(len(starts)),
        "longest_gap": int(lengths.max()) if len(lengths) else 0,
        "n_gaps_seasonal": int(seasonal_done),
        "gaps": _describe_gaps(starts, lengths, timestamps),
    }
    return filled, summary


def _refuse_long_gaps(starts: np.ndarray, lengths: np.ndarray, max_gap: int | None,
                      timestamps: pd.DatetimeIndex | None) -> None:
    if max_gap is None:
        return
    too_long = np.flatnonzero(lengths > max_gap)
    if not len(too_long):
        return
    described = [_gap_text(int(starts[i]), int(lengths[i]), timestamps) for i in too_long[:3]]
    more = f" and {len(too_long) - 3} more" if len(too_long) > 3 else ""
    raise InputSchemaError(
        f"{len(too_long)} gap(s) exceed --max-gap {max_gap} steps: {'; '.join(described)}{more}. "
        f"Raise --max-gap to at least {int(lengths[too_long].max())}, or supply the missing data")


def _gap_text(start: int, length: int, timestamps: pd.DatetimeIndex | None) -> str:
    if timestamps is None:
        return f"{length} missing steps at positions {start}..{start + length - 1}"
    return (f"{length} missing steps from {timestamps[start]} to "
            f"{timestamps[start + length - 1]}")


def _describe_gaps(starts: np.ndarray, lengths: np.ndarray,
                   timestamps: pd.DatetimeIndex | None) -> list[dict]:
    order = np.argsort(-lengths, kind="stable")[:_MAX_LISTED_GAPS]
    listed = []
    for i in sorted(order, key=lambda j: starts[j]):
        start, length = int(starts[i]), int(lengths[i])
        entry = {"start_index": start, "length": length}
        if timestamps is not None:
            entry["start"] = str(timestamps[start])
            entry["end"] = str(timestamps[start + length - 1])
        listed.append(entry)
    return listed


def _fill_hermite(out: np.ndarray, observed: np.ndarray, starts: np.ndarray,
                  lengths: np.ndarray, *, cubic: bool) -> None:
    """Fill the given gaps in place, all at once, with a Hermite cubic per gap.

    Each gap (a, b) joins its two observed neighbours. The slope at ``a`` is the PCHIP
    slope from the secants either side of ``a`` (both end at or before ``b``); the slope
    at ``b`` is the gap's own secant, so nothing after ``b`` is used.
    """
    if not len(starts):
        return
    obs_idx = np.flatnonzero(observed)
    a = starts - 1
    b = starts + lengths
    ya, yb = out[a], out[b]
    h = (b - a).astype(np.float64)
    secant = (yb - ya) / h
    if cubic:
        k = np.searchsorted(obs_idx, a)
        prev = obs_idx[np.maximum(k - 1, 0)]
        has_prev = k > 0
        prev_secant = np.where(has_prev, (ya - out[prev]) / np.maximum(a - prev, 1), secant)
        da = _pchip_slope(prev_secant, secant)
        db = secant
    else:
        da = db = secant
    gap_of_point = np.repeat(np.arange(len(starts)), lengths)
    points = _ranges(starts, lengths)
    t = (points - a[gap_of_point]) / h[gap_of_point]
    t2, t3 = t * t, t * t * t
    hh = h[gap_of_point]
    out[points] = ((2 * t3 - 3 * t2 + 1) * ya[gap_of_point]
                   + (t3 - 2 * t2 + t) * hh * da[gap_of_point]
                   + (-2 * t3 + 3 * t2) * yb[gap_of_point]
                   + (t3 - t2) * hh * db[gap_of_point])


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate arange(s, s+n) for every (s, n) without a Python loop."""
    total = int(lengths.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _pchip_slope(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slope: harmonic mean of same-signed secants, else 0 (no overshoot)."""
    same_sign = (left * right) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = 2.0 / (1.0 / left + 1.0 / right)
    return np.where(same_sign, harmonic, 0.0)


def _fill_seasonal(out: np.ndarray, observed: np.ndarray, starts: np.ndarray,
                   lengths: np.ndarray, season: int) -> int:
    """Fill long gaps, all at once, with a straight bridge plus an earlier season's shape.

    The shape is how the values one (or more) season(s) earlier deviated from their own
    straight bridge. Gaps without enough history fall back to the Hermite fill. Gaps are
    filled left to right in one pass, so a reference span may hold earlier filled values
    only when it lies in an earlier gap, exactly as a per-gap loop would see it.
    Returns how many gaps got the seasonal fill.
    """
    if not len(starts):
        return 0
    shifts = season * np.ceil((lengths + 1) / season).astype(np.int64)
    has_history = starts - 1 - shifts >= 0
    _fill_hermite(out, observed, starts[~has_history], lengths[~has_history], cubic=True)
    starts, lengths, shifts = starts[has_history], lengths[has_history], shifts[has_history]
    # A reference span may overlap another seasonal gap, which must be filled first. Fill
    # in vectorised rounds, each taking the gaps whose references are already final; the
    # rare long chains (gap after gap one season apart) finish in a plain left-to-right loop.
    final = np.ones(len(out), dtype=bool)
    final[_ranges(starts, lengths)] = False
    pending = np.ones(len(starts), dtype=bool)
    for _ in range(_SEASONAL_ROUNDS):
        ready = pending & _references_final(final, starts, lengths, shifts)
        if not ready.any():
            break
        _seasonal_bridge(out, starts[ready], lengths[ready], shifts[ready])
        final[_ranges(starts[ready], lengths[ready])] = True
        pending &= ~ready
    for i in np.flatnonzero(pending):  # in start order, so each reference is filled already
        _seasonal_bridge(out, starts[i:i + 1], lengths[i:i + 1], shifts[i:i + 1])
    return int(has_history.sum())


def _references_final(final: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                       shifts: np.ndarray) -> np.ndarray:
    """Per gap: is every point of its reference span (both ends included) final?"""
    not_final = np.concatenate([[0], np.cumsum(~final)])
    left = starts - 1 - shifts
    right = starts + lengths - shifts
    return (not_final[right + 1] - not_final[left]) == 0


def _seasonal_bridge(out: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                     shifts: np.ndarray) -> None:
    gap_of_point = np.repeat(np.arange(len(starts)), lengths)
    points = _ranges(starts, lengths)
    a = (starts - 1)[gap_of_point]
    b = (starts + lengths)[gap_of_point]
    shift = shifts[gap_of_point]
    t = (points - a) / (b - a)
    bridge = out[a] + t * (out[b] - out[a])
    reference_bridge = out[a - shift] + t * (out[b - shift] - out[a - shift])
    out[points] = bridge + (out[points - shift] - reference_bridge)
