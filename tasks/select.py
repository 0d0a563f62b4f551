"""Between interpolation and scale/window: choose the target transform on validation."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.windows.split import SplitBounds
from spline_lstm.selection.select import Selection, TransformChoice, select_transform, transform_candidates
from tasks.logs import stage_logger, stage_tags
from tasks.preprocess import settings_for


def transform_options(config: RunConfig, filled: FilledSeries) -> list[TransformChoice]:
    train_end = SplitBounds.from_fractions(len(filled.values), config.val_size,
                                           config.test_size).train_end
    return transform_candidates(config, filled.values[:train_end], filled.summary["seasons"])


@task(name="select-transform", tags=stage_tags("select-transform"), cache_policy=NO_CACHE)
def choose_transform(filled: FilledSeries, config: RunConfig, scratch: Path,
                     source_summary: dict) -> Selection:
    """Train every candidate transform; keep the one with the lowest validation MASE."""
    logger = stage_logger()
    candidates = transform_options(config, filled)
    logger.info("comparing %d transform candidates on the validation split: %s",
                len(candidates), [c.name for c in candidates])
    selection = select_transform(filled, settings_for(config, filled), config, candidates,
                                 Path(scratch), run_id=config.run_id,
                                 freq=filled.summary["freq"], data_summary=source_summary,
                                 log=logger.info)
    logger.info("chosen transform: %s (val MASE %.4f)", selection.winner.choice.name,
                selection.winner.val_mase)
    return selection
