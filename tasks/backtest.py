"""Rolling-origin backtests: one ``backtest-window`` task run per fold, in parallel.

Each fold refits the run's chosen configuration on its own past (a child task run in the
Prefect UI, named by its window), as many at a time as the process has CPUs. A fold
that fails fails the run with its own code: no partial backtest is ever reported.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.config import RunConfig
from contracts.records import DataSummary
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.evaluation.backtest import FoldResult, run_fold
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.selection.families import chooses_models
from spline_lstm.selection.select import selection_workers
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.folds import Fold, auto_windows, default_step, plan_folds
from spline_lstm.windows.processed import ProcessedData
from tasks.logs import stage_logger
from tasks.preprocess import settings_for


def backtest_folds(config: RunConfig, data: ProcessedData) -> list[Fold]:
    """The folds of ``config`` over the span before the test split (26 if the windows the
    user asked for do not fit; none when it asked for none, or none fit the automatic
    choice)."""
    pre, bounds = data.preprocessor, data.bounds
    val_points = bounds.val_end - bounds.train_end
    step = config.backtest_step or default_step(bounds.val_end, val_points, pre.horizon)
    shape = dict(step=step, val_points=val_points, lookback=pre.lookback, horizon=pre.horizon,
                 burn_in=pre.burn_in)
    windows = config.backtest_windows
    if windows is None:
        windows = auto_windows(bounds.val_end, **shape) if chooses_models(config) else 0
    return plan_folds(bounds.val_end, windows=windows, **shape) if windows else []


@task(name="backtest-window", task_run_name="backtest-window-{fold.index}",
      cache_policy=NO_CACHE)
def backtest_window(filled: FilledSeries, config: RunConfig, transform: TransformSpec,
                    fold: Fold, scratch: Path, data_summary: DataSummary,
                    relative_covariates: tuple[str, ...] | None = None) -> FoldResult:
    """Refit the chosen configuration before ``fold.cut`` and score the block after it
    (``transform`` and ``relative_covariates``: the run's; None: each fold decides which
    covariates it reads relative to the origin, as ``run_fold`` does)."""
    settings = RecurrentSettings.from_config(config)
    result = run_fold(filled, settings_for(config, filled), transform,
                      lambda folder: RecurrentForecaster(settings, folder), fold,
                      Path(scratch) / f"backtest-{fold.index}", run_id=config.run_id,
                      data_summary=data_summary, classical=config.baselines == "all",
                      relative_covariates=relative_covariates)
    stage_logger().info("backtest window %d (cut %s): MASE %.4f", fold.index, result.cut_time,
                        result.mase)
    return result


def run_backtests(window_task, filled: FilledSeries, config: RunConfig,
                  transform: TransformSpec, folds: list[Fold], scratch: Path,
                  data_summary: DataSummary,
                  relative_covariates: tuple[str, ...] | None = None) -> list[FoldResult]:
    """Submit the folds, at most one per usable CPU at a time; their results in order."""
    results: list[FoldResult] = []
    wave = selection_workers(len(folds))
    for start in range(0, len(folds), wave):
        futures = [window_task.submit(filled, config, transform, fold, scratch, data_summary,
                                      relative_covariates)
                   for fold in folds[start:start + wave]]
        results += [future.result() for future in futures]  # raises a failed fold's error
    return results
