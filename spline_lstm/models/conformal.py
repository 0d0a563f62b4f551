"""Calibrated prediction intervals for any point forecaster: normalised split conformal.

Errors are measured in the space of the run's power transform (log for a multiplicative
series), so intervals widen with the level and are asymmetric in original units. Each
horizon step h has a spread s_h (how its errors grow with h: the forecaster's mean
absolute error per step on the train windows, made non-decreasing); the errors of the
calibration windows, divided by s_h, are pooled over steps, and their conformal
quantiles set every level:

    lo_h, hi_h = P^-1( P(forecast_h) + s_h * (q_lo, q_hi) )

Calibration windows are never test windows: the validation split's, plus the blocks of
the rolling-origin backtests when they were run. With n pooled scores a two-sided
conformal quantile at level L needs n >= 2 / (1 - L/100) - 1; below that the interval is
symmetric on absolute scores (n >= 1 / (1 - L/100) - 1), and below that a t-based
prediction interval on the scores (few calibration windows: a short series).

The adaptive variant (``adapt``, online conformal) keeps up when the error level drifts:
walking through forecasts in time order, each interval is calibrated on every error known
at its origin: the calibration errors plus those of earlier forecasts whose targets have
been observed by then (never its own, never a later one). The forecasts made after the
last one are calibrated on all of them.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from spline_lstm.transforms.power import PowerTransform


@dataclass(frozen=True)
class ConformalCalibrator:
    power: PowerTransform
    step_scale: tuple[float, ...]  # [H]
    quantiles: dict[str, tuple[float, float]]  # level ("80") -> normalised (lower, upper)
    methods: dict[str, str]  # level -> signed | absolute | t
    n_scores: int
    source: str
    # sorted |score| of the calibration windows (the adaptive variant walks over them)
    abs_scores: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False,
                                   repr=False)

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
                   abs_scores=np.sort(np.abs(scores)))

    def bounds(self, y_pred: np.ndarray) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """level -> (lo, hi) [N, H] in original units around forecasts ``y_pred``."""
        centre = self.power.apply(np.asarray(y_pred, dtype=np.float64))
        scale = np.asarray(self.step_scale)[None, :centre.shape[1]]
        out = {}
        for key, (q_lo, q_hi) in self.quantiles.items():
            lo = self.power.invert(centre + scale * q_lo)
            hi = self.power.invert(centre + scale * q_hi)
            out[float(key)] = (np.minimum(lo, y_pred), np.maximum(hi, y_pred))
        return out

    def adapt(self, y_true: np.ndarray, y_pred: np.ndarray, scored: np.ndarray,
              origins: np.ndarray
              ) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]], "ConformalCalibrator"]:
        """Online intervals for forecasts from ``origins`` (time order), and the calibrator
        of the forecasts that come after them (every outcome known by then)."""
        horizon = y_pred.shape[1]
        centre = self.power.apply(np.asarray(y_pred, dtype=np.float64))
        truth = self.power.apply(np.asarray(y_true, dtype=np.float64))
        scale = np.asarray(self.step_scale)[None, :horizon]
        widths, pooled = _walk(np.abs(truth - centre) / scale, scored, origins,
                               self.abs_scores, [1.0 - float(k) / 100.0 for k in self.quantiles])
        bounds, quantiles, methods = {}, {}, {}
        for i, key in enumerate(self.quantiles):
            lo = self.power.invert(centre - scale * widths[i])
            hi = self.power.invert(centre + scale * widths[i])
            bounds[float(key)] = (np.minimum(lo, y_pred), np.maximum(hi, y_pred))
            q, method = _absolute_quantile(pooled, 1.0 - float(key) / 100.0)
            quantiles[key], methods[key] = (-q, q), f"online {method}"
        return bounds, replace(self, quantiles=quantiles, methods=methods,
                               n_scores=int(pooled.size), abs_scores=pooled)

    def to_dict(self) -> dict:
        adaptive = any(m.startswith("online") for m in self.methods.values())
        return {"method": "online conformal" if adaptive else
                "normalised split conformal", "source": self.source,
                "n_scores": self.n_scores, "power": self.power.to_dict(),
                "step_scale": list(self.step_scale),
                "quantiles": {k: list(v) for k, v in self.quantiles.items()},
                "methods": dict(self.methods)}

    @classmethod
    def from_dict(cls, payload: dict) -> "ConformalCalibrator":
        return cls(power=PowerTransform.from_dict(payload["power"]),
                   step_scale=tuple(float(s) for s in payload["step_scale"]),
                   quantiles={k: (float(v[0]), float(v[1]))
                              for k, v in payload["quantiles"].items()},
                   methods=dict(payload["methods"]), n_scores=int(payload["n_scores"]),
                   source=str(payload["source"]))


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


def _walk(abs_scores: np.ndarray, scored: np.ndarray, origins: np.ndarray,
          calibration: np.ndarray, alphas: list[float]) -> tuple[list[np.ndarray], np.ndarray]:
    """Per miscoverage, the normalised half-width of each forecast (origin, h), calibrated
    on ``calibration`` plus the outcomes whose target (origin' + h') is at or before its
    origin; and all the scores at the end (sorted)."""
    n, horizon = abs_scores.shape
    widths = [np.empty((n, horizon)) for _ in alphas]
    known = list(calibration)  # kept sorted: each outcome is inserted once observed
    resolve_at = (np.asarray(origins)[:, None] + np.arange(1, horizon + 1)[None, :]).ravel()
    order = np.argsort(resolve_at, kind="stable")
    pending = 0
    for i, origin in enumerate(origins):
        while pending < order.size and resolve_at[order[pending]] <= origin:
            j, h = divmod(int(order[pending]), horizon)
            if scored[j, h] and np.isfinite(abs_scores[j, h]):
                bisect.insort(known, float(abs_scores[j, h]))
            pending += 1
        current = np.asarray(known)
        for width, alpha in zip(widths, alphas):
            width[i] = _absolute_quantile(current, alpha)[0]
    rest = abs_scores.ravel()[order[pending:]]
    keep = scored.ravel()[order[pending:]] & np.isfinite(rest)
    return widths, np.sort(np.concatenate([np.asarray(known), rest[keep]]))


def _absolute_quantile(sorted_abs: np.ndarray, alpha: float) -> tuple[float, str]:
    """The conformal (1 - alpha) quantile of sorted |scores|, or a t-based half-width
    when there are too few of them for one."""
    n = sorted_abs.size
    k = math.ceil((n + 1) * (1 - alpha))
    if n and k <= n:
        return float(sorted_abs[k - 1]), "absolute"
    spread = float(np.sqrt(np.mean(sorted_abs ** 2))) if n else 1.0
    return float(stats.t.ppf(1 - alpha / 2, df=max(n - 1, 1))) * spread * \
        math.sqrt(1 + 1 / max(n, 1)), "t"


def _errors(power: PowerTransform, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return power.apply(np.asarray(y_true, np.float64)) - power.apply(
            np.asarray(y_pred, np.float64))


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
