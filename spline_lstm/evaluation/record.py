"""Assemble the metrics record of a run (SPEC §5) from what evaluation produced (pure)."""

from __future__ import annotations

from contracts.records import InferenceSnapshot, MetricsRecord, TrainingSummary, Verdict
from spline_lstm.evaluation.baselines import BaselineRun
from spline_lstm.evaluation.scoring import Evaluation


def build_metrics_record(data, evaluation: Evaluation, verdict: Verdict,
                         training: TrainingSummary, inference: InferenceSnapshot, *,
                         checkpoints: dict[str, str], start_time: str, end_time: str,
                         baselines: BaselineRun | None, intervals: dict | None = None,
                         backtest: dict | None = None,
                         model_choice: dict | None = None,
                         covariates: dict | None = None) -> MetricsRecord:
    pre = data.preprocessor
    counts = data.window_counts()
    return MetricsRecord(
        run_id=pre.run_id,
        dataset={"n_train": counts["train"], "n_val": counts["val"], "n_test": counts["test"],
                 "lookback": pre.lookback, "horizon": pre.horizon,
                 "points": data.bounds.sizes(), "n_scored_targets": int(evaluation.scored.sum()),
                 "season": pre.season, "seasons": pre.seasons, "transform": pre.transform_name,
                 "n_features": data.n_features, "feature_names": list(data.feature_names)},
        metrics=evaluation.metrics,
        metrics_per_step=evaluation.per_step,
        mase_scale={"season": evaluation.season, "value": evaluation.mase_scale,
                    "definition": "in-sample seasonal-naive MAE on the train split"},
        baselines=evaluation.baselines,
        training={"epochs_requested": training.epochs_requested,
                  "epochs_ran": training.epochs_ran, "early_stopped": training.early_stopped,
                  "best_epoch": training.best_epoch, "best_val_loss": training.best_val_loss},
        timestamps={"start_time": start_time, "end_time": end_time},
        checkpoints=checkpoints,
        inference=inference,
        verdict=verdict,
        classical_baselines=None if baselines is None else {
            "fitted_on": "train+val, rolled forward on actuals", "seconds": baselines.seconds,
            "skipped": baselines.skipped},
        intervals=intervals,
        backtest=backtest,
        model_choice=model_choice,
        covariates=covariates,
    )
