"""A committed run as a ready forecaster: its data, its chosen model, its intervals.

The one way a saved run forecasts again — the MLflow model, promotion and (later) serving
all go through it, so they give the numbers of the run's own ``predictions/{run_id}.csv``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from contracts.artifacts import ArtifactLayout
from contracts.errors import (
    ArtifactContractError,
    InputFileNotFoundError,
    InvalidArgumentError,
)
from contracts.records import ForecastRecord
from spline_lstm.models.base import Forecaster
from spline_lstm.models.conformal import ConformalCalibrator
from spline_lstm.models.prediction import forward_forecast, with_intervals
from spline_lstm.models.registry import load_forecaster
from spline_lstm.store.atomic import read_json
from spline_lstm.store.processed_io import read_processed
from spline_lstm.windows.preprocess import assemble
from spline_lstm.windows.processed import ProcessedData


def model_files(layout: ArtifactLayout) -> list[Path]:
    """The files a run needs to forecast again (what an MLflow model of it bundles)."""
    files = [*layout.preprocessing_artifacts(), layout.intervals_json, layout.metrics_json]
    if layout.chosen_model_dir.is_dir():
        files += sorted(p for p in layout.chosen_model_dir.rglob("*") if p.is_file())
    else:
        files.append(layout.best_checkpoint)
    return files


def bundle_run(root: Path, run_id: str, dest: Path) -> Path:
    """Copy the run's model files under ``dest`` in the artifacts layout; return ``dest``."""
    source, target = ArtifactLayout(root, run_id), ArtifactLayout(dest, run_id)
    for path in model_files(source):
        if not path.is_file():
            raise InputFileNotFoundError(
                f"run {run_id!r} under {root} lacks {source.relative(path)}: it did not "
                "finish; re-run it with --overwrite")
        copy = target.root / source.relative(path)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    return Path(dest)


@dataclass
class RunModel:
    """What a run forecasts with: its processed data, forecaster and interval calibration."""

    run_id: str
    data: ProcessedData
    forecaster: Forecaster
    calibrator: ConformalCalibrator
    name: str

    @classmethod
    def load(cls, root: Path, run_id: str) -> "RunModel":
        layout = ArtifactLayout(Path(root), run_id)
        if not layout.metrics_json.is_file():
            raise InputFileNotFoundError(
                f"run {run_id!r} has no metrics under {root}: it never finished there; "
                "check --run-id and --artifacts-dir")
        data = read_processed(layout.processed_npz, run_id, layout.preprocessor_pkl)
        folder = layout.chosen_model_dir if layout.chosen_model_dir.is_dir() \
            else layout.checkpoints_dir
        forecaster = load_forecaster(folder)
        calibrator = ConformalCalibrator.from_dict(read_json(layout.intervals_json,
                                                             "intervals.json"))
        choice = read_json(layout.metrics_json, "metrics").get("model_choice") or {}
        return cls(run_id, data, forecaster, calibrator, choice.get("chosen") or forecaster.name)

    @property
    def horizon(self) -> int:
        return self.data.preprocessor.horizon

    def forecast(self, horizon: int | None = None) -> ForecastRecord:
        """The forward forecast from the last stored point, with the run's intervals."""
        horizon = self.horizon if horizon is None else int(horizon)
        if not 1 <= horizon <= self.horizon:
            raise InvalidArgumentError(
                f"horizon {horizon} is outside 1..{self.horizon}, the horizon model "
                f"{self.run_id!r} was trained for; ask for at most {self.horizon} steps")
        full = with_intervals(forward_forecast(self.forecaster, self.data), self.calibrator)
        return replace(full, timestamps=full.timestamps[:horizon], values=full.values[:horizon],
                       intervals={k: v[:horizon] for k, v in full.intervals.items()})

    def predict_on(self, data: ProcessedData, origins: np.ndarray) -> np.ndarray:
        """Forecasts [N, H] at ``origins`` of another run's series, through this run's own
        transforms (fitted on this run's train split, never refitted)."""
        return self.forecaster.predict(self.rebased(data), origins)

    def rebased(self, other: ProcessedData) -> ProcessedData:
        """``other``'s series and split in this run's model space."""
        pre = self.data.preprocessor
        if pre.freq != other.preprocessor.freq:
            raise ArtifactContractError(
                f"run {self.run_id!r} forecasts a {pre.freq} series, the other run's is "
                f"{other.preprocessor.freq}: they are not the same series")
        missing = sorted(set(pre.features.covariate_names)
                         - {c.name for c in other.covariates})
        if missing:
            raise ArtifactContractError(
                f"run {self.run_id!r} uses covariates {list(pre.features.covariate_names)}; "
                f"comparing it on another run's series needs them too (missing {missing})")
        target = pre.chain.apply(np.asarray(other.values, dtype=np.float64))
        series = pre.features.stack(target, other.covariates).astype(np.float32)
        rebased = assemble(pre, other.bounds, other.timestamps, other.values, other.observed,
                           series, other.data_summary)
        return rebased.with_covariates(other.covariates, None)

