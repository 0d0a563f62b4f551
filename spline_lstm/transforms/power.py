"""Power transform fitted on the train split: none, log or Box-Cox (fit -> apply -> invert)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from contracts.errors import InvalidArgumentError
from spline_lstm.transforms.step import PointwiseStep

POWER_KINDS = ("none", "log", "boxcox")


@dataclass(frozen=True)
class PowerTransform(PointwiseStep):
    """y = boxcox(x + shift, lam) (lam 0 = log); identity for kind 'none'."""

    kind: str = "none"
    lam: float = 1.0
    shift: float = 0.0

    step = "power"

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
            # Brent's search may step onto an undefined likelihood on its way to the
            # optimum; numpy's note about it is noise on the console (errstate is
            # per thread, unlike warning filters)
            with np.errstate(invalid="ignore", over="ignore"):
                lam = float(stats.boxcox_normmax(train, method="mle"))
        except (ValueError, RuntimeError):  # e.g. a constant train split: no optimum
            lam = 1.0
        if not np.isfinite(lam):
            lam = 1.0
        return cls(kind="boxcox", lam=float(np.clip(lam, -1.0, 2.0)))

    @staticmethod
    def require_domain(values: np.ndarray, kind: str) -> None:
        """Refuse (20) a log / Box-Cox transform of a series with a value <= 0 anywhere:
        it is applied to every point and forecast origin, not only to the train split."""
        if kind in ("none", "auto") or not len(values):
            return
        low = int(np.argmin(values))
        if values[low] <= 0:
            raise InvalidArgumentError(
                f"--power {kind} needs every value of the series to be positive, but point "
                f"{low + 1} of {len(values)} is {values[low]:g}; use --power none (or shift "
                "the series to positive values)")

    @property
    def label(self) -> str | None:
        """Its part of the chain's short name, or None when it does nothing."""
        return None if self.kind == "none" else self.kind

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

