"""A combination of fitted forecasters: the mean or median of their forecasts.

To the rest of the system a combination is one forecaster: it predicts, saves and loads
like any other (each member in a folder of its own), so the forward forecast, the
intervals and the consume path need not know what it is made of. Members are fitted
as they were scored (the network on train, early-stopped on validation; the others on
train + validation); a combination does not refit them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spline_lstm.models.base import SPEC_FILE, Capabilities, Forecaster


def combine(forecasts: list[np.ndarray], how: str) -> np.ndarray:
    """The mean or median of member forecasts (same shape each)."""
    stacked = np.stack([np.asarray(f, dtype=np.float64) for f in forecasts])
    return np.median(stacked, axis=0) if how == "median" else np.mean(stacked, axis=0)


class CombinationForecaster(Forecaster):
    family = "combination"
    capabilities = Capabilities()
    HOWS = ("mean", "median")

    def __init__(self, name: str, members: list[Forecaster], how: str = "mean") -> None:
        if how not in self.HOWS:
            raise ValueError(f"unknown combination {how!r}; use one of {self.HOWS}")
        if len(members) < 2:
            raise ValueError("a combination needs at least two members")
        super().__init__(name)
        self.members, self.how = list(members), how

    def fit(self, data, *, fit_end: int | None = None) -> "CombinationForecaster":
        for member in self.members:
            member.fit(data, fit_end=fit_end)
        return self

    def predict(self, data, origins: np.ndarray) -> np.ndarray:
        return combine([m.predict(data, origins) for m in self.members], self.how)

    def settings(self) -> dict:
        return {"how": self.how, "members": [m.name for m in self.members]}

    def save(self, folder: Path) -> list[Path]:
        """forecaster.json, then each member's files under member-<i>/ (copies)."""
        written = super().save(folder)
        for i, member in enumerate(self.members, 1):
            written += member.export(Path(folder) / f"member-{i}")
        return written

    @classmethod
    def load(cls, folder: Path) -> "CombinationForecaster":
        from spline_lstm.models.registry import load_forecaster

        spec = json.loads((Path(folder) / SPEC_FILE).read_text(encoding="utf-8"))
        members = [load_forecaster(Path(folder) / f"member-{i}")
                   for i in range(1, len(spec["settings"]["members"]) + 1)]
        return cls(spec["name"], members, spec["settings"]["how"])

    def describe(self) -> dict:
        return {"family": self.family, "name": self.name, "how": self.how,
                "members": [m.describe() for m in self.members]}
