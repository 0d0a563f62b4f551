"""Rolling-origin backtests over the span before the test split (pure but for training).

Fold k of K refits the run's chosen configuration (transform, forecaster, seed) on the
points before its cut, early-stopping on the ``val_points`` just before it, and scores
the block that follows: ``[cut, cut + step)``. Origins expand; the last block ends where
the test split begins, so the test split is never touched. The same blocks score the
baselines, and the blocks' errors can calibrate the prediction intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from contracts.records import DataSummary
from spline_lstm.data.interpolate import FilledSeries
from spline_lstm.evaluation.baseline_worker import run_baselines_soon
from spline_lstm.evaluation.baselines import baseline_forecasters
from spline_lstm.evaluation.scoring import evaluate_split
from spline_lstm.models.base import Forecaster
from spline_lstm.models.univariate import UnivariateNetwork
from spline_lstm.transforms.chain import TransformSpec
from spline_lstm.windows.folds import Fold
from spline_lstm.windows.preprocess import PreprocessSettings, preprocess
from spline_lstm.windows.split import SplitBounds


@dataclass(frozen=True)
class FoldResult:
    fold: Fold
    cut_time: str
    mase: float
    mase_per_step: list[float]
    baselines: dict[str, float]  # name -> MASE on the same block
    y_true: np.ndarray = field(repr=False)  # [N, H] original units
    y_pred: np.ndarray = field(repr=False)
    scored: np.ndarray = field(repr=False)
    # name -> [N, H]: every baseline's forecasts of the block (the candidates of the choice)
    forecasts: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    mase_scale: float = float("nan")  # the fold's MASE denominator (its own train split)


def run_fold(filled: FilledSeries, settings: PreprocessSettings, transform: TransformSpec,
             make_forecaster: Callable[[Path], Forecaster], fold: Fold, workdir: Path, *,
             run_id: str, data_summary: DataSummary, classical: bool,
             relative_covariates: tuple[str, ...] | None = None) -> FoldResult:
    """Refit on the fold's past and score its block, with the baselines on the same windows.

    The fold takes the run's transform and its decision on which covariates the network
    reads relative to each window's origin (``relative_covariates``): decided on a fold's
    shorter validation part, a covariate about to trend was read as a level, and the
    network met levels in the block it had never seen (BJsales' leading indicator: one
    block scored MASE 3.09, the others 0.60-0.84; read as the run reads it, 1.04).
    """
    data = preprocess(filled.head(fold.end), settings.with_transform(transform), run_id=run_id,
                      data_summary=data_summary,
                      bounds=SplitBounds(n=fold.end, train_end=fold.train_end, val_end=fold.cut),
                      in_fold=True, relative_covariates=relative_covariates)
    block = data.origins["test"]
    pending = run_baselines_soon(data, baseline_forecasters(
        data.preprocessor.seasons, block, classical=classical, exogenous=data.n_future > 0),
        block, fit_end=data.bounds.val_end)  # in a side process while the network fits
    forecaster = make_forecaster(workdir).fit(data)
    baselines = pending.result()
    others = dict(baselines.forecasts)
    if data.covariates:  # the same network without them: a candidate of the model choice
        twin = UnivariateNetwork(make_forecaster(Path(workdir) / "no_covariates")).fit(data)
        others[twin.name] = twin.predict(data, block)
    evaluation = evaluate_split(data, forecaster.predict(data, block), baselines=others)
    return FoldResult(
        fold=fold, cut_time=str(data.timestamps[fold.cut]), mase=evaluation.metrics["mase"],
        mase_per_step=[s["mase"] for s in evaluation.per_step],
        baselines={name: m["mase"] for name, m in evaluation.baselines.items()},
        y_true=evaluation.y_true, y_pred=evaluation.y_pred, scored=evaluation.scored,
        forecasts=evaluation.baseline_forecasts, mase_scale=evaluation.mase_scale)


def summarize(results: list[FoldResult], step: int) -> dict:
    """The backtest section of the metrics JSON: per window, per step, mean and spread."""
    mase = np.array([r.mase for r in results], dtype=np.float64)
    per_step = np.array([r.mase_per_step for r in results], dtype=np.float64)
    names = sorted(set.intersection(*(set(r.baselines) for r in results))) if results else []
    return {
        "windows": len(results), "step": step,
        "mase_mean": _finite(np.nanmean(mase)) if mase.size else None,
        "mase_std": _finite(np.nanstd(mase)) if mase.size else None,
        "mase_per_step_mean": [_finite(v) for v in np.nanmean(per_step, axis=0)]
        if per_step.size else [],
        "baselines_mase_mean": {n: _finite(np.nanmean([r.baselines[n] for r in results]))
                                for n in names},
        "per_window": [{"window": r.fold.index, "cut": r.cut_time, "train_points":
                        r.fold.train_end, "block_points": r.fold.end - r.fold.cut,
                        "mase": _finite(r.mase),
                        "mase_per_step": [_finite(v) for v in r.mase_per_step],
                        "baselines": {n: _finite(v) for n, v in r.baselines.items()}}
                       for r in results],
    }


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
