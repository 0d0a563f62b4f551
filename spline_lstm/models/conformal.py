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

The adaptive variant (``adapt``, adaptive conformal inference, Gibbs & Candès 2021) keeps
coverage when the error level drifts: walking through forecasts in time order, each
interval that turns out to miss its target (known once the target is observed, never
before) lowers the working miscoverage, each hit raises it:
alpha <- alpha + gamma (alpha* - miss), on the same calibration scores. The working
levels reached at the end calibrate the forecasts made from there on.
"""

from __future__ import annotations

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
              origins: np.ndarray, gamma: float = 0.05
              ) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]], "ConformalCalibrator"]:
        """Adaptive intervals for forecasts from ``origins`` (time order) and the calibrator
        at the working levels reached at the end. ``gamma`` is per horizon of outcomes."""
        horizon = y_pred.shape[1]
        centre = self.power.apply(np.asarray(y_pred, dtype=np.float64))
        truth = self.power.apply(np.asarray(y_true, dtype=np.float64))
        scale = np.asarray(self.step_scale)[None, :horizon]
        step = gamma / horizon
        bounds, quantiles, methods = {}, {}, {}
        for key in self.quantiles:
            target = 1.0 - float(key) / 100.0
            q, alpha = _walk(np.abs(truth - centre) / scale, scored, origins,
                             self.abs_scores, target, step)
            lo, hi = self.power.invert(centre - scale * q), self.power.invert(centre + scale * q)
            bounds[float(key)] = (np.minimum(lo, y_pred), np.maximum(hi, y_pred))
            final = _adaptive_quantile(self.abs_scores, alpha)
            quantiles[key], methods[key] = (-final, final), f"adaptive (alpha {alpha:.4f})"
        return bounds, replace(self, quantiles=quantiles, methods=methods)

    def to_dict(self) -> dict:
        adaptive = any(m.startswith("adaptive") for m in self.methods.values())
        return {"method": "adaptive conformal (ACI)" if adaptive else
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
          calibration: np.ndarray, target: float, step: float) -> tuple[np.ndarray, float]:
    """Per forecast (origin, h) the normalised half-width used, walking in time order;
    an outcome updates alpha once its target (origin + h) is at or before the origin."""
    n, horizon = abs_scores.shape
    widths = np.empty((n, horizon))
    alpha = target
    resolve_at = (np.asarray(origins)[:, None] + np.arange(1, horizon + 1)[None, :]).ravel()
    order = np.argsort(resolve_at, kind="stable")
    pending = 0
    for i, origin in enumerate(origins):
        while pending < order.size and resolve_at[order[pending]] <= origin:
            j, h = divmod(int(order[pending]), horizon)
            if scored[j, h]:
                alpha += step * (target - float(abs_scores[j, h] > widths[j, h]))
            pending += 1
        widths[i] = _adaptive_quantile(calibration, alpha)
    return widths, alpha


def _adaptive_quantile(sorted_abs: np.ndarray, alpha: float) -> float:
    """The (1 - alpha) conformal quantile; alpha <= 0 is capped at twice the largest score
    (an infinite interval tells nobody anything), alpha >= 1 gives 0."""
    n = sorted_abs.size
    if n == 0:
        return 0.0
    if alpha >= 1:
        return 0.0
    k = math.ceil((n + 1) * (1 - alpha)) if alpha > 0 else n + 1
    return float(sorted_abs[k - 1]) if k <= n else 2.0 * float(sorted_abs[-1])


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
    absolute = np.sort(np.abs(scores))
    if n and math.ceil((n + 1) * (1 - alpha)) <= n:
        q = float(absolute[math.ceil((n + 1) * (1 - alpha)) - 1])
        return (-q, q), "absolute"
    spread = float(np.sqrt(np.mean(scores ** 2))) if n else 1.0
    q = float(stats.t.ppf(1 - alpha / 2, df=max(n - 1, 1))) * spread * math.sqrt(1 + 1 / max(n, 1))
    return (-q, q), "t"
