"""The columns the model reads: the target plus covariates, one scaler per covariate column.

The target column goes through the transform chain (its last step is the target's
scaler); every other column is only scaled, each by its own scaler fitted on the train
split. Column ``target_index`` of the model-space series is the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spline_lstm.transforms.scaling import Scaler

TARGET_FEATURE = "target"


@dataclass(frozen=True)
class FeatureSet:
    """Names of the model-space columns (target first) and the covariates' scalers."""

    names: tuple[str, ...] = (TARGET_FEATURE,)
    target_index: int = 0
    covariate_scalers: tuple[Scaler, ...] = ()

    @property
    def n_features(self) -> int:
        return len(self.names)

    @property
    def target_indices(self) -> list[int]:
        return [self.target_index]

    @property
    def covariate_names(self) -> tuple[str, ...]:
        return tuple(n for i, n in enumerate(self.names) if i != self.target_index)

    @classmethod
    def fit(cls, covariates: dict[str, np.ndarray] | None, train_end: int,
            scaling: str) -> "FeatureSet":
        """Fit one scaler per covariate column (float [n] each) on its train part."""
        covariates = covariates or {}
        scalers = tuple(Scaler.fit(values[:train_end], scaling, column=f"covariate {name!r}")
                        for name, values in covariates.items())
        return cls(names=(TARGET_FEATURE, *covariates), target_index=0,
                   covariate_scalers=scalers)

    def stack(self, target: np.ndarray, covariates: dict[str, np.ndarray] | None) -> np.ndarray:
        """The model-space series float32 [n, F]: the transformed target, scaled covariates."""
        columns = [np.asarray(target, dtype=np.float64)]
        for name, scaler in zip(self.covariate_names, self.covariate_scalers):
            columns.append(scaler.apply((covariates or {})[name]))
        if len(columns) == 1:  # F = 1: no stacking copy at 10M points
            return columns[0].astype(np.float32)[:, None]
        return np.stack(columns, axis=1).astype(np.float32)

    def to_dict(self) -> dict:
        return {"names": list(self.names), "target_index": self.target_index,
                "covariate_scalers": [s.to_dict() for s in self.covariate_scalers]}

    @classmethod
    def from_dict(cls, payload: dict | None) -> "FeatureSet":
        if not payload:  # payloads from before covariates: the target alone
            return cls()
        return cls(names=tuple(payload["names"]), target_index=int(payload["target_index"]),
                   covariate_scalers=tuple(Scaler.from_dict(s)
                                           for s in payload.get("covariate_scalers", [])))
