"""Typed records of what moves between stages and into the artifacts.

Stages hand these to each other instead of dicts, and the report and the JSON artifacts
read their fields: a renamed field is an AttributeError in a test, never a "None" in a
report. ``to_dict`` gives the JSON form (the artifact layout of SPEC §3/§5);
``from_dict`` reads it back where a later run consumes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import pandas as pd

from contracts.artifacts import METRICS_SCHEMA_VERSION


def _known(cls, payload: dict) -> dict:
    """The keys of ``payload`` that are fields of ``cls`` (older files may hold more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in (payload or {}).items() if k in names}


@dataclass(frozen=True)
class GridSummary:
    """How the raw series became a regular, gap-filled grid (spline-interpolate stage)."""

    freq: str = ""
    seasons: list[int] = field(default_factory=lambda: [1])
    n_grid: int = 0
    start: str = ""
    end: str = ""
    max_gap: int = 0
    method: str = "auto"
    season_used: int = 1
    n_filled: int = 0
    n_gaps: int = 0
    longest_gap: int = 0
    n_gaps_seasonal: int = 0
    gaps: list[str] = field(default_factory=list)
    n_rows_with_value: int = 0
    n_off_grid: int = 0
    n_merged_into_shared_slot: int = 0
    warnings: list[str] = field(default_factory=list)  # e.g. a filled gap longer than a season

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict) -> "GridSummary":
        return cls(**_known(cls, payload))


@dataclass(frozen=True)
class CandidateSummary:
    """One transform candidate of the selection: its validation score and cost."""

    name: str
    power: str
    difference: int
    seasonal_difference: int
    seasonal_adjust: bool
    val_mase: float | None
    best_epoch: int | None = None
    epochs_ran: int | None = None
    seconds: float = 0.0
    note: str = ""
    forecaster: str = "lstm"


@dataclass(frozen=True)
class SelectionSummary:
    """Which transform was chosen on validation, among which candidates."""

    chosen: str
    candidates: list[CandidateSummary]
    criterion: str = "MASE on the validation split, original units"

    def to_dict(self) -> dict:
        return {"criterion": self.criterion, "chosen": self.chosen,
                "candidates": [asdict(c) for c in self.candidates]}

    @classmethod
    def from_dict(cls, payload: dict | None) -> "SelectionSummary | None":
        if not payload:
            return None
        return cls(chosen=payload["chosen"], criterion=payload.get("criterion", cls.criterion),
                   candidates=[CandidateSummary(**_known(CandidateSummary, c))
                               for c in payload.get("candidates", [])])


@dataclass(frozen=True)
class DataSummary:
    """Where the series came from and what happened to it before windowing."""

    source: str
    n_rows: int
    n_missing_values: int = 0
    timezone: str | None = None
    notes: tuple[str, ...] = ()
    transform_selection: SelectionSummary | None = None

    def with_notes(self, *notes: str) -> "DataSummary":
        return _replace(self, notes=(*self.notes, *notes))

    def with_selection(self, selection: SelectionSummary | None) -> "DataSummary":
        return _replace(self, transform_selection=selection)

    def to_dict(self) -> dict:
        return {"source": self.source, "n_rows": self.n_rows,
                "n_missing_values": self.n_missing_values, "timezone": self.timezone,
                "notes": list(self.notes),
                "transform_selection": (self.transform_selection.to_dict()
                                        if self.transform_selection else None)}

    @classmethod
    def from_dict(cls, payload: dict) -> "DataSummary":
        known = _known(cls, payload)
        known.setdefault("source", "unknown")
        known.setdefault("n_rows", 0)
        known["notes"] = tuple(known.get("notes") or ())
        known["transform_selection"] = SelectionSummary.from_dict(known.get("transform_selection"))
        return cls(**known)


@dataclass(frozen=True)
class TrainingSummary:
    """What training produced (checkpoint_meta.json, SPEC §3)."""

    run_id: str
    best_epoch: int
    last_epoch: int
    monitor: str
    best_val_loss: float
    best_val_loss_reloaded: float
    epochs_requested: int
    epochs_ran: int
    early_stopped: bool
    batch_size: int
    model: dict
    history: dict[str, list[float]]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ForecastRecord:
    """A forecast of the ``horizon`` steps after ``origin`` (original units), with its
    prediction intervals: "lo_80" / "hi_80" ... -> one bound per step."""

    origin: pd.Timestamp
    timestamps: list[pd.Timestamp]
    values: list[float]
    intervals: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"origin": str(self.origin), "values": list(self.values),
                "timestamps": [str(t) for t in self.timestamps], **self.intervals}


@dataclass(frozen=True)
class InferenceSnapshot:
    """The latest test window and its forecast (metrics ``inference``, SPEC §5)."""

    x_shape: list[int]
    origin: str
    y_true_last: list[float | None]
    y_pred_last: list[float]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """Does the model beat every baseline on test MASE? Decided once, then read."""

    model_mase: float | None
    best_baseline: str
    best_baseline_mase: float | None
    beats_baselines: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MetricsRecord:
    """metrics/{run_id}.json (SPEC §5); NaN metrics are written as null."""

    run_id: str
    dataset: dict
    metrics: dict[str, float]
    metrics_per_step: list[dict]
    mase_scale: dict
    baselines: dict[str, dict[str, float]]
    training: dict
    timestamps: dict[str, str]
    checkpoints: dict[str, str]
    inference: InferenceSnapshot
    verdict: Verdict
    classical_baselines: dict | None = None
    intervals: dict | None = None  # coverage, width, interval score per level and forecaster
    backtest: dict | None = None  # rolling-origin windows: MASE per window and step
    model_choice: dict | None = None  # what the forecast is, and every candidate's scores
    covariates: dict | None = None  # the covariates used; the network with / without them
    schema_version: str = METRICS_SCHEMA_VERSION

    def to_dict(self) -> dict:
        out = {"run_id": self.run_id, "schema_version": self.schema_version,
               "dataset": self.dataset, "metrics": self.metrics,
               "metrics_per_step": self.metrics_per_step, "mase_scale": self.mase_scale,
               "baselines": self.baselines, "training": self.training,
               "timestamps": self.timestamps, "checkpoints": self.checkpoints,
               "inference": self.inference.to_dict(), "verdict": self.verdict.to_dict()}
        for key in ("classical_baselines", "intervals", "backtest", "model_choice",
                    "covariates"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def _replace(record, **changes):
    from dataclasses import replace

    return replace(record, **changes)
