"""How a forecast's errors grow with its level: the space its intervals are calibrated in.

A classical or combined forecast of a positive series is calibrated on log errors by
default (``intervals.relative_error_power``): errors in proportion to the level carry over
to a trending series' test split, which sits higher than its calibration blocks. But not
every positive series' errors grow in proportion. Lynx counts swing from 39 to 6,991 with
errors far from proportional, a temperature in degrees Fahrenheit is positive by accident
of its unit, and half-hourly demand errs alike at night and at the evening peak. Log
errors give such series bands that are far too wide above high forecasts.

The calibration blocks show how errors grow: the slope b of log |error| on log forecast
(b = 1 relative errors, the log; b = 0 absolute ones, original units; between, a Box-Cox
space with lambda = 1 - b). Two things keep the estimate honest:

- time: a trending series' level moves with time, and so may its error level (calmer or
  rougher years) for reasons that have nothing to do with the level. A linear time term
  takes that share, so on such blocks the slope's standard error is large;
- a prior: b is shrunk towards 1, the default, with a normal prior of sd ``PRIOR_SD``
  (absolute errors two prior sds away). A slope measured on blocks whose levels hardly
  vary, or confounded with time, stays close to the log; one measured on levels that
  swing up and down (lynx: slope 0.54, se 0.13) moves the space.

On the four interval benchmarks this brought each set's mean interval score at or below
the log's (the R series' 1.027 -> 0.969), with no set losing a case-level within 5 points
of the level (benchmarks/results/intervals*.md and interval_walk.md, Findings of
2026-12-07).
"""

from __future__ import annotations

import numpy as np

from spline_lstm.transforms.power import PowerTransform

PRIOR_SD = 0.5  # of the slope, around 1 (relative errors)
SMALL_ERROR_QUANTILE = 0.1  # errors below this quantile count as it (see growth_slope)
MIN_ERRORS = 8


def growth_slope(y_true: np.ndarray, y_pred: np.ndarray, scored: np.ndarray
                 ) -> tuple[float, float] | None:
    """(slope, standard error) of log |error| on log forecast over forecasts [N, H] in time
    order, with a linear time term; None where the blocks cannot estimate it.

    Each step's errors are divided by their median, so the steps' spreads (which grow
    with h) do not pass for level. An error near zero has a log far below the rest and
    says nothing about the scale: errors below the ``SMALL_ERROR_QUANTILE`` quantile count
    as it. The H errors of one origin share its shocks, so the standard error counts
    origins, not errors.
    """
    y_true, y_pred = (np.asarray(a, dtype=np.float64) for a in (y_true, y_pred))
    errors = np.abs(y_true - y_pred)
    keep = np.asarray(scored, dtype=bool) & np.isfinite(errors) & (y_pred > 0)
    masked = np.where(keep, errors, np.nan)
    with np.errstate(all="ignore"):
        counts = keep.sum(axis=0)
        median = np.array([np.median(masked[keep[:, h], h]) if counts[h] else np.nan
                           for h in range(masked.shape[1])])
        keep &= (np.isfinite(median) & (median > 0))[None, :]
        relative = masked / median[None, :]
    if keep.sum() < MIN_ERRORS:
        return None
    rows = np.broadcast_to(np.arange(y_pred.shape[0], dtype=np.float64)[:, None],
                           y_pred.shape)
    level, time, size = np.log(y_pred[keep]), rows[keep], relative[keep]
    positive = size[size > 0]
    if not positive.size or level.std() == 0 or time.std() == 0:
        return None
    small = np.quantile(size, SMALL_ERROR_QUANTILE)
    response = np.log(np.maximum(size, small if small > 0 else positive.min()))
    # The slope on the level with time held fixed (Frisch-Waugh): on the part of the
    # level that a line in time does not explain. A level that is (nearly) a function of
    # time, e.g. smooth exponential growth, leaves no such part: nothing to measure.
    time = (time - time.mean()) / time.std()
    level = level - level.mean()
    own = level - time * (time @ level) / (time @ time)
    if own @ own <= 1e-6 * (level @ level):
        return None
    design = np.column_stack([np.ones_like(level), own, time])
    coef, *_ = np.linalg.lstsq(design, response, rcond=None)
    residual = response - design @ coef
    variance = residual @ residual / max(level.size - design.shape[1], 1)
    origins = int(np.unique(rows[keep]).size)
    se = float(np.sqrt(variance / (own @ own) * level.size / origins))
    if not (np.isfinite(coef[1]) and np.isfinite(se) and se > 0):
        return None
    return float(coef[1]), se


def blocks_power(y_true: np.ndarray, y_pred: np.ndarray, scored: np.ndarray,
                 default: PowerTransform, prior_sd: float = PRIOR_SD) -> PowerTransform:
    """The space to calibrate forecasts [N, H] of the blocks in: ``default`` unless that is
    the log, then the Box-Cox space of the shrunk slope (the log at 1 or above, original
    units at 0 or below). ``prior_sd`` 0: always ``default``."""
    if default.kind != "log" or prior_sd <= 0:
        return default
    estimate = growth_slope(y_true, y_pred, scored)
    if estimate is None:
        return default
    slope, se = estimate
    weight = se ** -2 / (se ** -2 + prior_sd ** -2)
    lam = float(np.clip(1.0 - (weight * slope + (1.0 - weight)), 0.0, 1.0))
    if lam <= 0.0:
        return default
    if lam >= 1.0:
        return PowerTransform()
    return PowerTransform(kind="boxcox", lam=lam)
