"""Typed run configuration: the one place where flags, flow parameters and defaults live.

``python flows/e2e.py`` builds its argparse flags from these fields and the ``e2e`` flow
takes the same names as parameters, so a deployment run accepts
``-p input='"data.csv"'`` exactly as the command line accepts ``--input data.csv``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from contracts.errors import InvalidArgumentError
from contracts.run_id import validate_run_id

MAX_UNITS = 4096  # per recurrent layer: wider nets gain nothing here (README, Accuracy)
MAX_LAYERS = 8
MAX_SEASON = 100_000
MAX_LOOKBACK = 100_000
MAX_LEVELS = 5
MAX_BACKTEST_WINDOWS = 50
CANDIDATE_FAMILIES = ("lstm", "classical", "naive", "combination")
TEXT_FIELDS = ("input", "timestamp_col", "target_col", "artifacts_dir", "freq", "processed_npz",
               "preprocessor_pkl", "model_name", "covariate_spec", "future_covariates")
COVARIATE_FIELDS = ("covariate_spec", "covariates", "calendar_features", "future_covariates")


class RunConfig(BaseModel):
    """Everything that determines a run. Same config + seed => same metrics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(description="Run identifier shared by every artifact (required); "
                        "[A-Za-z0-9][A-Za-z0-9._-]{0,127}.")
    input: str | None = Field(None, description="CSV or Parquet file with a timestamp and a "
                              "target column. Omitted: a seeded synthetic series.")
    timestamp_col: str = Field("timestamp", description="Name of the timestamp column.")
    target_col: str = Field("target", description="Name of the target column.")
    artifacts_dir: str = Field("artifacts", description="Root directory of all artifacts.")
    covariate_spec: str | None = Field(None, description="JSON file in covariate_spec.v1 "
                                       "(README, Covariates): the covariate columns of "
                                       "--input, their types (numeric, boolean, "
                                       "categorical), which are known in advance, and how "
                                       "their gaps are filled.")
    covariates: list[str] | None = Field(None, description="Covariate columns of --input "
                                         "the run uses. With --covariate-spec: some of its "
                                         "items (every required one); omitted: all of them. "
                                         "Without a spec: numeric columns observed up to "
                                         "each origin.")
    calendar_features: bool = Field(False, description="Add hour of day, day of week and "
                                    "month of year (sine/cosine pairs, known in advance) "
                                    "as covariates, each where the grid is finer than its "
                                    "cycle and the train split spans two cycles (a column "
                                    "constant there is left out).")
    future_covariates: str | None = Field(None, description="CSV or Parquet file with the "
                                          "timestamp column and each covariate known in "
                                          "advance, holding their values for the --horizon "
                                          "steps after the last point (the forward "
                                          "forecast needs them; never imputed).")
    freq: str | None = Field(None, description="Grid frequency as a pandas offset alias "
                             "(e.g. 30min, h, D, B, W-SAT, MS). Omitted: inferred from the "
                             "data (daily stamps on weekdays only are business days, B).")
    max_gap: int | None = Field(None, ge=1, description="Longest gap (in grid steps) that may be "
                                "filled; longer gaps are refused. Omitted: one season.")
    fill_method: Literal["auto", "linear", "pchip", "seasonal"] = Field(
        "auto", description="Gap filling: auto = PCHIP-type cubic for short gaps, seasonal-aware "
        "for gaps of an eighth of a season or more.")
    lookback: int | None = Field(None, ge=2, le=MAX_LOOKBACK, description="Input window "
                                 "length in steps. "
                                 "Omitted: chosen from the season and horizon.")
    horizon: int = Field(1, ge=1, le=10_000, description="Steps forecast from each origin.")
    season: list[int] | None = Field(None, description="Season length(s) in steps, primary "
                                     "first (e.g. 48 336). Omitted: inferred from the frequency.")
    val_size: float = Field(0.1, gt=0, lt=0.5, description="Fraction of points for validation "
                            "(at least --horizon points: one window).")
    test_size: float = Field(0.2, gt=0, lt=0.5, description="Fraction of points for the test "
                             "split (at least --horizon points: one window).")
    scaling: Literal["standard", "minmax"] = Field("standard", description="Scaler fitted on "
                                                   "the train split only.")
    power: Literal["auto", "none", "log", "boxcox"] = Field(
        "auto", description="Power transform fitted on train. auto: log is a candidate when "
        "the train split looks multiplicative (seasonal amplitude grows with the level).")
    difference: int = Field(0, ge=0, le=1, description="First difference (0 or 1).")
    seasonal_difference: int | None = Field(
        None, ge=0, description="Seasonal difference at this lag (0: none). Omitted: auto, "
        "none and each usable season are candidates.")
    seasonal_adjust: Literal["auto", "none", "mstl"] = Field(
        "auto", description="Subtract a seasonal estimate taken from MSTL decompositions of "
        "past points only (refreshed every season, every few on long series). auto: a "
        "candidate next to the others when --seasonal-difference is on auto and a usable "
        "season is longer than 12 steps.")
    absolute_levels: bool = Field(False, description="Feed the network scaled levels instead "
                                  "of values relative to each window's last value.")
    epochs: int = Field(200, ge=1, le=100_000, description="Maximum training epochs (early "
                        "stopping on val_loss usually stops sooner).")
    patience: int = Field(15, ge=1, description="Epochs without val_loss improvement before "
                          "early stopping.")
    batch_size: int | None = Field(None, ge=1, le=1_000_000, description="Training batch "
                                   "size. Omitted: 64, or smaller for a small train split so "
                                   "that an epoch takes at least 8 steps (never below 8).")
    # 3e-3 by evidence: at 1e-3 short series stop early before learning (README, Accuracy).
    learning_rate: float = Field(3e-3, gt=0, le=1.0, description=(
        "Adam learning rate, halved when val_loss stalls."))
    hidden_units: list[int] = Field(default_factory=lambda: [64, 64], description="Units of "
                                    "each recurrent layer, e.g. 128 64.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout between recurrent layers.")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Random seed (data synthesis, "
                      "weight init, shuffling).")
    model: Literal["lstm", "gru"] = Field("lstm", description="Recurrent cell type.")
    segment_length: int | None = Field(None, ge=1, description="Steps per segment the "
                                       "recurrent layers step over (1: every point). Omitted: "
                                       "about 8 segments per window.")
    baselines: Literal["all", "simple"] = Field(
        "all", description="all: naive, seasonal-naive, moving average and statsforecast "
        "models; simple: skip the statsforecast models (faster).")
    synthetic_points: int = Field(1500, ge=10, le=100_000_000, description="Length of the "
                                  "synthetic series used when --input is omitted.")
    processed_npz: str | None = Field(None, description="Consume existing processed artifacts "
                                      "(processed/{run_id}/processed.npz) instead of ingesting.")
    preprocessor_pkl: str | None = Field(None, description="Preprocessor of the consumed "
                                         "artifacts. Omitted: models/{run_id}/preprocessor.pkl "
                                         "next to --processed-npz.")
    preprocess_only: bool = Field(False, description="Stop after writing the processed "
                                  "artifacts (to be consumed later with --processed-npz).")
    overwrite: bool = Field(False, description="Replace the artifacts of an existing run_id.")
    level: list[float] = Field(default_factory=lambda: [80.0, 95.0], description="Levels (%) "
                               "of the prediction intervals, e.g. 80 95: lo_/hi_ columns in "
                               "the predictions, calibrated on data the model did not train "
                               "on (validation split and backtest blocks).")
    interval_method: Literal["adaptive", "static"] = Field(
        "adaptive", description="static: conformal quantiles of the calibration errors "
        "(validation split, backtest blocks); adaptive: each interval also calibrated on "
        "the errors of earlier forecasts whose targets were observed before its origin, "
        "each level's working miscoverage following its misses (adaptive conformal "
        "inference: keeps coverage near the level when the error level drifts).")
    backtest_windows: int | None = Field(None, ge=0, le=MAX_BACKTEST_WINDOWS, description=
                                         "Rolling-origin backtests: refit at this many "
                                         "expanding origins before the test split and score "
                                         "each following block with every candidate (0: "
                                         "none). Omitted: as many as the series needs to "
                                         "choose among several candidates (2-5, fewer on "
                                         "long series), none for --candidates lstm. Their "
                                         "errors also calibrate the intervals.")
    candidates: list[str] | None = Field(None, description="Model families the run's "
                                         "forecast is chosen from on the backtests: lstm "
                                         "(the network), classical (statsforecast), naive, "
                                         "combination (mean / median of the best). Omitted: "
                                         "all of them; lstm alone keeps the network whatever "
                                         "it scores.")
    backtest_step: int | None = Field(None, ge=1, description="Points per backtest block "
                                      "(the distance between origins). Omitted: the "
                                      "validation split's size, at least one horizon.")
    stage_tags: Literal["auto", "on", "off"] = Field(
        "auto", description="Tag each stage's task runs stage:<stage>, so a Prefect "
        "concurrency limit can cap a stage (prefect concurrency-limit create stage:train 2). "
        "auto: only when the server holds a limit on some stage: tag. Each tag costs a "
        "concurrency-lease request, ~2 s per stall on a busy SQLite-backed server.")

    tracking: Literal["on", "off"] = Field(
        "on", description="on: once the gate passes, log the run to MLflow "
        "(MLFLOW_TRACKING_URI; default a SQLite store in ARTIFACTS_DIR/mlflow) and register "
        "it as its model's candidate. A tracking failure never fails the run: its metadata "
        "says 'not tracked'; back-fill with `spline-lstm track --run-id ID`.")
    model_name: str | None = Field(None, description="Registered model of this series "
                                   "(one per series). Omitted: the input file's name "
                                   "without extension (synthetic for a generated series).")
    promote: bool = Field(False, description="After registering, promote the run to "
                          "champion if it beats the champion by the policy (README, Model "
                          "registry); otherwise it stays candidate, with the reason.")

    @field_validator("run_id")
    @classmethod
    def _run_id_is_safe(cls, value: str) -> str:
        return validate_run_id(value)

    @field_validator("model_name")
    @classmethod
    def _model_name_is_safe(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:  # the run_id rule: names become paths and URLs
            return validate_run_id(value)
        except InvalidArgumentError:
            raise ValueError("use 1-128 of A-Z a-z 0-9 . _ -, starting with a letter or "
                             "digit, without '..', e.g. co2_weekly") from None

    @field_validator("hidden_units")
    @classmethod
    def _units_positive(cls, value: list[int]) -> list[int]:
        if not value or any(u < 1 for u in value):
            raise ValueError("give one positive integer per recurrent layer, e.g. 64 64")
        if len(value) > MAX_LAYERS or max(value) > MAX_UNITS:
            raise ValueError(f"at most {MAX_LAYERS} layers of at most {MAX_UNITS} units each, "
                             "e.g. 64 64")
        return value

    @field_validator("season")
    @classmethod
    def _seasons_positive(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or any(m < 1 or m > MAX_SEASON for m in value)):
            raise ValueError(f"season lengths must be integers from 1 to {MAX_SEASON}, "
                             "e.g. 48 336")
        return value

    @field_validator("level")
    @classmethod
    def _levels_are_percentages(cls, value: list[float]) -> list[float]:
        if not value or len(value) > MAX_LEVELS:
            raise ValueError(f"give 1 to {MAX_LEVELS} levels in percent, e.g. 80 95")
        if any(not 0 < v < 100 for v in value):
            raise ValueError("each level must lie strictly between 0 and 100 (percent), "
                             "e.g. 80 95")
        if len(set(value)) != len(value):
            raise ValueError("levels must differ from each other, e.g. 80 95")
        return sorted(float(v) for v in value)

    @field_validator("candidates")
    @classmethod
    def _known_families(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [v for v in value if v not in CANDIDATE_FAMILIES]
        if not value or unknown or len(set(value)) != len(value):
            raise ValueError(f"give one or more of {' '.join(CANDIDATE_FAMILIES)}, each once"
                             + (f" ({', '.join(map(repr, unknown))} is not one)" if unknown
                                else ""))
        if value == ["combination"]:
            raise ValueError("a combination needs members: add lstm, classical or naive")
        return [f for f in CANDIDATE_FAMILIES if f in value]

    @field_validator("covariates")
    @classmethod
    def _distinct_names(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not v.strip() for v in value)
                                  or len(set(value)) != len(value)):
            raise ValueError("give one or more column names, each once, e.g. temperature "
                             "workday")
        return value

    @field_validator(*TEXT_FIELDS)
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty (an unset shell variable?); give a value or leave the "
                             "flag out")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "RunConfig":
        if self.val_size + self.test_size >= 0.8:
            raise ValueError("val_size + test_size must leave at least 20% for training")
        if self.preprocessor_pkl and not self.processed_npz:
            raise ValueError("preprocessor_pkl only applies with processed_npz")
        if self.preprocess_only and self.processed_npz:
            raise ValueError("preprocess_only and processed_npz exclude each other")
        used = [flag_name(f) for f in COVARIATE_FIELDS if getattr(self, f)]
        if used and self.processed_npz:
            raise ValueError(f"{', '.join(used)}: the consumed processed artifacts carry "
                             "their covariates (and the future rows); leave these out with "
                             "--processed-npz")
        if self.future_covariates and not self.covariate_spec:
            raise ValueError("--future-covariates holds the values of covariates known in "
                             "advance, which only a --covariate-spec declares; add the spec "
                             "or leave the file out")
        if (self.covariate_spec or self.covariates) and not self.input:
            raise ValueError("--covariate-spec / --covariates read columns of --input; the "
                             "synthetic series has none (--calendar-features works with it)")
        if self.candidates and set(self.candidates) <= {"classical", "combination"} \
                and self.baselines != "all":
            raise ValueError("--candidates classical needs the classical models: leave out "
                             "--baselines simple, or add lstm or naive to --candidates")
        return self

    @classmethod
    def build(cls, **values: Any) -> "RunConfig":
        """Validate ``values`` into a config or raise INVALID_ARGUMENT naming each bad flag."""
        try:
            return cls(**values)
        except InvalidArgumentError:
            raise
        except ValidationError as exc:
            raise InvalidArgumentError(_describe_validation_error(exc)) from exc


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
        label = flag_name(where) if where else "configuration"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown option"
        got = err.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        problems.append(f"{label}: {message}{got_text}")
    return "invalid configuration: " + "; ".join(problems) + ". See --help for every option."
