"""Stage 2: put the series on a regular grid and fill gaps with splines."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from contracts.errors import InputSchemaError, InvalidArgumentError
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


def with_covariates(filled: FilledSeries, config: RunConfig, offset) -> FilledSeries:
    """``filled`` with the run's covariates on its grid (the input's columns, the calendar)
    and, for those known in advance, their values over the forward forecast's steps.

    Refuses now, before any training: a bad spec (20), columns or values that do not
    match it, a category or boolean value first seen after the train split (in the input
    or the future file), missing future values (25).
    """
    if not (config.covariate_spec or config.covariates or config.calendar_features):
        return filled
    from contracts.covariate_spec import read_spec
    from spline_lstm.data.covariates import (
        calendar_covariates,
        check_values_seen_in_training,
        items_for,
        read_covariates,
        read_future_covariates,
    )
    from spline_lstm.data.frequency import nominal_step
    from spline_lstm.models.prediction import future_timestamps
    from spline_lstm.windows.split import SplitBounds

    spec = read_spec(config.covariate_spec, config.covariates) if config.covariate_spec else None
    items = items_for(spec, config.covariates)
    covariates = ()
    if items:
        covariates = read_covariates(
            config.input, config.timestamp_col, items, filled.timestamps,
            max_gap=filled.grid.max_gap, season=filled.grid.seasons[0],
            imputation=spec.imputation_for if spec else (lambda _name: "spline"),
            reserved=(config.timestamp_col, config.target_col))
    step = nominal_step(offset)
    ahead = future_timestamps(filled.timestamps[-1], filled.grid.freq, config.horizon)
    bounds = SplitBounds.from_fractions(len(filled.values), config.val_size, config.test_size,
                                        horizon=config.horizon)
    # a cycle's columns only where the train split, all the network learns from, holds it
    # twice: 108 weeks hold two years, their train split one, and with month columns the
    # network read each month's one level as its effect (test MASE 0.68 against 0.41)
    learnt_from = filled.timestamps[:max(bounds.train_end, 1)]
    calendar = calendar_covariates(filled.timestamps, step, span=learnt_from) \
        if config.calendar_features else ()
    known = [c.name for c in covariates if c.known_in_advance]
    if config.future_covariates and not known:
        raise InvalidArgumentError(
            f"--future-covariates {config.future_covariates} is given, but no covariate of "
            f"{config.covariate_spec} is known in advance (\"known_in_advance\": true); mark "
            "the ones known for the horizon, or leave the file out (calendar covariates "
            "need none)")
    if known and not config.future_covariates:
        raise InputSchemaError(
            f"covariate(s) {known} are known in advance: the forward forecast needs their "
            f"values for the {config.horizon} steps from {ahead[0]} to {ahead[-1]}; give them "
            f"with --future-covariates FILE (column '{config.timestamp_col}' and {known})")
    future = read_future_covariates(config.future_covariates, config.timestamp_col,
                                    covariates, ahead) if known else ()
    check_values_seen_in_training(covariates, bounds.train_end, filled.timestamps, future)
    if calendar:
        future = (*future, *calendar_covariates(ahead, step, span=learnt_from))
    return filled.with_covariates((*covariates, *calendar), future)


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
    filled = interpolate_series(frame, offset, seasons, limit, fill_method,
                                freq_given=bool(freq))
    if config is not None:
        filled = with_covariates(filled, config, offset)
        for cov in filled.covariates:
            logger.info("covariate %s: %s%s", cov.name, cov.kind,
                        ", known in advance" if cov.known_in_advance else "")
    grid = filled.grid
    merged = (f", {grid.n_merged_into_shared_slot} observations averaged in shared slots"
              if grid.n_merged_into_shared_slot else "")
    logger.info("grid %s: %d points, %d filled in %d gap(s) (longest %d), seasons %s%s",
                grid.freq, grid.n_grid, grid.n_filled, grid.n_gaps, grid.longest_gap, seasons,
                merged)
    for warning in grid.warnings:
        logger.warning("spline-interpolate: %s", warning)
    if config is not None:
        check_feasible(filled.timestamps, filled.values, filled.observed, grid.freq,
                       lookback=settings_for(config, filled).lookback, horizon=config.horizon,
                       val_size=config.val_size, test_size=config.test_size,
                       backtest_windows=config.backtest_windows,
                       backtest_step=config.backtest_step)
    return filled
