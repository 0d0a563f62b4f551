"""The target's transform chain: the one place that says which transforms apply, in what order.

power -> seasonal adjustment -> differencing -> scaling, each fitted on the train split
only (or fitting nothing) and each only looking back. ``TransformSpec`` says what to fit
(the vocabulary the command line, selection and reports share); ``TransformChain`` is the
fitted chain: apply (original units -> model space), invert forecasts (model space ->
original units, in reverse order), and one serialised description read by the
preprocessor payload, meta.json and the report alike. Like a darts ``Pipeline``:
fit / transform / inverse_transform over steps that share one small interface
(transforms/step.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.errors import ArtifactContractError
from spline_lstm.transforms.differencing import Differencer
from spline_lstm.transforms.power import PowerTransform
from spline_lstm.transforms.scaling import Scaler
from spline_lstm.transforms.seasonal_adjust import SeasonalAdjuster

STEP_ORDER = ("power", "seasonal_adjustment", "differencing", "scaling")


@dataclass(frozen=True)
class TransformSpec:
    """Which transforms to fit (before fitting); ``name`` is the label the user sees."""

    power: str = "none"
    seasonal_adjust: bool = False
    difference: int = 0
    seasonal_difference: int = 0
    scaling: str = "standard"

    @property
    def name(self) -> str:
        """Short label such as 'levels', 'sdiff52', 'log+sdiff12' or 'mstl'."""
        return chain_name([PowerTransform(kind=self.power).label,
                           SeasonalAdjuster.LABEL if self.seasonal_adjust else None,
                           Differencer(self.difference, self.seasonal_difference).label])


def chain_name(labels: list[str | None]) -> str:
    return "+".join(label for label in labels if label) or "levels"


@dataclass(frozen=True)
class TransformChain:
    """The fitted chain of the target column; see the module docstring for the order."""

    power: PowerTransform
    adjuster: SeasonalAdjuster
    differencer: Differencer
    scaler: Scaler

    @property
    def steps(self) -> tuple:
        """The steps in the order they apply (``STEP_ORDER``)."""
        return (self.power, self.adjuster, self.differencer, self.scaler)

    @classmethod
    def fit_apply(cls, values: np.ndarray, train_end: int, spec: TransformSpec, *,
                  seasons: list[int], horizon: int) -> tuple["TransformChain", np.ndarray]:
        """Fit on ``values[:train_end]``; return the chain and the model-space series.

        values: float64 [n] original units. Every step before scaling only looks back, so
        the train part of the transformed whole series is the transformed train split.
        """
        PowerTransform.require_domain(values, spec.power)
        power = PowerTransform.fit(values[:train_end], spec.power)
        adjuster = (SeasonalAdjuster.for_series(seasons, horizon, len(values))
                    if spec.seasonal_adjust else SeasonalAdjuster())
        differencer = Differencer(spec.difference, spec.seasonal_difference)
        unscaled = differencer.apply(adjuster.apply(power.apply(values)))
        scaler = Scaler.fit(unscaled[:train_end], spec.scaling)
        return cls(power, adjuster, differencer, scaler), scaler.apply(unscaled)

    @property
    def name(self) -> str:
        return chain_name([step.label for step in self.steps])

    @property
    def spec(self) -> TransformSpec:
        return TransformSpec(power=self.power.kind, seasonal_adjust=self.adjuster.enabled,
                             difference=self.differencer.difference,
                             seasonal_difference=self.differencer.seasonal_difference,
                             scaling=self.scaler.kind)

    @property
    def burn_in(self) -> int:
        """Leading points without a model-space value (seasonal adjustment, differencing)."""
        return sum(step.burn_in for step in self.steps)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Original units [n] -> model space [n] (float64; NaN over the burn-in)."""
        for step in self.steps:
            values = step.apply(values)
        return values

    def to_original_units(self, predicted: np.ndarray, values: np.ndarray,
                          origins: np.ndarray) -> np.ndarray:
        """Model-space forecasts [N, H] from ``origins`` -> original units [N, H].

        values: the full original-unit series; only points at or before each origin
        are read (to undo differencing and the seasonal adjustment).
        """
        out = predicted
        for step, known in reversed(list(zip(self.steps, self._step_inputs(values)))):
            out = step.invert_forecasts(out, known, origins)
        return out

    def _step_inputs(self, values: np.ndarray) -> list[np.ndarray | None]:
        """What each step was applied to, for the steps whose inversion reads history."""
        needs = [not getattr(step, "pointwise", False) for step in self.steps]
        last_needed = max((i for i, need in enumerate(needs) if need), default=-1)
        inputs, current = [], values
        for i, step in enumerate(self.steps):
            inputs.append(current if needs[i] else None)
            if i < last_needed:
                current = step.apply(current)
        return inputs

    def to_dict(self) -> dict:
        """The one serialised description (builtins only)."""
        return {"name": self.name,
                "steps": [{"step": step.step, **step.to_dict()} for step in self.steps]}

    @classmethod
    def from_dict(cls, payload: dict) -> "TransformChain":
        try:
            steps = {item["step"]: item for item in payload["steps"]}
            return cls(power=PowerTransform.from_dict(steps["power"]),
                       adjuster=SeasonalAdjuster.from_dict(steps["seasonal_adjustment"]),
                       differencer=Differencer.from_dict(steps["differencing"]),
                       scaler=Scaler.from_dict(steps["scaling"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactContractError(
                f"the transform chain {str(payload)[:200]} cannot be read ({type(exc).__name__}:"
                f" {exc}); it should list the steps {list(STEP_ORDER)}. Re-run preprocessing"
            ) from None

    @classmethod
    def from_legacy_payload(cls, payload: dict) -> "TransformChain":
        """Read a preprocessor.v1 payload, which stored each step under its own key."""
        return cls.from_dict({"steps": [
            {"step": "power", **payload["power"]},
            {"step": "seasonal_adjustment", **(payload.get("seasonal_adjustment") or {})},
            {"step": "differencing", **payload["differencing"]},
            {"step": "scaling", **payload["scaler"]}]})
