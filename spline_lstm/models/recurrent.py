"""The recurrent forecaster (LSTM or GRU) behind the Forecaster interface.

Fits on the train windows with early stopping on the validation windows; the lowest
val_loss epoch is kept in ``best.keras`` (and the final one in ``last.keras``) under its
working folder, and predictions come from the best checkpoint, loaded in safe mode.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from contracts.errors import InvalidArgumentError
from spline_lstm.models.base import Capabilities, Forecaster
from spline_lstm.models.model_pool import ModelPool, dataset_signature
from spline_lstm.models.network import ModelSpec, build_model, load_checkpoint
from spline_lstm.models.training import (
    TrainResult,
    layer_seeds_from,
    make_deterministic,
    train_model,
)

PREDICT_BATCH = 1024
SEGMENTS_PER_WINDOW = 8
DEFAULT_BATCH = 64
MIN_BATCH = 8
MIN_STEPS_PER_EPOCH = 8
BEST, LAST = "best.keras", "last.keras"

# Seeding is process-wide (Python, NumPy and TF global seeds, and the one generator Keras
# draws layer seeds from during a build): models trained in parallel threads take turns to
# seed and build, then train concurrently. Loading a checkpoint creates layers too, each
# drawing a seed: a load in one thread during another thread's build would change that
# model's initial weights, so loads take the same lock.
_SEEDED_SETUP = threading.Lock()


def build_seeded_model(spec: ModelSpec, seed: int):
    """A compiled network whose initial weights depend on ``spec`` and ``seed`` alone.

    Call it under ``_SEEDED_SETUP`` (the pool does): seeding is process-wide.
    """
    make_deterministic(seed)
    with layer_seeds_from(seed):
        return build_model(spec)


# Every fit in the process leases its network here: a second fit of the same shape and
# seed reuses a traced graph instead of building one (spline_lstm/models/model_pool.py).
TRAINING_MODELS = ModelPool(build_seeded_model)


def _load_seeded_safely(path: Path):
    with _SEEDED_SETUP:
        return load_checkpoint(path)


def choose_segment_length(lookback: int, season: int) -> int:
    """About 8 segments per window, each a whole fraction of the season when possible.

    Two seasons of weekly data (104 steps) -> segments of 13; half-hourly (96) -> 12;
    monthly (24) -> 3.
    """
    target = lookback / SEGMENTS_PER_WINDOW
    base = season if season > 1 else lookback
    divisors = [d for d in range(1, base + 1) if base % d == 0 and d <= lookback]
    return max(min(divisors, key=lambda d: (abs(d - target), -d)), 1)


def choose_batch_size(n_train_windows: int) -> int:
    """64, or smaller when the train split is small, so an epoch takes at least 8 steps.

    With one or two batches per epoch a short series barely trains before early stopping
    ends it (monthly air passengers, 54 windows at H=12: best epoch 1 of 16, test MASE
    0.766 at batch 64, 0.735 at batch 8).
    """
    return int(max(MIN_BATCH, min(DEFAULT_BATCH, n_train_windows // MIN_STEPS_PER_EPOCH)))


@dataclass(frozen=True)
class RecurrentSettings:
    """Network and training settings that do not depend on the data."""

    cell: str = "lstm"
    hidden_units: tuple[int, ...] = (64, 64)
    dropout: float = 0.1
    learning_rate: float = 3e-3
    window_relative: bool = True
    segment_length: int | None = None  # None: about 8 segments per window
    epochs: int = 200
    patience: int = 15
    batch_size: int | None = None  # None: choose_batch_size
    seed: int = 42

    @classmethod
    def from_config(cls, config) -> "RecurrentSettings":
        """The settings of a RunConfig (its flags)."""
        return cls(cell=config.model, hidden_units=tuple(config.hidden_units),
                   dropout=config.dropout, learning_rate=config.learning_rate,
                   window_relative=not config.absolute_levels,
                   segment_length=config.segment_length, epochs=config.epochs,
                   patience=config.patience, batch_size=config.batch_size, seed=config.seed)

    def spec_for(self, data) -> ModelSpec:
        pre = data.preprocessor
        return ModelSpec(lookback=pre.lookback, horizon=pre.horizon,
                         hidden_units=list(self.hidden_units), dropout=self.dropout,
                         cell=self.cell, learning_rate=self.learning_rate,
                         window_relative=self.window_relative,
                         segment_length=self.segment_length or
                         choose_segment_length(pre.lookback, pre.season),
                         n_features=data.n_features, target_index=data.target_index,
                         n_future=data.n_future,
                         relative_features=data.preprocessor.features.relative_indices)

    def batch_size_for(self, data) -> int:
        return self.batch_size or choose_batch_size(len(data.origins["train"]))


class RecurrentForecaster(Forecaster):
    """An LSTM/GRU trained in ``workdir``; see the module docstring."""

    family = "recurrent"
    capabilities = Capabilities(past_covariates=True, future_covariates=True,
                                uses_validation=True, keeps_weights=True)

    def __init__(self, settings: RecurrentSettings = RecurrentSettings(),
                 workdir: Path | None = None,
                 log: Callable[[str], None] = lambda _m: None) -> None:
        super().__init__(settings.cell)
        self.recurrent = settings
        self.workdir = Path(workdir) if workdir else None
        self.log = log
        self.spec: ModelSpec | None = None
        self.training: TrainResult | None = None
        self._model = None

    @property
    def best_path(self) -> Path:
        return self._folder() / BEST

    @property
    def last_path(self) -> Path:
        return self._folder() / LAST

    def _folder(self) -> Path:
        if self.workdir is None:
            raise InvalidArgumentError("this recurrent forecaster has no working folder")
        return self.workdir

    def fit(self, data, *, fit_end: int | None = None) -> "RecurrentForecaster":
        """Seed, build and train; best/last checkpoints land in the working folder."""
        if fit_end not in (None, data.bounds.train_end):
            raise InvalidArgumentError(
                "the recurrent forecaster trains on the train split and early-stops on the "
                f"validation split; fitting through point {fit_end} is not supported")
        settings, spec = self.recurrent, self.recurrent.spec_for(data)
        batch_size = settings.batch_size_for(data)
        # No global seeding here: the train windows' shuffle is stateless (seeded by
        # ``seed`` alone), and setting TF's global seed clears its kernel caches, which
        # makes the next fit re-instantiate its traced functions (~1.3 s).
        train = data.dataset("train", batch_size, shuffle=True, seed=settings.seed)
        val = data.dataset("val", batch_size)
        with TRAINING_MODELS.lease(spec, settings.seed, new_model_lock=_SEEDED_SETUP,
                                   signature=dataset_signature(train, val)) as model:
            self.training = train_model(model, train, val, epochs=settings.epochs,
                                        patience=settings.patience, best_path=self.best_path,
                                        last_path=self.last_path, log=self.log)
        self.spec, self._model = spec, _load_seeded_safely(self.best_path)
        return self

    @property
    def model(self):
        if self._model is None:
            self._model = _load_seeded_safely(self.best_path)
        return self._model

    def predict(self, data, origins: np.ndarray) -> np.ndarray:
        """Stream the windows at ``origins`` through the best model; original units."""
        origins = np.asarray(origins, dtype=np.int64)
        if len(origins) == 0:
            return np.zeros((0, data.preprocessor.horizon))
        batches = data.dataset_at(origins, PREDICT_BATCH, with_targets=False)
        # Once Keras has seen a second input shape it retraces with the batch dimension
        # left open, and that graph rounds differently (~1e-8 relative). A fresh trace per
        # call makes a forecast depend on its own windows only, never on earlier calls.
        self.model.make_predict_function(force=True)
        predicted = np.asarray(self.model.predict(batches, verbose=0), dtype=np.float64)
        return data.preprocessor.to_original_units(predicted, data.values, origins)

    def validation_loss(self, data) -> float:
        """The best model's loss on the validation windows (the value it was chosen for)."""
        batch_size = self.recurrent.batch_size_for(data)
        return float(self.model.evaluate(data.dataset("val", batch_size), verbose=0))

    def save(self, folder: Path) -> list[Path]:
        """Move best.keras and last.keras into ``folder`` (which becomes the working folder)."""
        folder = Path(folder)
        if folder.resolve() != self._folder().resolve():
            folder.mkdir(parents=True, exist_ok=True)
            for name in (BEST, LAST):
                os.replace(self._folder() / name, folder / name)
            self.workdir = folder
        return [folder / BEST, folder / LAST]

    def export(self, folder: Path) -> list[Path]:
        """Copy best.keras and last.keras into ``folder``; the working folder stays."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (BEST, LAST):
            shutil.copy2(self._folder() / name, folder / name)
        return [folder / BEST, folder / LAST]

    @classmethod
    def load(cls, folder: Path) -> "RecurrentForecaster":
        """The forecaster of a saved run: its best checkpoint, ready to predict."""
        forecaster = cls(workdir=Path(folder))
        forecaster._model = _load_seeded_safely(forecaster.best_path)
        forecaster.name = forecaster._model.name.removeprefix("spline_")  # lstm or gru
        return forecaster

    def settings(self) -> dict:
        return {"cell": self.recurrent.cell, "hidden_units": list(self.recurrent.hidden_units),
                "dropout": self.recurrent.dropout, "learning_rate": self.recurrent.learning_rate,
                "window_relative": self.recurrent.window_relative,
                "segment_length": self.recurrent.segment_length,
                "epochs": self.recurrent.epochs, "patience": self.recurrent.patience,
                "batch_size": self.recurrent.batch_size, "seed": self.recurrent.seed}

    def with_workdir(self, workdir: Path) -> "RecurrentForecaster":
        """An unfitted copy with the same settings training in ``workdir``."""
        return RecurrentForecaster(replace(self.recurrent), workdir, self.log)
