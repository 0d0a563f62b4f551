"""Differencing w_t = (1 - B)^d (1 - B^m)^D x_t, inverted from the known levels (no fit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.errors import InvalidArgumentError


@dataclass(frozen=True)
class Differencer:
    """w_t = (1 - B)^d (1 - B^m)^D x_t with d, D in {0, 1}."""

    difference: int = 0
    seasonal_difference: int = 0  # the season m, 0 for none

    step = "differencing"

    def __post_init__(self) -> None:
        if self.difference not in (0, 1):
            raise InvalidArgumentError(f"--difference must be 0 or 1, got {self.difference}")
        if self.seasonal_difference < 0:
            raise InvalidArgumentError(
                f"--seasonal-difference must be 0 or a season length, got {self.seasonal_difference}")

    @property
    def label(self) -> str | None:
        parts = (["diff1"] if self.difference else []) + \
            ([f"sdiff{self.seasonal_difference}"] if self.seasonal_difference else [])
        return "+".join(parts) or None

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
