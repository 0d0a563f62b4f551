"""Build the JSON records of a run: metrics (SPEC §5) and metadata (SPEC §3) (pure)."""

from __future__ import annotations

from contracts.artifacts import METRICS_SCHEMA_VERSION, ArtifactLayout
from contracts.config import RunConfig
from spline_lstm.evaluation.scoring import Evaluation
from spline_lstm.windows.preprocess import ProcessedData


def _finite_or_none(metrics: dict) -> dict:
    """JSON has no NaN: undefined metrics (e.g. r2 of a constant target) become null."""
    return {k: (v if v == v and abs(v) != float("inf") else None) for k, v in metrics.items()}


def build_metrics_record(config: RunConfig, data: ProcessedData, evaluation: Evaluation,
                         training: dict, inference: dict, final: ArtifactLayout,
                         start_time: str, end_time: str) -> dict:
    pre = data.preprocessor
    counts = data.window_counts()
    return {
        "run_id": config.run_id,
        "schema_version": METRICS_SCHEMA_VERSION,
        "dataset": {
            "n_train": counts["train"], "n_val": counts["val"], "n_test": counts["test"],
            "lookback": pre.lookback, "horizon": pre.horizon,
            "points": data.bounds.sizes(),
            "n_scored_targets": int(evaluation.scored.sum()),
            "season": pre.season, "seasons": pre.seasons,
            "transform": pre.transform_name,
        },
        "metrics": _finite_or_none(evaluation.metrics),
        "metrics_per_step": [_finite_or_none(s) for s in evaluation.per_step],
        "mase_scale": {"season": evaluation.season, "value": evaluation.mase_scale,
                       "definition": "in-sample seasonal-naive MAE on the train split"},
        "baselines": {name: _finite_or_none(m) for name, m in evaluation.baselines.items()},
        "training": {
            "epochs_requested": training["epochs_requested"],
            "epochs_ran": training["epochs_ran"],
            "early_stopped": training["early_stopped"],
            "best_epoch": training["best_epoch"],
            "best_val_loss": training["best_val_loss"],
        },
        "timestamps": {"start_time": start_time, "end_time": end_time},
        "checkpoints": {"best": str(final.best_checkpoint), "last": str(final.last_checkpoint)},
        "inference": inference,
    }


def build_metadata_record(config: RunConfig, *, git_commit: str, versions: dict,
                          command: str, reproduce: str, start_time: str, end_time: str,
                          source: str) -> dict:
    return {
        "run_id": config.run_id,
        "git_commit": git_commit,
        "seed": config.seed,
        "package_versions": versions,
        "command": command,
        "reproduce_command": reproduce,
        "config": config.model_dump(),
        "input": source,
        "start_time": start_time,
        "end_time": end_time,
    }
