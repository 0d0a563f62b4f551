"""Target transforms fitted on the train split only: power (log / Box-Cox) and differencing.

Each transform is fit -> apply -> invert, returns new arrays, and keeps its fitted
parameters in a plain dict (stored in preprocessor.pkl and meta.json).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from contracts.errors import InvalidArgumentError

POWER_KINDS = ("none", "log", "boxcox")


def transform_name(power: str, difference: int, seasonal_difference: int,
                   seasonal_adjust: bool = False) -> str:
    """Short label such as 'levels', 'sdiff52', 'log+sdiff12' or 'mstl' (rolling MSTL
    seasonal adjustment)."""
    parts = [power] if power != "none" else []
    parts += ["mstl"] if seasonal_adjust else []
    parts += ["diff1"] if difference else []
    parts += [f"sdiff{seasonal_difference}"] if seasonal_difference else []
    return "+".join(parts) or "levels"


@dataclass(frozen=True)
class PowerTransform:
    """y = boxcox(x + shift, lam) (lam 0 = log); identity for kind 'none'."""

    kind: str = "none"
    lam: float = 1.0
    shift: float = 0.0

    @classmethod
    def fit(cls, train: np.ndarray, kind: str) -> "PowerTransform":
        """Fit on train values (float [n], finite). Box-Cox lambda by maximum likelihood."""
        if kind not in POWER_KINDS:
            raise InvalidArgumentError(f"unknown power transform {kind!r}; use one of {POWER_KINDS}")
        if kind == "none":
            return cls()
        low = float(np.min(train))
        if low <= 0:
            raise InvalidArgumentError(
                f"--power {kind} needs a positive series, but the train split's minimum is "
                f"{low:g}; use --power none")
        if kind == "log":
            return cls(kind="log", lam=0.0)
        train = np.asarray(train, dtype=np.float64)
        try:
            lam = float(stats.boxcox_normmax(train, method="mle"))
        except (ValueError, RuntimeError):  # e.g. a constant train split: no optimum
            lam = 1.0
        if not np.isfinite(lam):
            lam = 1.0
        return cls(kind="boxcox", lam=float(np.clip(lam, -1.0, 2.0)))

    def apply(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.array(values, dtype=np.float64, copy=True)
        return special.boxcox(np.asarray(values, dtype=np.float64) + self.shift, self.lam)

    def invert(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "none":
            return np.array(values, dtype=np.float64, copy=True)
        values = np.asarray(values, dtype=np.float64)
        if self.lam != 0:
            # Keep 1 + lam*y > 0 so that a wild forecast cannot produce NaN.
            bound = -1.0 / self.lam
            values = np.maximum(values, bound + 1e-9) if self.lam > 0 else np.minimum(values, bound - 1e-9)
        return special.inv_boxcox(values, self.lam) - self.shift

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lambda": self.lam, "shift": self.shift}

    @classmethod
    def from_dict(cls, payload: dict) -> "PowerTransform":
        return cls(kind=payload["kind"], lam=float(payload["lambda"]), shift=float(payload["shift"]))


@dataclass(frozen=True)
class Differencer:
    """w_t = (1 - B)^d (1 - B^m)^D x_t with d, D in {0, 1}; nothing to fit."""

    difference: int = 0
    seasonal_difference: int = 0  # the season m, 0 for none

    def __post_init__(self) -> None:
        if self.difference not in (0, 1):
            raise InvalidArgumentError(f"--difference must be 0 or 1, got {self.difference}")
        if self.seasonal_difference < 0:
            raise InvalidArgumentError(
                f"--seasonal-difference must be 0 or a season length, got {self.seasonal_difference}")

    @property
    def coefficients(self) -> np.ndarray:
        """c with w_t = sum_j c[j] x_{t-j}."""
        poly = np.array([1.0])
        if self.difference:
            poly = np.convolve(poly, [1.0, -1.0])
        if self.seasonal_difference:
            seasonal = np.zeros(self.seasonal_difference + 1)
            seasonal[0], seasonal[-1] = 1.0, -1.0
            poly = np.convolve(poly, seasonal)
        return poly

    @property
    def burn_in(self) -> int:
        """Leading points without a defined differenced value."""
        return len(self.coefficients) - 1

    def apply(self, levels: np.ndarray) -> np.ndarray:
        """Differenced series, same length; the first ``burn_in`` values are NaN."""
        levels = np.asarray(levels, dtype=np.float64)
        coef = self.coefficients
        out = np.full(len(levels), np.nan)
        if len(coef) == 1:
            out[:] = levels
            return out
        k = len(coef) - 1
        out[k:] = np.convolve(levels, coef, mode="valid")
        return out

    def invert_forecasts(self, predicted: np.ndarray, levels: np.ndarray,
                         origins: np.ndarray) -> np.ndarray:
        """Turn differenced forecasts back into levels.

        predicted: [N, H] differenced values for steps 1..H after each origin.
        levels: [n] the known levels (used only at or before each origin).
        origins: [N] index of the last known point of each forecast.
        Returns [N, H] levels; steps beyond the origin use earlier forecast steps.
        """
        predicted = np.asarray(predicted, dtype=np.float64)
        coef = self.coefficients
        if len(coef) == 1:
            return predicted.copy()
        n_origins, horizon = predicted.shape
        k = len(coef) - 1
        # history[:, j] holds level at origin - k + 1 + j; forecasts are appended after it.
        lag_index = origins[:, None] + np.arange(-k + 1, 1)[None, :]
        history = np.concatenate([levels[lag_index], np.empty((n_origins, horizon))], axis=1)
        for step in range(horizon):
            pos = k + step
            lagged = sum(coef[j] * history[:, pos - j] for j in range(1, k + 1))
            history[:, pos] = predicted[:, step] - lagged
        return history[:, k:]

    def to_dict(self) -> dict:
        return {"difference": self.difference, "seasonal_difference": self.seasonal_difference}

    @classmethod
    def from_dict(cls, payload: dict) -> "Differencer":
        return cls(difference=int(payload["difference"]),
                   seasonal_difference=int(payload["seasonal_difference"]))
