"""Score forecasts in original units against the raw observations (pure).

Filled (interpolated) targets are never scored; every baseline is scored on exactly the
same (origin, step) pairs as the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from contracts.records import InferenceSnapshot
from spline_lstm.evaluation.metrics import (
    forecast_metrics,
    per_step_metrics,
    seasonal_naive_scale,
)


@dataclass(frozen=True)
class Evaluation:
    origins: np.ndarray  # int64 [N]
    y_true: np.ndarray  # float64 [N, H], original units
    scored: np.ndarray  # bool [N, H], True where the target was observed
    y_pred: np.ndarray  # float64 [N, H], original units
    metrics: dict[str, float]
    per_step: list[dict]
    baselines: dict[str, dict[str, float]]
    baseline_forecasts: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    mase_scale: float = float("nan")
    season: int = 1

    def best_baseline(self, exclude: str | None = None) -> tuple[str, float]:
        """(name, MASE) of the baseline with the lowest MASE (other than ``exclude``)."""
        names = [k for k in self.baselines if k != exclude] or list(self.baselines)
        name = min(names, key=lambda k: _nan_last(self.baselines[k]["mase"]))
        return name, self.baselines[name]["mase"]


def _nan_last(value: float) -> float:
    return value if np.isfinite(value) else float("inf")


def target_matrix(values: np.ndarray, observed: np.ndarray, origins: np.ndarray,
                  horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_true [N, H], scored mask [N, H]) for forecasts from ``origins``."""
    index = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    return values[index].astype(np.float64), observed[index]


def mase_scale_of(data) -> float:
    """The MASE denominator: in-sample seasonal-naive MAE on the train split."""
    train_end = data.bounds.train_end
    return seasonal_naive_scale(data.values[:train_end], data.observed[:train_end],
                                data.preprocessor.season)


def score(data, y_pred: np.ndarray, split: str = "test") -> dict[str, float]:
    """The metrics of ``y_pred`` (original units, [N, H]) on ``split``, no baselines."""
    y_true, scored = target_matrix(data.values, data.observed, data.origins[split],
                                   data.preprocessor.horizon)
    return forecast_metrics(y_true, y_pred, mase_scale=mase_scale_of(data), mask=scored)


def evaluate_split(data, y_pred: np.ndarray, split: str = "test",
                   baselines: dict[str, np.ndarray] | None = None) -> Evaluation:
    """Score ``y_pred`` (original units, [N, H]) and the baselines' forecasts on ``split``."""
    pre = data.preprocessor
    origins = data.origins[split]
    y_true, scored = target_matrix(data.values, data.observed, origins, pre.horizon)
    scale = mase_scale_of(data)
    forecasts = dict(baselines or {})
    return Evaluation(
        origins=origins, y_true=y_true, scored=scored, y_pred=np.asarray(y_pred, np.float64),
        metrics=forecast_metrics(y_true, y_pred, mase_scale=scale, mask=scored),
        per_step=per_step_metrics(y_true, y_pred, scored, scale),
        baselines={name: forecast_metrics(y_true, f, mase_scale=scale, mask=scored)
                   for name, f in forecasts.items()},
        baseline_forecasts=forecasts, mase_scale=scale, season=pre.season,
    )


def inference_snapshot(data, evaluation: Evaluation) -> InferenceSnapshot:
    """The latest test window and its forecast (the metrics ``inference`` field)."""
    X_last = data.last_window("test")
    origin = int(evaluation.origins[-1])
    return InferenceSnapshot(
        x_shape=list(X_last.shape), origin=str(data.timestamps[origin]),
        y_true_last=[float(v) if ok else None
                     for v, ok in zip(evaluation.y_true[-1], evaluation.scored[-1])],
        y_pred_last=[float(v) for v in evaluation.y_pred[-1]])
