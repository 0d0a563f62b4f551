"""Scalers fitted on the train split only: fit -> apply -> invert, one per column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.errors import (
    InputSchemaError,
    InsufficientDataError,
    InvalidArgumentError,
)
from spline_lstm.transforms.step import PointwiseStep

SCALER_TYPES = ("standard", "minmax")
RELATIVE_SPREAD = 1e-12  # below this spread / magnitude a column is constant to float64


@dataclass(frozen=True)
class Scaler(PointwiseStep):
    """x_scaled = (x - offset) / scale. standard: mean/std; minmax: min/(max - min)."""

    kind: str
    offset: float
    scale: float

    step = "scaling"
    label = None  # scaling is not part of the chain's short name

    @classmethod
    def fit(cls, train: np.ndarray, kind: str, column: str = "the target",
            remedy: str = "check --target-col or supply a series that varies") -> "Scaler":
        """Fit on finite train values only (NaN, e.g. a differencing burn-in, are ignored).

        train: float [n], one column; ``column`` names it in error messages and ``remedy``
        says what to do when it is constant.
        """
        if kind not in SCALER_TYPES:
            raise InvalidArgumentError(f"--scaling {kind!r} is not one of {SCALER_TYPES}")
        values = np.asarray(train, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size < 2:
            raise InsufficientDataError(
                f"the train split has fewer than 2 values of {column} to fit the scaler; "
                "supply a longer series or lower --lookback / --horizon / differencing")
        magnitude = float(np.max(np.abs(values)))
        if kind == "standard":
            offset, scale = float(values.mean()), float(values.std())
            if scale == 0.0 and magnitude > 0:
                # Values around 1e-300 have a variance below the smallest float but a
                # perfectly usable spread: measure it relative to their magnitude.
                scale = float((values / magnitude).std()) * magnitude
        else:
            offset, scale = float(values.min()), float(values.max() - values.min())
        if not np.isfinite(scale) or scale <= RELATIVE_SPREAD * magnitude:
            raise InputSchemaError(
                f"{column} is constant over the train split (value {offset:g}): there is "
                f"nothing to learn; {remedy}")
        return cls(kind=kind, offset=offset, scale=scale)

    def apply(self, values: np.ndarray) -> np.ndarray:
        # Values that overflow become inf quietly: the model-space checks refuse them with
        # a code (a RuntimeWarning on the console before that says nothing more).
        with np.errstate(over="ignore"):
            return (np.asarray(values, dtype=np.float64) - self.offset) / self.scale

    def invert(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64) * self.scale + self.offset

    def to_dict(self) -> dict:
        return {"type": self.kind, "offset": self.offset, "scale": self.scale}

    @classmethod
    def from_dict(cls, payload: dict) -> "Scaler":
        return cls(kind=payload["type"], offset=float(payload["offset"]),
                   scale=float(payload["scale"]))
