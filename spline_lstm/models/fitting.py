"""Fit one forecaster on processed data: the model spec from the config, then training."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from contracts.config import RunConfig
from spline_lstm.models.network import ModelSpec, build_model
from spline_lstm.windows.preprocess import ProcessedData
from spline_lstm.models.training import TrainResult, make_deterministic, train_model

SEGMENTS_PER_WINDOW = 8
DEFAULT_BATCH = 64
MIN_BATCH = 8
MIN_STEPS_PER_EPOCH = 8


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


# Seeding is process-wide (Python, NumPy and TF global seeds): series trained in parallel
# threads take turns to seed, build and set up their input, then train concurrently.
_SEEDED_SETUP = threading.Lock()


def model_spec_for(config: RunConfig, data: ProcessedData) -> ModelSpec:
    pre = data.preprocessor
    return ModelSpec(lookback=pre.lookback, horizon=pre.horizon,
                     hidden_units=list(config.hidden_units), dropout=config.dropout,
                     cell=config.model, learning_rate=config.learning_rate,
                     window_relative=not config.absolute_levels,
                     segment_length=config.segment_length or
                     choose_segment_length(pre.lookback, pre.season))


def batch_size_for(config: RunConfig, data: ProcessedData) -> int:
    return config.batch_size or choose_batch_size(len(data.origins["train"]))


def fit_forecaster(data: ProcessedData, config: RunConfig, best_path: Path, last_path: Path,
                   log: Callable[[str], None] = lambda _m: None) -> tuple[TrainResult, ModelSpec]:
    """Seed, build and train; best/last checkpoints land at the given paths."""
    spec = model_spec_for(config, data)
    with _SEEDED_SETUP:
        make_deterministic(config.seed)
        model = build_model(spec)
        batch_size = batch_size_for(config, data)
        train = data.dataset("train", batch_size, shuffle=True, seed=config.seed)
        val = data.dataset("val", batch_size)
    result = train_model(model, train, val, epochs=config.epochs, patience=config.patience,
                         best_path=best_path, last_path=last_path, log=log)
    return result, spec
