"""The health gate (SPEC §7): a run passes only if every artifact exists, parses, carries
its keys, and names the same run_id everywhere."""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contracts.artifacts import (
    FINITE_METRIC_KEYS,
    REQUIRED_CHECKPOINT_META_KEYS,
    REQUIRED_META_KEYS,
    REQUIRED_METADATA_KEYS,
    REQUIRED_METRICS_KEYS,
    REQUIRED_NPZ_KEYS,
    SPLIT_CONTRACT_SCHEMA_VERSION,
    ArtifactLayout,
)
from contracts.errors import HealthCheckFailedError, PipelineError, RunIdMismatchError
from spline_lstm.store.atomic import read_json
from spline_lstm.store.commit import commit_in_progress
from spline_lstm.store.unpickler import read_pickled_dict


@dataclass
class GateResult:
    run_id: str
    root: str
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # the files this check requires
    missing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.mismatches

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "root": self.root, "passed": self.passed,
                "checked": self.checked, "problems": self.problems,
                "run_id_mismatches": self.mismatches}


def check_run(root: Path, run_id: str, *, require_training: bool = True) -> GateResult:
    """Inspect every artifact of ``run_id`` under ``root``; never raises for bad artifacts."""
    layout = ArtifactLayout(Path(root), run_id)
    result = GateResult(run_id=run_id, root=str(root))
    if commit_in_progress(Path(root), run_id):
        result.problems.append(
            "the run's files were still being moved into place when its process stopped "
            "(commit journal present); the next run with this run_id completes the move")
    expected = layout.required_artifacts() if require_training else layout.preprocessing_artifacts()
    result.expected = [str(layout.relative(p)) for p in expected]
    result.missing = [str(layout.relative(p)) for p in expected if not p.is_file()]
    result.problems += [f"missing {name}" for name in result.missing]
    if result.problems:
        return result
    found: dict[str, object] = {}
    meta = _check_json(result, layout.meta_json, layout, REQUIRED_META_KEYS, found, "meta.json")
    split = _check_json(result, layout.split_contract_json, layout, ("schema_version",), found,
                        None)
    if split and split.get("schema_version") != SPLIT_CONTRACT_SCHEMA_VERSION:
        result.problems.append(f"split_contract.json has schema_version "
                               f"{split.get('schema_version')!r}, expected "
                               f"{SPLIT_CONTRACT_SCHEMA_VERSION!r}")
    covariates = [e.get("name") for e in ((meta or {}).get("features") or {}).get("encoders", [])]
    _check_npz(result, layout, covariates)
    try:
        found["preprocessor.pkl"] = read_pickled_dict(layout.preprocessor_pkl).get("run_id")
        result.checked.append(str(layout.relative(layout.preprocessor_pkl)))
    except PipelineError as exc:
        result.problems.append(f"preprocessor.pkl unreadable: {exc.message}")
    if require_training:
        _check_json(result, layout.checkpoint_meta_json, layout, REQUIRED_CHECKPOINT_META_KEYS,
                    found, "checkpoint_meta.json")
        _check_json(result, layout.metadata_json, layout, REQUIRED_METADATA_KEYS, found,
                    "metadata.json")
        metrics = _check_json(result, layout.metrics_json, layout, REQUIRED_METRICS_KEYS,
                              found, "metrics.json")
        if metrics:
            _check_metrics(result, metrics, layout, found)
            if covariates and not isinstance(metrics.get("covariates"), dict):
                result.problems.append(f"metrics.json lacks the 'covariates' section of the "
                                       f"run's covariates {covariates}")
        for path in (layout.best_checkpoint, layout.last_checkpoint):
            if not zipfile.is_zipfile(path):
                result.problems.append(f"{layout.relative(path)} is not a .keras archive")
            else:
                result.checked.append(str(layout.relative(path)))
        result.checked.append(str(layout.relative(layout.report_md)))
        result.checked.append(str(layout.relative(layout.predictions_csv)))
    for where, value in found.items():
        if value != run_id:
            result.mismatches.append(f"{where} says run_id {value!r}, path says {run_id!r}")
    return result


def enforce(result: GateResult) -> None:
    """Raise 30 for missing/unparsable artifacts, 27 when only run_ids disagree."""
    if result.passed:
        return
    if result.expected and len(result.missing) == len(result.expected):
        raise HealthCheckFailedError(
            f"run_id {result.run_id!r} has no artifacts under {result.root}: check --run-id "
            "and --artifacts-dir, or run the pipeline first")
    layout = ArtifactLayout(Path(result.root), result.run_id)
    preprocessing = {str(layout.relative(p)) for p in layout.preprocessing_artifacts()}
    if result.missing and set(result.expected) - set(result.missing) == preprocessing:
        raise HealthCheckFailedError(
            f"run_id {result.run_id!r} under {result.root} has only its preprocessing "
            f"artifacts (missing {', '.join(result.missing)}): it is a --preprocess-only run. "
            "Check it with --preprocess-only, or train on it with --processed-npz")
    if result.problems:
        detail = "; ".join(result.problems + result.mismatches)
        raise HealthCheckFailedError(
            f"health gate failed for run_id {result.run_id!r} under {result.root}: {detail}. "
            "Re-run the pipeline for this run_id with --overwrite (see runbook: exit 30)")
    raise RunIdMismatchError(
        f"health gate found run_id mismatches for {result.run_id!r} under {result.root}: "
        f"{'; '.join(result.mismatches)}. Artifacts of different runs were mixed; re-run "
        "with --overwrite (see runbook: exit 27)")


def _check_json(result: GateResult, path: Path, layout: ArtifactLayout, keys, found: dict,
                run_id_label: str | None) -> dict | None:
    try:
        payload = read_json(path, path.name)
    except PipelineError as exc:
        result.problems.append(f"{layout.relative(path)} unparsable: {exc.message}")
        return None
    missing = [k for k in keys if k not in payload]
    if missing:
        result.problems.append(f"{layout.relative(path)} lacks key(s) {missing}")
    result.checked.append(str(layout.relative(path)))
    if run_id_label and "run_id" in payload:
        found[run_id_label] = payload["run_id"]
    return payload


def _check_npz(result: GateResult, layout: ArtifactLayout, covariates: list[str]) -> None:
    """The required keys; with covariates, their values as read (one column each)."""
    try:
        with np.load(layout.processed_npz, allow_pickle=False) as data:
            missing = [k for k in REQUIRED_NPZ_KEYS if k not in data.files]
            if covariates:
                shape = data["covariate_values"].shape if "covariate_values" in data.files \
                    else None
                if shape is None or len(shape) != 2 or shape[1] != len(covariates):
                    result.problems.append(
                        f"processed.npz covariate_values has shape {shape}, expected "
                        f"[n, {len(covariates)}] for covariates {covariates}")
    except (OSError, ValueError, EOFError) as exc:
        result.problems.append(f"processed.npz unreadable: {exc}")
        return
    if missing:
        result.problems.append(f"processed.npz lacks key(s) {missing}")
    result.checked.append(str(layout.relative(layout.processed_npz)))


def _check_metrics(result: GateResult, metrics: dict, layout: ArtifactLayout,
                   found: dict) -> None:
    values = metrics.get("metrics")
    if not isinstance(values, dict):
        result.problems.append("metrics.json 'metrics' is not an object")
    else:
        for key in FINITE_METRIC_KEYS:
            value = values.get(key)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                result.problems.append(f"metrics.{key} is {value!r}, expected a finite number")
    checkpoints = metrics.get("checkpoints")
    if not isinstance(checkpoints, dict) or not {"best", "last"} <= set(checkpoints):
        result.problems.append("metrics.json 'checkpoints' lacks 'best'/'last'")
        return
    for kind in ("best", "last"):
        found[f"metrics.checkpoints.{kind} directory"] = Path(str(checkpoints[kind])).parent.name
