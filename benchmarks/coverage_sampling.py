"""How far a test split's coverage may land from the level by chance alone.

A test split of a quarterly series holds about 40 target times. Even intervals that are
exactly calibrated (each target inside with probability L) cover a binomial share of them:
at L = 80 % and 41 times the standard deviation is 6.2 points, so such intervals land
within 5 points of 80 % only 56 % of the time. The interval benchmark prints, next to
each coverage, how many target times it rests on and whether it is further from the level
than chance explains; and, over its cases, how often perfectly calibrated intervals would
be within 5 points.

Forecasts of H steps from consecutive origins share their targets: the n_origins x H
scored pairs of a case rest on n_origins + H - 1 target times, and misses at one time come
together. The count of target times stands in for the sample size (a one-step case: its
forecasts).
"""

from __future__ import annotations

import math

from scipy import stats

TOLERANCE = 5.0  # points of coverage either side of the level (the target)
SIGNIFICANT = 0.05


def target_times(n_pairs: int, horizon: int) -> int:
    """Distinct target times of ``n_pairs`` scored (origin, step) pairs of an H-step forecast."""
    if n_pairs <= 0:
        return 0
    return math.ceil(n_pairs / horizon) + horizon - 1


def chance_within(level: float, n: int, tolerance: float = TOLERANCE) -> float:
    """P(coverage within ``tolerance`` points of ``level``) for calibrated intervals on n
    independent target times (binomial)."""
    if n <= 0:
        return float("nan")
    p = level / 100.0
    low = math.ceil(n * (level - tolerance) / 100.0 - 1e-9)
    high = math.floor(n * (level + tolerance) / 100.0 + 1e-9)
    return float(stats.binom.cdf(high, n, p) - stats.binom.cdf(low - 1, n, p))


def coverage_p_value(coverage: float, level: float, n: int) -> float:
    """Two-sided binomial test of ``coverage`` (%) on n target times against ``level``."""
    if n <= 0 or not math.isfinite(coverage):
        return float("nan")
    hits = min(n, max(0, round(coverage / 100.0 * n)))
    return float(stats.binomtest(hits, n, level / 100.0).pvalue)


def summary(cases: list[tuple[str, int, str, float, int]]) -> str:
    """One paragraph over (series, H, level, coverage %, target times) case-levels: how
    many a calibrated forecaster would have within the tolerance, and which are off by
    more than chance."""
    chances = [chance_within(float(level), n) for _, _, level, _, n in cases]
    all_within = math.prod(chances)
    off = [f"{name} H={horizon} at {level} % ({coverage:.1f} %, p={p:.3g})"
           for (name, horizon, level, coverage, n) in cases
           for p in [coverage_p_value(coverage, float(level), n)] if p < SIGNIFICANT]
    return (f"By chance alone: intervals calibrated exactly, on each case's target times, "
            f"would be within {TOLERANCE:g} points of the level in "
            f"{sum(chances):.1f} of {len(cases)} case-levels on average, and in all of them "
            f"with probability {all_within:.2g}. Further from the level than chance "
            f"explains (two-sided binomial test, p < {SIGNIFICANT:g}; about "
            f"{SIGNIFICANT * len(cases):.1f} such by chance): "
            f"{'; '.join(off) if off else 'none'}.")
