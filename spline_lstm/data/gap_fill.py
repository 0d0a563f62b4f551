"""The gap fillers behind ``interpolate.fill_gaps`` (pure, vectorised, in place on a copy).

Hermite cubics (PCHIP slopes) or straight lines across short gaps; across long gaps, a
bridge between the gap's ends plus the shape of the season before it. Each uses
observations up to the end of its gap and none after it.
"""

from __future__ import annotations

import numpy as np

_SEASONAL_ROUNDS = 8  # vectorised passes before chained seasonal gaps fall back to a loop


def fill_hermite(out: np.ndarray, observed: np.ndarray, starts: np.ndarray,
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
    # 1/secant overflows for a subnormal secant: the harmonic mean is then 0, its limit
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        harmonic = 2.0 / (1.0 / left + 1.0 / right)
    return np.where(same_sign, harmonic, 0.0)


def fill_seasonal(out: np.ndarray, observed: np.ndarray, starts: np.ndarray,
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
    fill_hermite(out, observed, starts[~has_history], lengths[~has_history], cubic=True)
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
