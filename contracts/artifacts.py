"""The artifact contract of SPEC §3: where every file of a run lives and what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.run_id import validate_run_id

PROCESSED_SCHEMA_VERSION = "phase1.v2"
SPLIT_CONTRACT_SCHEMA_VERSION = "phase1.split_contract.v1"
PREPROCESSOR_SCHEMA_VERSION = "preprocessor.v2"  # v1 (steps under separate keys) still reads
METRICS_SCHEMA_VERSION = "metrics.v1"

REQUIRED_NPZ_KEYS = (
    "X_train", "y_train", "X_val", "y_val", "X_test", "y_test",
    "feature_names", "target_indices",
)
REQUIRED_META_KEYS = ("run_id", "lookback", "horizon", "scaler_type", "schema_version")
REQUIRED_PREPROCESSOR_KEYS = ("run_id", "scaler", "lookback", "horizon", "interpolation")
REQUIRED_CHECKPOINT_META_KEYS = ("run_id", "best_epoch", "last_epoch", "monitor", "best_val_loss")
REQUIRED_METRICS_KEYS = (
    "run_id", "dataset", "metrics", "training", "timestamps", "checkpoints",
    "inference", "baselines",
)
METRIC_KEYS = ("mae", "mse", "rmse", "mape", "r2", "mase", "smape")  # every metric set, in order
FINITE_METRIC_KEYS = ("mae", "mse", "rmse", "mape", "r2")  # the gate requires these finite
REQUIRED_METADATA_KEYS = (
    "run_id", "git_commit", "seed", "package_versions", "command", "config",
    "start_time", "end_time",
)
PREDICTION_COLUMNS = ("origin", "timestamp", "step", "y_true", "y_pred", "kind")

ARTIFACT_DIRNAMES = ("processed", "models", "checkpoints", "metrics", "reports", "metadata",
                     "predictions")
STAGING_DIRNAME = ".staging"
LOCKS_DIRNAME = ".locks"
LOGS_DIRNAME = "logs"


@dataclass(frozen=True)
class ArtifactLayout:
    """Every artifact path of one run under one root (the artifacts dir or a staging copy)."""

    root: Path
    run_id: str

    def __post_init__(self) -> None:
        validate_run_id(self.run_id)
        object.__setattr__(self, "root", Path(self.root))

    # processed/{run_id}/
    @property
    def processed_dir(self) -> Path:
        return self.root / "processed" / self.run_id

    @property
    def processed_npz(self) -> Path:
        return self.processed_dir / "processed.npz"

    @property
    def meta_json(self) -> Path:
        return self.processed_dir / "meta.json"

    @property
    def split_contract_json(self) -> Path:
        return self.processed_dir / "split_contract.json"

    # models/{run_id}/
    @property
    def models_dir(self) -> Path:
        return self.root / "models" / self.run_id

    @property
    def preprocessor_pkl(self) -> Path:
        return self.models_dir / "preprocessor.pkl"

    @property
    def checkpoint_meta_json(self) -> Path:
        return self.models_dir / "checkpoint_meta.json"

    @property
    def intervals_json(self) -> Path:
        """The calibration of the prediction intervals (what serving needs to give them)."""
        return self.models_dir / "intervals.json"

    @property
    def chosen_model_dir(self) -> Path:
        """The chosen forecaster when it is not the network alone (Forecaster.save)."""
        return self.models_dir / "chosen"

    # checkpoints/{run_id}/
    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints" / self.run_id

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / "best.keras"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints_dir / "last.keras"

    # one file per run
    @property
    def metrics_json(self) -> Path:
        return self.root / "metrics" / f"{self.run_id}.json"

    @property
    def report_md(self) -> Path:
        return self.root / "reports" / f"{self.run_id}.md"

    @property
    def forecast_png(self) -> Path:
        return self.root / "reports" / f"{self.run_id}.png"

    @property
    def metadata_json(self) -> Path:
        return self.root / "metadata" / f"{self.run_id}.json"

    @property
    def predictions_csv(self) -> Path:
        return self.root / "predictions" / f"{self.run_id}.csv"

    def preprocessing_artifacts(self) -> tuple[Path, ...]:
        """Artifacts written by the scale/window stage (what the consume path reads)."""
        return (self.processed_npz, self.meta_json, self.split_contract_json, self.preprocessor_pkl)

    def training_artifacts(self) -> tuple[Path, ...]:
        """Artifacts written from training onwards."""
        return (
            self.checkpoint_meta_json, self.best_checkpoint, self.last_checkpoint,
            self.metrics_json, self.report_md, self.metadata_json, self.predictions_csv,
        )

    def required_artifacts(self) -> tuple[Path, ...]:
        """Every file SPEC §3 requires of a complete run."""
        return self.preprocessing_artifacts() + self.training_artifacts()

    def optional_artifacts(self) -> tuple[Path, ...]:
        return (self.forecast_png, self.intervals_json)

    def existing_artifacts(self) -> list[Path]:
        """Files of this run that already exist under ``root``."""
        chosen = sorted(p for p in self.chosen_model_dir.rglob("*") if p.is_file()) \
            if self.chosen_model_dir.is_dir() else []
        return [p for p in self.required_artifacts() + self.optional_artifacts() if p.exists()] \
            + chosen

    def relative(self, path: Path) -> Path:
        return Path(path).relative_to(self.root)

    def rebased(self, root: Path) -> "ArtifactLayout":
        """The same layout under another root (e.g. the staging tree)."""
        return ArtifactLayout(root=Path(root), run_id=self.run_id)


# A run's private paths are {artifacts}/.staging/<kind>/<run_id>[.json]: the run_id is always
# a whole path component under a folder of its kind, so no valid run_id can name another
# run's private path (``.staging/X.scratch`` used to be the staging tree of run "X.scratch").


def _private(artifacts_dir: Path, kind: str, run_id: str, suffix: str = "") -> Path:
    return Path(artifacts_dir) / STAGING_DIRNAME / kind / f"{validate_run_id(run_id)}{suffix}"


def staging_root(artifacts_dir: Path, run_id: str) -> Path:
    """Where a run writes before its artifacts are committed into place."""
    return _private(artifacts_dir, "runs", run_id)


def scratch_root(artifacts_dir: Path, run_id: str) -> Path:
    """Working files of a run that are never committed (e.g. rejected candidates)."""
    return _private(artifacts_dir, "scratch", run_id)


def backup_root(artifacts_dir: Path, run_id: str) -> Path:
    """The previous run's files while an --overwrite commit replaces them."""
    return _private(artifacts_dir, "backup", run_id)


def commit_journal_path(artifacts_dir: Path, run_id: str) -> Path:
    """Present only while a run's files are being moved into place (or if that was killed)."""
    return _private(artifacts_dir, "journals", run_id, ".json")


def lock_path(artifacts_dir: Path, run_id: str) -> Path:
    return Path(artifacts_dir) / LOCKS_DIRNAME / f"{validate_run_id(run_id)}.lock"


def debug_log_path(artifacts_dir: Path, run_id: str) -> Path:
    return Path(artifacts_dir) / LOGS_DIRNAME / f"{validate_run_id(run_id)}.log"


def failure_report_path(artifacts_dir: Path, run_id: str) -> Path:
    return Path(artifacts_dir) / LOGS_DIRNAME / f"{validate_run_id(run_id)}.failed.md"


MANY_DIRNAME = "many"


@dataclass(frozen=True)
class ManySeriesLayout:
    """Files of a many-series parent run; each series' own artifacts use ArtifactLayout."""

    root: Path
    run_id: str

    def __post_init__(self) -> None:
        validate_run_id(self.run_id)
        object.__setattr__(self, "root", Path(self.root))

    @property
    def run_dir(self) -> Path:
        return self.root / MANY_DIRNAME / self.run_id

    @property
    def inputs_dir(self) -> Path:
        """One Parquet file per series, split from a long-format input."""
        return self.run_dir / "inputs"

    @property
    def summary_json(self) -> Path:
        return self.run_dir / "summary.json"

    @property
    def summary_md(self) -> Path:
        return self.run_dir / "summary.md"
