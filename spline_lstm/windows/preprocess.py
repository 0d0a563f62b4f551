"""Scale/window stage logic: split, fit the transforms on train, cut the windows (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from contracts.records import DataSummary
from spline_lstm.data.frequency import usable_seasons
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.transforms.chain import TransformChain, TransformSpec
from spline_lstm.transforms.features import FeatureSet
from spline_lstm.transforms.preprocessor import Preprocessor
from spline_lstm.windows.processed import ProcessedData
from spline_lstm.windows.split import (
    SPLITS,
    SplitBounds,
    require_windows,
    window_origins,
)


@dataclass(frozen=True)
class PreprocessSettings:
    lookback: int
    horizon: int
    seasons: list[int]
    val_size: float
    test_size: float
    transform: TransformSpec = TransformSpec()

    def with_transform(self, transform: TransformSpec) -> "PreprocessSettings":
        return replace(self, transform=transform)


def preprocess(filled: FilledSeries, settings: PreprocessSettings, *, run_id: str,
               data_summary: DataSummary, covariates: dict[str, np.ndarray] | None = None,
               bounds: SplitBounds | None = None, in_fold: bool = False,
               relative_covariates: tuple[str, ...] | None = None) -> ProcessedData:
    """Split chronologically, fit the transforms and scalers on train, cut windows.

    covariates: name -> float [n] on the same grid as ``filled`` (scaled, not transformed);
    omitted: the covariates ``filled`` carries.
    bounds: the split, when not the settings' fractions (a backtest fold's).
    in_fold: a backtest fold's data, whose shorter train span may hold a covariate that
    does not vary yet (read as zeros there; a run's own train split refuses it, 25).
    relative_covariates: the covariates the run reads relative to each window's origin
    (a fold's data); omitted: decided on this split's validation part.
    """
    from spline_lstm.transforms.features import as_covariates

    covariates = as_covariates(covariates if covariates is not None else filled.covariates)
    values = filled.values
    bounds = bounds or SplitBounds.from_fractions(len(values), settings.val_size,
                                                  settings.test_size, horizon=settings.horizon)
    seasons = usable_seasons(list(settings.seasons), bounds.train_end)
    chain, target = TransformChain.fit_apply(values, bounds.train_end, settings.transform,
                                             seasons=seasons, horizon=settings.horizon)
    features = FeatureSet.fit(covariates, bounds.train_end, settings.transform.scaling,
                              bounds.val_end, may_be_constant=in_fold,
                              relative=relative_covariates)
    dropped = [m for m in settings.seasons if m not in seasons and m > 1]
    if dropped:
        data_summary = data_summary.with_notes(
            f"season(s) {dropped} ignored: the train split ({bounds.train_end} points) holds "
            "fewer than two cycles")
    pre = Preprocessor(run_id=run_id, lookback=settings.lookback, horizon=settings.horizon,
                       seasons=seasons, freq=filled.grid.freq, chain=chain, features=features,
                       grid=filled.grid, timezone=data_summary.timezone)
    data = assemble(pre, bounds, filled.timestamps, values, filled.observed,
                    features.stack(target, covariates), data_summary)
    return data.with_covariates(covariates, features.future_rows(filled.future)
                                if filled.future else None)


def without_covariates(data: ProcessedData) -> ProcessedData:
    """``data`` without its covariates: the target alone, same split, lookback and
    transform (refitted on the same train split, so the target column is unchanged)."""
    pre = data.preprocessor
    settings = PreprocessSettings(lookback=pre.lookback, horizon=pre.horizon,
                                  seasons=list(pre.grid.seasons or pre.seasons),
                                  val_size=0.1, test_size=0.2, transform=pre.chain.spec)
    return preprocess(data.filled().with_covariates((), ()), settings, run_id=pre.run_id,
                      data_summary=data.data_summary, bounds=data.bounds)


def assemble(pre: Preprocessor, bounds: SplitBounds, timestamps: pd.DatetimeIndex,
             values: np.ndarray, observed: np.ndarray, series: np.ndarray,
             data_summary: DataSummary) -> ProcessedData:
    """Find the window origins of every split in a model-space series (raise 26 if too few)."""
    burn_in = pre.burn_in
    origins = {
        split: window_origins(bounds, split, lookback=pre.lookback, horizon=pre.horizon,
                              burn_in=burn_in, observed=None if split == "train" else observed)
        for split in SPLITS
    }
    require_windows({s: len(o) for s, o in origins.items()}, bounds, lookback=pre.lookback,
                    horizon=pre.horizon, burn_in=burn_in)
    return ProcessedData(preprocessor=pre, bounds=bounds, timestamps=timestamps, values=values,
                         observed=observed, series=series, origins=origins,
                         data_summary=data_summary)
