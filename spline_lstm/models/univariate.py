"""The run's network trained on the target alone: a candidate next to the network with
covariates, so a run whose covariates do not help (on the backtest blocks) is not made
worse by them.

It takes the same data as every other forecaster and drops the covariates itself
(``windows.preprocess.without_covariates``: same split, transform and lookback), so to the
rest of the system it is one more forecaster; it saves and loads the inner network's
checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spline_lstm.models.base import SPEC_FILE, Capabilities, Forecaster

SUFFIX = "_no_covariates"


class UnivariateNetwork(Forecaster):
    family = "recurrent"
    capabilities = Capabilities(uses_validation=True, keeps_weights=True)

    def __init__(self, network: Forecaster) -> None:
        super().__init__(network.name.removesuffix(SUFFIX) + SUFFIX)
        self.network = network
        self._twins: dict[int, object] = {}  # id(data) -> (data, its univariate twin)

    def twin(self, data):
        """``data`` without covariates (kept per data object: predict is called often)."""
        from spline_lstm.windows.preprocess import without_covariates

        if not data.covariates:
            return data
        key = id(data)
        if key not in self._twins or self._twins[key][0] is not data:
            self._twins = {key: (data, without_covariates(data))}
        return self._twins[key][1]

    def fit(self, data, *, fit_end: int | None = None) -> "UnivariateNetwork":
        """Train on the train split, early-stopping on validation, as the network does."""
        self.network.fit(self.twin(data))
        return self

    def predict(self, data, origins: np.ndarray) -> np.ndarray:
        return self.network.predict(self.twin(data), origins)

    def settings(self) -> dict:
        return {"network": self.network.settings()}

    def save(self, folder: Path) -> list[Path]:
        written = self.network.save(folder)
        return written + super().save(folder)

    def export(self, folder: Path) -> list[Path]:
        written = self.network.export(folder)
        return written + super().save(folder)

    @classmethod
    def load(cls, folder: Path) -> "UnivariateNetwork":
        from spline_lstm.models.recurrent import RecurrentForecaster

        spec = json.loads((Path(folder) / SPEC_FILE).read_text())
        loaded = cls(RecurrentForecaster.load(folder))
        loaded.name = spec["name"]
        return loaded
