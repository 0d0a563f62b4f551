"""Stage 2: put the series on a regular grid and fill gaps with splines."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from contracts.schemas import Col, RawSeries, validate_frame
from spline_lstm.data.frequency import infer_freq, infer_seasons, parse_freq
from spline_lstm.data.ingest import IngestResult
from spline_lstm.data.interpolate import (
    FilledSeries,
    choose_max_gap,
    interpolate_series,
)
from spline_lstm.windows.feasibility import check_feasible
from tasks.logs import stage_logger
from tasks.preprocess import settings_for


@task(name="spline-interpolate", cache_policy=NO_CACHE)
def interpolate_spline(ingested: IngestResult, freq: str | None, season: list[int] | None,
                       max_gap: int | None, fill_method: str,
                       config: RunConfig | None = None) -> FilledSeries:
    """Regular grid + gap filling; refuses (25) gaps longer than ``max_gap`` steps.

    config: when given, also refuse (25 / 26) what the run could only fail on after
    training: a forward forecast past pandas' dates, a split without windows, a test
    split that cannot be scored.
    """
    logger = stage_logger()
    frame = validate_frame(RawSeries, ingested.frame, "ingested series")
    offset = parse_freq(freq) if freq else infer_freq(frame[Col.TIMESTAMP.value])
    seasons = list(season) if season else infer_seasons(offset)
    limit = max_gap if max_gap is not None else choose_max_gap(seasons)
    filled = interpolate_series(frame, offset, seasons, limit, fill_method)
    grid = filled.grid
    logger.info("grid %s: %d points, %d filled in %d gap(s) (longest %d), seasons %s",
                grid.freq, grid.n_grid, grid.n_filled, grid.n_gaps, grid.longest_gap, seasons)
    for warning in grid.warnings:
        logger.warning("spline-interpolate: %s", warning)
    if config is not None:
        check_feasible(filled.timestamps, filled.values, filled.observed, grid.freq,
                       lookback=settings_for(config, filled).lookback, horizon=config.horizon,
                       val_size=config.val_size, test_size=config.test_size,
                       backtest_windows=config.backtest_windows,
                       backtest_step=config.backtest_step)
    return filled
