"""Stage 3: scale and window (or, on the consume path, load existing processed artifacts)."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.logs import stage_logger, stage_tags

from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.schemas import RegularSeries, validate_frame
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.windows.split import SplitBounds, choose_lookback
from spline_lstm.windows.preprocess import PreprocessSettings, ProcessedData, preprocess
from spline_lstm.store.processed_io import read_processed, write_processed
from spline_lstm.selection.select import TransformChoice


def settings_for(config: RunConfig, filled: FilledSeries) -> PreprocessSettings:
    seasons = filled.summary["seasons"]
    n_train = SplitBounds.from_fractions(len(filled.values), config.val_size,
                                         config.test_size).train_end
    lookback = config.lookback or choose_lookback(seasons, config.horizon, n_train)
    return PreprocessSettings(lookback=lookback, horizon=config.horizon, seasons=seasons,
                              val_size=config.val_size, test_size=config.test_size,
                              scaling=config.scaling)


@task(name="scale-window", tags=stage_tags("scale-window"), cache_policy=NO_CACHE)
def scale_and_window(filled: FilledSeries, config: RunConfig, staged: ArtifactLayout,
                     source_summary: dict, choice: TransformChoice) -> ProcessedData:
    """Fit the chosen transform + scaler on train, cut windows, write processed artifacts."""
    logger = stage_logger()
    validate_frame(RegularSeries, filled.to_frame(), "interpolated series")
    settings = choice.apply_to(settings_for(config, filled))
    data = preprocess(filled, settings, run_id=config.run_id, freq=filled.summary["freq"],
                      interpolation=filled.summary, data_summary=source_summary)
    write_processed(staged, data)
    counts = data.window_counts()
    logger.info("split %s points -> windows %s (lookback %d, horizon %d, transform %s, "
                "scaler %s)", data.bounds.sizes(), counts, settings.lookback, settings.horizon,
                choice.name, data.preprocessor.scaler.kind)
    return data


@task(name="load-processed", tags=stage_tags("scale-window"), cache_policy=NO_CACHE)
def load_processed(processed_npz: str, preprocessor_pkl: str | None, run_id: str) -> ProcessedData:
    """Consume path: check the four-way run_id agreement and the contract, then load."""
    data = read_processed(Path(processed_npz), run_id,
                          Path(preprocessor_pkl) if preprocessor_pkl else None)
    stage_logger().info("loaded processed artifacts of %s: windows %s", run_id,
                          data.window_counts())
    return data
