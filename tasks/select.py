"""Between interpolation and scale/window: choose the target transform on validation."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from contracts.records import DataSummary
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.selection.candidates import transform_candidates
from spline_lstm.selection.select import Candidate, Selection, select
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.split import SplitBounds
from tasks.logs import stage_logger
from tasks.preprocess import settings_for


def transform_options(config: RunConfig, filled: FilledSeries) -> list[TransformSpec]:
    train_end = SplitBounds.from_fractions(len(filled.values), config.val_size,
                                           config.test_size, horizon=config.horizon).train_end
    return transform_candidates(config, filled.values[:train_end], filled.grid.seasons,
                                positive=bool(filled.values.min() > 0))


def recurrent_candidates(config: RunConfig, transforms: list[TransformSpec]) -> list[Candidate]:
    """The configured recurrent net, once per transform."""
    settings = RecurrentSettings.from_config(config)
    return [Candidate(spec, lambda folder: RecurrentForecaster(settings, folder), config.model)
            for spec in transforms]


@task(name="select-transform", cache_policy=NO_CACHE)
def choose_transform(filled: FilledSeries, config: RunConfig, scratch: Path,
                     data_summary: DataSummary) -> Selection:
    """Train every candidate transform; keep the one with the lowest validation MASE."""
    logger = stage_logger()
    candidates = recurrent_candidates(config, transform_options(config, filled))
    logger.info("comparing %d transform candidates on the validation split: %s",
                len(candidates), [c.name for c in candidates])
    selection = select(filled, settings_for(config, filled), candidates, Path(scratch),
                       run_id=config.run_id, data_summary=data_summary, log=logger.info)
    logger.info("chosen transform: %s (val MASE %.4f)", selection.winner.candidate.name,
                selection.winner.val_mase)
    return selection
