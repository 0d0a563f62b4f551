"""Calibrated prediction intervals for any point forecaster: normalised split conformal.

Errors are measured in the space of the run's power transform (log for a multiplicative
series; a classical or combined forecast of a positive series is calibrated on log errors
too, or in the Box-Cox space its blocks' errors show, see ``evaluation.intervals.
relative_error_power`` and ``evaluation.error_growth``), so intervals widen with the level
and are asymmetric in original units. Each horizon step h has a spread s_h (how its
errors grow with h: the forecaster's mean absolute error per step on the train windows,
made non-decreasing); the errors of the calibration windows, divided by s_h, are pooled
over steps, and their conformal quantiles set every level:

    lo_h, hi_h = P^-1( P(forecast_h) + s_h * (q_lo, q_hi) )

Calibration windows are never test windows: the validation split's, plus the blocks of
the rolling-origin backtests when they were run. With n pooled scores a two-sided
conformal quantile at level L needs n >= 2 / (1 - L/100) - 1; below that the interval is
symmetric on absolute scores (n >= 1 / (1 - L/100) - 1), and below that a t-based
prediction interval on the scores (few calibration windows: a short series), never
narrower than the largest score.

The adaptive variant (``adapt``, online conformal) keeps up when the error level drifts:
walking through forecasts in time order, each interval is calibrated on every error known
at its origin: the calibration errors plus those of earlier forecasts whose targets have
been observed by then (never its own, never a later one). Each level also has a working
miscoverage that follows its misses (adaptive conformal inference, Gibbs & Candes 2021):
a run of misses widens the next intervals, a run of hits narrows them, so coverage stays
near the level when the errors of the test period are larger or smaller than those of
the calibration windows (benchmarks/results/intervals_more.md). The forecasts made after
the last one are calibrated on all the errors, at the working miscoverage the walk
ended with. Whichever way, the levels nest: a higher level's band holds every lower one's.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from spline_lstm.transforms.power import PowerTransform

# Adaptive walk (``ConformalCalibrator.adapt``): the outcomes observed at one time move
# their level's working miscoverage by ONLINE_RATE / H * (target - share missed); the
# working miscoverage stays within [ONLINE_FLOOR, ONLINE_CEILING] x the target's (an
# 80 % interval between the 40 % and 98 % quantiles of the errors). Within 0.25-2 x a
# test period calmer than its calibration blocks stayed over-covered (electrical
# equipment orders at 80 %: 92 %); the wider bounds were chosen on 15 other cases and
# brought more case-levels within 5 points of the level there and on the benchmarks,
# the interval score within 1 % of before (benchmarks/results/intervals.md, Findings).
ONLINE_RATE = 0.1
ONLINE_FLOOR = 0.1
ONLINE_CEILING = 3.0


@dataclass(frozen=True)
class WalkRule:
    """How the adaptive walk moves and what it pools; the default is the product's.

    ``benchmarks/interval_walk.py`` replays recorded test splits under other rules
    (``benchmarks/results/interval_walk.md``). One step for every level, as before, let a
    single miss at 95 % take that level past its bound, where a wrong morning in gold's
    calibration errors set the band (2.4 x the best classical model's interval score); a
    step in proportion to the level's miscoverage was level with it on the four sets the
    walk was built on and ahead on the three draws after (interval score 1.015 -> 0.994,
    within 5 points 50 -> 49 of 80).
    """
    relative_step: bool = True  # step x alpha / 0.2: every level moves by a like share
    clamp: bool = False  # the working miscoverage held within its bounds after each step
    signed: bool = False  # two-sided quantiles of signed scores, as the static bounds

    def step(self, alpha: float, rate: float, horizon: int) -> float:
        """How far one observed outcome moves a level aiming at miscoverage ``alpha``.

        The H outcomes that resolve at one time share its shock: together they move a
        level by rate / H. And an outcome arrives up to H steps after its interval was
        set: a walk as fast as a one-step forecast's would react a season late, widening
        intervals after the misses have passed (co2 H=52: interval score +13 % at 0.02 per
        time). 0.1 / H per time had the most cases within 5 points of the level over the
        three interval benchmarks (benchmarks/results/intervals*.md, Findings). That is
        the 80 % level's; a level aiming at miscoverage alpha moves alpha / 0.2 as far
        (``relative_step``), so a miss takes a 95 % level from 0.05 to 0.026, not past its
        bound (0.1 x 0.05), and the walk reacts alike at every level.
        """
        # rounded: 1 - 0.80 is 0.19999999999999996 in floating point, and the 80 % level's
        # step must stay exactly the one it always had
        share = round(alpha / 0.2, 9) if self.relative_step else 1.0
        return rate / horizon ** 2 * share

    def pooled(self, scores):
        """Scores (a float or an array) in the form this rule pools them."""
        return scores if self.signed else np.abs(scores)

    def bounds(self, sorted_pool: np.ndarray, working: float, target: float
               ) -> tuple[tuple[float, float], str]:
        """Normalised (lower, upper) at the working miscoverage of a level aiming at
        ``target``, from the pool (sorted, in this rule's form)."""
        alpha = _bounded(working, target)
        if self.signed:
            return _quantiles(sorted_pool, alpha)
        q, method = _absolute_quantile(sorted_pool, alpha)
        return (-q, q), method


@dataclass(frozen=True)
class ConformalCalibrator:
    power: PowerTransform
    step_scale: tuple[float, ...]  # [H]
    quantiles: dict[str, tuple[float, float]]  # level ("80") -> normalised (lower, upper)
    methods: dict[str, str]  # level -> signed | absolute | t
    n_scores: int
    source: str
    # sorted (signed) scores of the calibration windows (the adaptive variant walks over
    # them)
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False,
                               repr=False)
    # level -> the miscoverage an adaptive walk ended with (its quantiles are at it)
    online_miscoverage: dict[str, float] = field(default_factory=dict)

    @property
    def levels(self) -> list[float]:
        return sorted(float(k) for k in self.quantiles)

    @classmethod
    def fit(cls, *, power: PowerTransform, y_true: np.ndarray, y_pred: np.ndarray,
            scored: np.ndarray, step_scale: np.ndarray, levels: list[float],
            source: str) -> "ConformalCalibrator":
        """Calibrate on forecasts ``y_pred`` [N, H] of targets ``y_true`` (original units)."""
        scale = np.asarray(step_scale, dtype=np.float64)
        errors = _errors(power, y_true, y_pred)
        keep = np.asarray(scored, dtype=bool) & np.isfinite(errors)
        scores = (errors / scale[None, :])[keep]
        quantiles, methods = {}, {}
        for level in levels:
            key = f"{level:g}"
            quantiles[key], methods[key] = _quantiles(scores, 1.0 - level / 100.0)
        return cls(power=power, step_scale=tuple(float(s) for s in scale), quantiles=quantiles,
                   methods=methods, n_scores=int(scores.size), source=source,
                   scores=np.sort(scores))

    def bounds(self, y_pred: np.ndarray) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """level -> (lo, hi) [N, H] in original units around forecasts ``y_pred``."""
        centre = _transformed(self.power, y_pred)
        scale = np.asarray(self.step_scale)[None, :centre.shape[1]]
        out = {}
        for key, (q_lo, q_hi) in self.quantiles.items():
            lo = self.power.invert(centre + scale * q_lo)
            hi = self.power.invert(centre + scale * q_hi)
            out[float(key)] = (np.minimum(lo, y_pred), np.maximum(hi, y_pred))
        return _nested(out)

    def adapt(self, y_true: np.ndarray, y_pred: np.ndarray, scored: np.ndarray,
              origins: np.ndarray, rate: float = ONLINE_RATE, rule: WalkRule = WalkRule()
              ) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]], "ConformalCalibrator"]:
        """Online intervals for forecasts from ``origins`` (time order), and the calibrator
        of the forecasts that come after them (every outcome known by then, each level at
        the miscoverage its walk ended with). ``rate``: how fast a level's miscoverage
        target reacts to misses (0: pooling alone)."""
        horizon = y_pred.shape[1]
        centre = _transformed(self.power, y_pred)
        scale = np.asarray(self.step_scale)[None, :horizon]
        alphas = [1.0 - float(k) / 100.0 for k in self.quantiles]
        # The outcomes' scores are errors in the power space, undefined (NaN) for a
        # forecast outside it, as in the calibration: the floor that gives such a forecast
        # its band would score it ~700 / s_h in a log space and widen every later band.
        scores = _errors(self.power, y_true, y_pred) / scale
        sides, pooled, final = _walk(scores, scored, origins, self.scores, alphas, rate,
                                     rule)
        bounds, quantiles, methods = {}, {}, {}
        for i, key in enumerate(self.quantiles):
            lo = self.power.invert(centre + scale * sides[i][0])
            hi = self.power.invert(centre + scale * sides[i][1])
            bounds[float(key)] = (np.minimum(lo, y_pred), np.maximum(hi, y_pred))
            quantiles[key], method = rule.bounds(pooled, final[i], alphas[i])
            methods[key] = f"online {method}"
        known = np.asarray(scored, dtype=bool)[:, :horizon] & np.isfinite(scores)
        after = replace(self, quantiles=quantiles, methods=methods,
                        n_scores=int(pooled.size),
                        scores=np.sort(np.concatenate([self.scores, scores[known]])),
                        online_miscoverage={k: _bounded(a, t) for k, a, t in
                                            zip(self.quantiles, final, alphas)}
                        if rate else {})
        return _nested(bounds), after

    def to_dict(self) -> dict:
        adaptive = any(m.startswith("online") for m in self.methods.values())
        return {"method": "online conformal" if adaptive else
                "normalised split conformal", "source": self.source,
                "n_scores": self.n_scores, "power": self.power.to_dict(),
                "step_scale": list(self.step_scale),
                "quantiles": {k: list(v) for k, v in self.quantiles.items()},
                "methods": dict(self.methods),
                "online_miscoverage": dict(self.online_miscoverage)}

    @classmethod
    def from_dict(cls, payload: dict) -> "ConformalCalibrator":
        return cls(power=PowerTransform.from_dict(payload["power"]),
                   step_scale=tuple(float(s) for s in payload["step_scale"]),
                   quantiles={k: (float(v[0]), float(v[1]))
                              for k, v in payload["quantiles"].items()},
                   methods=dict(payload["methods"]), n_scores=int(payload["n_scores"]),
                   source=str(payload["source"]),
                   online_miscoverage={k: float(v) for k, v in
                                       payload.get("online_miscoverage", {}).items()})


def _nested(bounds: dict[float, tuple[np.ndarray, np.ndarray]]
           ) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Each level's interval widened to hold every lower level's, forecast by forecast.

    Each level is calibrated (and, adaptively, walks) on its own, so now and then a 95 %
    band came out narrower than the 80 % one on one side (19 of 65,523 forecast rows of
    the accuracy benchmarks' runs): a higher level never gives a narrower band.
    """
    out, lo_acc, hi_acc = {}, None, None
    for level in sorted(bounds):
        lo, hi = bounds[level]
        lo_acc = lo if lo_acc is None else np.minimum(lo, lo_acc)
        hi_acc = hi if hi_acc is None else np.maximum(hi, hi_acc)
        out[level] = (lo_acc, hi_acc)
    return out


def step_scale(power: PowerTransform, y_true: np.ndarray, y_pred: np.ndarray,
               scored: np.ndarray) -> np.ndarray:
    """Mean absolute error of each step in the power space, non-decreasing over steps."""
    errors = np.abs(_errors(power, y_true, y_pred))
    keep = np.asarray(scored, dtype=bool) & np.isfinite(errors)
    sums, counts = np.where(keep, errors, 0.0).sum(axis=0), keep.sum(axis=0)
    scale = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    known = scale[np.isfinite(scale) & (scale > 0)]
    floor = float(known.min()) if known.size else 1.0
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, floor)
    return np.maximum.accumulate(scale)


def _walk(scores: np.ndarray, scored: np.ndarray, origins: np.ndarray,
          calibration: np.ndarray, alphas: list[float], rate: float,
          rule: WalkRule = WalkRule()
          ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, list[float]]:
    """Per miscoverage, the normalised bounds (lower, upper) of each forecast (origin, h),
    calibrated on ``calibration`` (sorted signed scores) plus the outcomes whose target
    (origin' + h') is at or before its origin; all the pooled scores at the end (sorted,
    in the rule's form: |score| by default); and each level's final miscoverage.

    Adaptive conformal inference (Gibbs & Candes, 2021): each observed outcome moves its
    level's working miscoverage by ``rule.step`` * (target - missed), so a run of misses
    widens the next intervals and a run of hits narrows them, whatever the scores'
    distribution does. The outcome's own interval is the one its forecast was given at
    its origin. An outcome whose score is undefined (a forecast or target outside the
    power space) joins no pool and counts as a miss: its band, [forecast, ~0] in a log
    space, cannot hold a positive target.
    """
    n, horizon = scores.shape
    sides = [(np.empty((n, horizon)), np.empty((n, horizon))) for _ in alphas]
    working = list(alphas)
    steps = [rule.step(alpha, rate, horizon) for alpha in alphas]
    # kept sorted: each outcome is inserted once observed
    known = np.sort(rule.pooled(np.asarray(calibration, dtype=np.float64))).tolist()
    resolve_at = (np.asarray(origins)[:, None] + np.arange(1, horizon + 1)[None, :]).ravel()
    order = np.argsort(resolve_at, kind="stable")
    pending = 0
    for i, origin in enumerate(origins):
        while pending < order.size and resolve_at[order[pending]] <= origin:
            j, h = divmod(int(order[pending]), horizon)
            if scored[j, h]:
                score = float(scores[j, h])
                defined = math.isfinite(score)
                if defined:
                    bisect.insort(known, rule.pooled(score))
                for k, alpha in enumerate(alphas):
                    lower, upper = sides[k][0][j, h], sides[k][1][j, h]
                    missed = not defined or not lower <= score <= upper
                    working[k] += steps[k] * (alpha - missed)
                    if rule.clamp:
                        working[k] = _bounded(working[k], alpha)
            pending += 1
        current = np.asarray(known)
        for (lower, upper), alpha, target in zip(sides, working, alphas):
            (lower[i], upper[i]) = rule.bounds(current, alpha, target)[0]
    rest = scores.ravel()[order[pending:]]
    rest = rule.pooled(rest[scored.ravel()[order[pending:]] & np.isfinite(rest)])
    return sides, np.sort(np.concatenate([np.asarray(known), rest])), working


def _bounded(working: float, target: float) -> float:
    """A working miscoverage kept within [FLOOR, CEILING] x its target's, so that a run of
    misses or hits never gives an endless or an empty interval."""
    return min(max(working, target * ONLINE_FLOOR), target * ONLINE_CEILING, 0.999)


def _absolute_quantile(sorted_abs: np.ndarray, alpha: float) -> tuple[float, str]:
    """The conformal (1 - alpha) quantile of sorted |scores|, or a t-based half-width
    when there are too few of them for one.

    The t-based width is never narrower than the largest score: it serves miscoverages
    smaller than the scores can resolve (e.g. an adaptive level after a miss), and a
    smaller miscoverage must not give a narrower interval than the conformal quantiles
    of larger ones, which heavy-tailed scores would otherwise allow.
    """
    n = sorted_abs.size
    k = math.ceil((n + 1) * (1 - alpha))
    if n and k <= n:
        return float(sorted_abs[k - 1]), "absolute"
    spread = float(np.sqrt(np.mean(sorted_abs ** 2))) if n else 1.0
    width = float(stats.t.ppf(1 - alpha / 2, df=max(n - 1, 1))) * spread * \
        math.sqrt(1 + 1 / max(n, 1))
    return max(width, float(sorted_abs[-1]) if n else 0.0), "t"


def _errors(power: PowerTransform, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return power.apply(np.asarray(y_true, np.float64)) - power.apply(
            np.asarray(y_pred, np.float64))


def _transformed(power: PowerTransform, values: np.ndarray) -> np.ndarray:
    """``power.apply`` of forecasts, defined everywhere: a log or Box-Cox space has no
    value at or below ``-shift``, so a forecast there is taken at the smallest value above
    it. Its band is then [forecast, ~0] instead of NaN. (Calibration errors of such
    forecasts stay undefined and are left out, as before.)"""
    values = np.asarray(values, dtype=np.float64)
    if power.kind != "none":
        floor = np.nextafter(-power.shift, np.inf) if power.shift else np.finfo(np.float64).tiny
        values = np.where(np.isnan(values) | (values > -power.shift), values, floor)
    with np.errstate(all="ignore"):
        return power.apply(values)


def _quantiles(scores: np.ndarray, alpha: float) -> tuple[tuple[float, float], str]:
    """(lower, upper) normalised bounds at miscoverage ``alpha``, and how they were got."""
    n = scores.size
    ordered = np.sort(scores)
    if n and math.ceil((n + 1) * (1 - alpha / 2)) <= n and math.floor((n + 1) * alpha / 2) >= 1:
        upper = ordered[math.ceil((n + 1) * (1 - alpha / 2)) - 1]
        lower = ordered[math.floor((n + 1) * alpha / 2) - 1]
        return (float(min(lower, 0.0)), float(max(upper, 0.0))), "signed"
    q, method = _absolute_quantile(np.sort(np.abs(scores)), alpha)
    return (-q, q), method
