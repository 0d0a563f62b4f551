"""Stage 3: scale and window (or, on the consume path, load existing processed artifacts)."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.records import DataSummary
from contracts.schemas import RegularSeries, validate_frame
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.store.processed_io import read_processed, write_processed
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
from spline_lstm.windows.processed import ProcessedData
from spline_lstm.windows.split import SplitBounds, choose_lookback
from tasks.logs import stage_logger


def settings_for(config: RunConfig, filled: FilledSeries) -> PreprocessSettings:
    seasons = filled.grid.seasons
    n_train = SplitBounds.from_fractions(len(filled.values), config.val_size,
                                         config.test_size, horizon=config.horizon).train_end
    lookback = config.lookback or choose_lookback(seasons, config.horizon, n_train)
    return PreprocessSettings(lookback=lookback, horizon=config.horizon, seasons=seasons,
                              val_size=config.val_size, test_size=config.test_size)


@task(name="scale-window", cache_policy=NO_CACHE)
def scale_and_window(filled: FilledSeries, config: RunConfig, staged: ArtifactLayout,
                     data_summary: DataSummary, transform: TransformSpec,
                     prepared: ProcessedData | None = None) -> ProcessedData:
    """Fit the transform and scalers on train, cut windows, write the processed artifacts.

    prepared: the same data already preprocessed during transform selection (reused,
    with this summary, instead of being computed twice).
    """
    logger = stage_logger()
    validate_frame(RegularSeries, filled.to_frame(), "interpolated series")
    if prepared is not None:
        data = prepared.with_summary(prepared.data_summary.with_selection(
            data_summary.transform_selection))
    else:
        data = preprocess(filled, settings_for(config, filled).with_transform(transform),
                          run_id=config.run_id, data_summary=data_summary)
    write_processed(staged, data)
    pre = data.preprocessor
    logger.info("split %s points -> windows %s (lookback %d, horizon %d, transform %s, "
                "scaler %s)", data.bounds.sizes(), data.window_counts(), pre.lookback,
                pre.horizon, pre.transform_name, pre.chain.scaler.kind)
    return data


@task(name="load-processed", cache_policy=NO_CACHE)
def load_processed(processed_npz: str, preprocessor_pkl: str | None, run_id: str) -> ProcessedData:
    """Consume path: check the four-way run_id agreement and the contract, then load."""
    data = read_processed(Path(processed_npz), run_id,
                          Path(preprocessor_pkl) if preprocessor_pkl else None)
    stage_logger().info("loaded processed artifacts of %s: windows %s", run_id,
                        data.window_counts())
    return data
