"""The Forecaster interface every model family implements: fit / predict / save / load.

Selection, evaluation and the forward forecast only talk to this interface, so the
recurrent net, the statsforecast models and the naive baselines are interchangeable:
a classical model goes through transform selection and test scoring exactly like the
LSTM. As in neuralforecast, what a family can do is declared on its class
(``capabilities``), so callers ask instead of checking types.

Conventions shared by every forecaster:
- ``fit(data, fit_end=...)`` learns from points before ``fit_end`` (default: the end of
  the train split); a family that early-stops also reads the validation split.
- ``predict(data, origins)`` returns float64 [N, H] in original units, one row per
  origin, each using only data at or before its origin (origins may be the last point
  of the series: the forward forecast).
- ``save(folder)`` writes what ``load(folder)`` needs, and returns the files written.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from spline_lstm.windows.processed import ProcessedData

SPEC_FILE = "forecaster.json"


@dataclass(frozen=True)
class Capabilities:
    """What a forecaster family takes and gives."""

    past_covariates: bool = False  # reads covariate columns of its input window
    future_covariates: bool = False  # reads covariates known over the horizon
    static_covariates: bool = False  # reads one value per series
    probabilistic: bool = False  # gives intervals of its own
    uses_validation: bool = False  # early-stops on the validation split while fitting
    keeps_weights: bool = False  # save() stores fitted weights (else settings, refit on load)


class Forecaster(ABC):
    """One forecasting model; see the module docstring for the contract."""

    family: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def fit(self, data: "ProcessedData", *, fit_end: int | None = None) -> "Forecaster":
        """Learn from ``data`` before ``fit_end``; return self."""

    @abstractmethod
    def predict(self, data: "ProcessedData", origins: np.ndarray) -> np.ndarray:
        """Forecasts [N, H] in original units from each origin."""

    def predict_interval(self, data: "ProcessedData", origins: np.ndarray, levels: list[float]
                         ) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
        """(forecasts [N, H], level -> (lo, hi) [N, H]) from the family's own intervals;
        only for ``capabilities.probabilistic`` (others are calibrated from outside)."""
        raise NotImplementedError(f"{self.name} gives no intervals of its own")

    @abstractmethod
    def settings(self) -> dict:
        """The constructor settings (builtins), enough to rebuild an unfitted copy."""

    def save(self, folder: Path) -> list[Path]:
        """Write the family, name and settings; families with weights add their files."""
        from spline_lstm.store.atomic import write_json

        path = Path(folder) / SPEC_FILE
        write_json(path, {"family": self.family, "class": type(self).__name__,
                          "name": self.name, "settings": self.settings()})
        return [path]

    def export(self, folder: Path) -> list[Path]:
        """Write a copy that ``load`` reads, leaving this forecaster's own files where they
        are (the files of a combination's members)."""
        return self.save(folder)

    @classmethod
    def load(cls, folder: Path) -> "Forecaster":
        """Rebuild from ``save``'s files (see ``models.registry.load_forecaster``)."""
        spec = json.loads((Path(folder) / SPEC_FILE).read_text())
        return cls(**spec["settings"])

    def describe(self) -> dict:
        return {"family": self.family, "name": self.name, **self.settings()}


def fit_end_of(data: "ProcessedData", fit_end: int | None) -> int:
    """The default fit span ends where the train split ends."""
    return data.bounds.train_end if fit_end is None else int(fit_end)
