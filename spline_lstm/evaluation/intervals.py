"""How good prediction intervals are on a split: coverage, width and the interval score (pure).

The interval (Winkler) score of a central (1 - a) interval [lo, hi] for an observation y
is (hi - lo) + (2 / a) (lo - y) if y < lo, + (2 / a) (y - hi) if y > hi: narrow intervals
that still hold the truth score low. Like every metric here it is computed in original
units on observed targets only, and the same function scores the pipeline and the
classical models' native intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spline_lstm.models.conformal import ConformalCalibrator


def level_key(level: float) -> str:
    """80 -> "80", 97.5 -> "97.5": the suffix of the lo_/hi_ columns and JSON keys."""
    return f"{level:g}"


def interval_metrics(y_true: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float,
                     mask: np.ndarray | None = None) -> dict[str, float]:
    """coverage (%), mean_width and interval_score of the central ``level`` % interval."""
    y_true, lo, hi = (np.asarray(a, dtype=np.float64) for a in (y_true, lo, hi))
    keep = np.ones(y_true.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    t, low, high = y_true[keep], lo[keep], hi[keep]
    if t.size == 0:
        return {"coverage": float("nan"), "mean_width": float("nan"),
                "interval_score": float("nan"), "n": 0}
    alpha = 1.0 - level / 100.0
    below, above = np.maximum(low - t, 0.0), np.maximum(t - high, 0.0)
    score = (high - low) + (2.0 / alpha) * (below + above)
    return {"coverage": float(np.mean((t >= low) & (t <= high)) * 100.0),
            "mean_width": float(np.mean(high - low)),
            "interval_score": float(np.mean(score)), "n": int(t.size)}


def intervals_report(y_true: np.ndarray, bounds: dict[float, tuple[np.ndarray, np.ndarray]],
                     mask: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """interval_metrics for every level of ``bounds`` (level -> (lo, hi)), keyed by level."""
    return {level_key(level): interval_metrics(y_true, lo, hi, level, mask)
            for level, (lo, hi) in sorted(bounds.items())}


def calibrate(data, forecaster, levels: list[float],
              extra: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = (),
              source: str = "the validation split") -> "ConformalCalibrator":
    """Conformal intervals for ``forecaster`` on ``data``: step spreads from its recent train
    windows, calibration scores from the validation windows plus ``extra`` (y_true, y_pred,
    scored) blocks, e.g. backtests. Never a test window."""
    from spline_lstm.evaluation.scoring import target_matrix
    from spline_lstm.models.conformal import ConformalCalibrator, step_scale

    pre = data.preprocessor
    power = pre.chain.power
    train = data.origins["train"][-SCALE_WINDOWS:]
    y_train, scored_train = target_matrix(data.values, data.observed, train, pre.horizon)
    scale = step_scale(power, y_train, forecaster.predict(data, train), scored_train)
    val = data.origins["val"]
    y_val, scored_val = target_matrix(data.values, data.observed, val, pre.horizon)
    blocks = [(y_val, forecaster.predict(data, val), scored_val), *extra]
    return ConformalCalibrator.fit(
        power=power, y_true=np.concatenate([b[0] for b in blocks]),
        y_pred=np.concatenate([b[1] for b in blocks]),
        scored=np.concatenate([b[2] for b in blocks]), step_scale=scale, levels=levels,
        source=source)


def calibrate_blocks(data, blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                     levels: list[float], source: str) -> "ConformalCalibrator":
    """Conformal intervals from forecasts made out of sample only: each block's (y_true,
    y_pred, scored), e.g. a classical model or a combination on the backtest blocks, which
    give both the step spreads and the calibration scores. Never a test window."""
    y_true, y_pred, scored = (np.concatenate([b[i] for b in blocks]) for i in range(3))
    return calibrate_on_blocks(y_true, y_pred, scored, levels, source,
                               relative_error_power(data))


def calibrate_on_blocks(y_true: np.ndarray, y_pred: np.ndarray, scored: np.ndarray,
                        levels: list[float], source: str, default_power,
                        prior_sd: float | None = None) -> "ConformalCalibrator":
    """``calibrate_blocks`` on the blocks' forecasts [N, H] in time order: in the space
    that their errors show (``error_growth.blocks_power``, from ``default_power``)."""
    from spline_lstm.evaluation.error_growth import PRIOR_SD, blocks_power
    from spline_lstm.models.conformal import ConformalCalibrator, step_scale

    power = blocks_power(y_true, y_pred, scored, default_power,
                         PRIOR_SD if prior_sd is None else prior_sd)
    return ConformalCalibrator.fit(
        power=power, y_true=y_true, y_pred=y_pred, scored=scored,
        step_scale=step_scale(power, y_true, y_pred, scored), levels=levels, source=source)


def relative_error_power(data):
    """The space a classical or combined forecast's errors are calibrated in: the run's
    power transform, or the log when that is none and the series is positive before the
    test split. A positive series' errors grow with its level, and on a trending one the
    test split sits higher than the blocks it is calibrated on: relative errors carry
    over, absolute ones come out too small (benchmarks/results/intervals_heldout.md,
    Findings). The network keeps its own chain's space: its errors are made in it."""
    from spline_lstm.transforms.power import PowerTransform

    power = data.preprocessor.chain.power
    before_test = np.asarray(data.values[:data.bounds.val_end], dtype=np.float64)
    if power.kind != "none" or not before_test.size or not np.nanmin(before_test) > 0:
        return power
    return PowerTransform(kind="log", lam=0.0)


SCALE_WINDOWS = 5000  # the most recent train windows give each step's spread
