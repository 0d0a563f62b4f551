"""Everything fitted on the train split, with the settings needed to reuse it.

``Preprocessor`` converts both ways: original units -> model space (the transform chain
of the target, one scaler per covariate column) and model-space forecasts -> original
units. Its plain-dict payload is ``models/{run_id}/preprocessor.pkl`` (SPEC §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.artifacts import PREPROCESSOR_SCHEMA_VERSION
from contracts.records import GridSummary
from spline_lstm.transforms.chain import TransformChain
from spline_lstm.transforms.features import FeatureSet


@dataclass(frozen=True)
class Preprocessor:
    run_id: str
    lookback: int
    horizon: int
    seasons: list[int]
    freq: str
    chain: TransformChain
    features: FeatureSet
    grid: GridSummary
    timezone: str | None = None

    @property
    def season(self) -> int:
        return self.seasons[0]

    @property
    def transform_name(self) -> str:
        return self.chain.name

    @property
    def burn_in(self) -> int:
        return self.chain.burn_in

    def to_original_units(self, predicted: np.ndarray, values: np.ndarray,
                          origins: np.ndarray) -> np.ndarray:
        """Model-space forecasts [N, H] of the target -> original units [N, H]."""
        return self.chain.to_original_units(predicted, values, origins)

    def to_payload(self) -> dict:
        """The plain-dict preprocessor.pkl payload (builtins only).

        ``scaler`` (a SPEC §3 key) is the chain's last step, written from the same object
        as ``transform_chain``; readers use ``transform_chain``.
        """
        return {
            "schema_version": PREPROCESSOR_SCHEMA_VERSION,
            "run_id": self.run_id,
            "lookback": int(self.lookback),
            "horizon": int(self.horizon),
            "seasons": [int(m) for m in self.seasons],
            "freq": self.freq,
            "timezone": self.timezone,
            "transform_chain": self.chain.to_dict(),
            "scaler": self.chain.scaler.to_dict(),
            "features": self.features.to_dict(),
            "interpolation": self.grid.to_dict(),
        }

    @classmethod
    def from_payload(cls, payload: dict) -> "Preprocessor":
        chain = (TransformChain.from_dict(payload["transform_chain"])
                 if "transform_chain" in payload else TransformChain.from_legacy_payload(payload))
        return cls(
            run_id=payload["run_id"], lookback=int(payload["lookback"]),
            horizon=int(payload["horizon"]), seasons=[int(m) for m in payload["seasons"]],
            freq=payload["freq"], chain=chain,
            features=FeatureSet.from_dict(payload.get("features")),
            grid=GridSummary.from_dict(payload.get("interpolation", {})),
            timezone=payload.get("timezone"),
        )
