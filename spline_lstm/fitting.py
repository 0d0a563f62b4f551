"""Fit one forecaster on processed data: the model spec from the config, then training."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from contracts.config import RunConfig
from spline_lstm.autoconfig import choose_segment_length
from spline_lstm.model import ModelSpec, build_model
from spline_lstm.preprocess import ProcessedData
from spline_lstm.training import TrainResult, make_deterministic, train_model


def model_spec_for(config: RunConfig, data: ProcessedData) -> ModelSpec:
    pre = data.preprocessor
    return ModelSpec(lookback=pre.lookback, horizon=pre.horizon,
                     hidden_units=list(config.hidden_units), dropout=config.dropout,
                     cell=config.model, learning_rate=config.learning_rate,
                     window_relative=not config.absolute_levels,
                     segment_length=config.segment_length or
                     choose_segment_length(pre.lookback, pre.season))


def fit_forecaster(data: ProcessedData, config: RunConfig, best_path: Path, last_path: Path,
                   log: Callable[[str], None] = lambda _m: None) -> tuple[TrainResult, ModelSpec]:
    """Seed, build and train; best/last checkpoints land at the given paths."""
    make_deterministic(config.seed)
    spec = model_spec_for(config, data)
    model = build_model(spec)
    result = train_model(model, data.X("train"), data.y("train"), data.X("val"), data.y("val"),
                         epochs=config.epochs, batch_size=config.batch_size,
                         patience=config.patience, best_path=best_path, last_path=last_path,
                         log=log)
    return result, spec
