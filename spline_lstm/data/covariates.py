"""Covariate columns: read, validate (pandera, every problem at once), put on the target's
grid, fill gaps without look-ahead, and the built-in calendar covariates.

A ``Covariate`` is one input column on the grid in "original units": a float for numeric
and boolean (0/1) columns, an integer code into ``labels`` for categorical ones. Scaling
and one-hot encoding are fitted later, on the train split (``transforms/features.py``).

Gap rules (per covariate, the spec's ``imputation_policy``; default ``spline``):
- ``spline``: the target's own filling (Hermite cubic, causal at each gap's right end) for
  numeric columns; boolean and categorical columns carry the last value forward;
- ``ffill``: the last observed value carried forward;
- ``zero``: 0 (a flag or an amount that is absent when not recorded).
A gap longer than ``--max-gap``, or missing values before a covariate's first observation
(nothing to carry forward), is refused with 25 naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pandera.pandas as pa

from contracts.covariate_spec import CovariateItem, CovariateSpec
from contracts.errors import InputSchemaError
from contracts.schemas import MAX_ABS_VALUE, validate_frame
from spline_lstm.data.interpolate import fill_gaps, gap_runs

TRUE_TEXT = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_TEXT = {"0", "0.0", "false", "f", "no", "n"}
CALENDAR_PREFIX = "calendar_"
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Covariate:
    """One covariate on the grid: float64 [n] values (categorical: codes into labels)."""

    name: str
    kind: str  # numeric | boolean | categorical
    known_in_advance: bool
    values: np.ndarray
    labels: tuple[str, ...] = ()

    def head(self, n: int) -> "Covariate":
        return replace(self, values=self.values[:n])

    def with_values(self, values: np.ndarray) -> "Covariate":
        return replace(self, values=np.asarray(values, dtype=np.float64))

    def label_of(self, code: float) -> str:
        return self.labels[int(code)] if self.kind == "categorical" else repr(code)


def items_for(spec: CovariateSpec | None, declared: list[str] | None) -> list[CovariateItem]:
    """The dynamic covariates of a run: the spec's (narrowed to ``--covariates``), or each
    declared name as a numeric, past-observed covariate when there is no spec."""
    if spec is not None:
        return list(spec.dynamic)
    return [CovariateItem(name=n, kind="numeric", required=True) for n in declared or []]


def parse_covariate_frame(raw: pd.DataFrame, timestamps: pd.Series,
                          items: list[CovariateItem], source: str) -> pd.DataFrame:
    """Typed covariate columns (numeric/boolean float, categorical text), validated with
    pandera: every problem of every column in one 25."""
    parsed, text_columns = {}, {}
    for item in items:
        column = raw[item.name]
        if item.kind == "numeric":
            parsed[item.name] = pd.to_numeric(column, errors="coerce").astype("float64")
            if column.dtype == object:
                text_columns[item.name] = column
        elif item.kind == "boolean":
            parsed[item.name] = _booleans(column)
            text_columns[item.name] = column.astype(object)
        else:
            parsed[item.name] = column.astype("string").str.strip().replace("", pd.NA)
    frame = pd.DataFrame({"timestamp": timestamps.to_numpy(), **parsed})
    schema = _schema(items, text_columns)
    for name, text in text_columns.items():
        frame[f"{name}__text"] = text.astype("string").array
    validate_frame(schema, frame, source,
                   describe=lambda cases: _describe(cases, raw, items, source))
    return frame[["timestamp", *[i.name for i in items]]].copy()


def _booleans(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    text = column.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=column.index, dtype="float64")
    out[text.isin(TRUE_TEXT).fillna(False).to_numpy(bool)] = 1.0
    out[text.isin(FALSE_TEXT).fillna(False).to_numpy(bool)] = 0.0
    return out


def _schema(items: list[CovariateItem], text_columns: dict) -> pa.DataFrameSchema:
    columns, frame_checks = {}, []
    for item in items:
        name = item.name
        if item.kind == "categorical":
            columns[name] = pa.Column("string", nullable=True)
        else:
            columns[name] = pa.Column(float, nullable=True, checks=[
                pa.Check(lambda s: ~np.isinf(s), element_wise=False,
                         error=f"{name}: finite (no +/-inf)", ignore_na=False),
                pa.Check(lambda s: s.isna() | np.isinf(s) | (s.abs() <= MAX_ABS_VALUE),
                         error=f"{name}: magnitude <= {MAX_ABS_VALUE:g}", ignore_na=False)])
        if name in text_columns:
            kind = "numeric" if item.kind == "numeric" else "boolean (0/1, true/false)"
            frame_checks.append(pa.Check(
                lambda f, n=name: ~(f[n].isna() & f[f"{n}__text"].notna()
                                    & (f[f"{n}__text"].str.strip() != "")),
                error=f"{name}: {kind} values"))
        frame_checks.append(pa.Check(lambda f, n=name: bool(f[n].notna().any()),
                                     error=f"{name}: at least one value"))
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False)


def _describe(cases: pd.DataFrame, raw: pd.DataFrame, items: list[CovariateItem],
              source: str) -> str:
    problems = []
    for check, group in cases.groupby("check", sort=False):
        name, _, rule = str(check).partition(": ")
        rows = [int(i) for i in pd.unique(group["index"].dropna())]
        if name in raw and rows:
            examples = [str(raw[name].iloc[i])[:40] for i in rows[:_MAX_EXAMPLES]]
            where = (f"{len(rows)} row(s), e.g. data rows "
                     f"{[r + 1 for r in rows[:_MAX_EXAMPLES]]} with {examples}")
        else:
            where = "the whole column"
        fix = ("use plain numbers ('.' decimal point) or leave the cell empty"
               if "values" in rule else "fix the values, or declare another type in the spec"
               if rule else "fix the values")
        problems.append(f"covariate column {name!r} fails {rule!r} in {where}: {fix}")
    return f"{source} fails the covariate schema: " + "; ".join(problems)


def encode_categories(frame: pd.DataFrame, items: list[CovariateItem]) -> dict[str, tuple]:
    """Replace each categorical column's text by integer codes; name -> labels (sorted)."""
    labels = {}
    for item in items:
        if item.kind != "categorical":
            continue
        column = frame[item.name]
        found = tuple(sorted(str(v) for v in column.dropna().unique()))
        codes = pd.Categorical(column, categories=list(found)).codes.astype("float64")
        codes[codes < 0] = np.nan
        frame[item.name] = codes
        labels[item.name] = found
    return labels


def align_to_grid(frame: pd.DataFrame, items: list[CovariateItem], grid: pd.DatetimeIndex,
                  labels: dict[str, tuple], *, max_gap: int, season: int,
                  imputation, source: str) -> tuple[Covariate, ...]:
    """Each covariate on ``grid`` (exact timestamps; several rows in one slot: their mean,
    the last one for categories), its gaps filled by ``imputation(name)``'s rule."""
    frame = frame.sort_values("timestamp", kind="stable")
    covariates = []
    for item in items:
        column = frame.set_index("timestamp")[item.name]
        how = "last" if item.kind == "categorical" else "mean"
        values = column.groupby(level=0).agg(how).reindex(grid).to_numpy(dtype=np.float64)
        filled = fill_covariate(values, item, imputation(item.name), max_gap=max_gap,
                                season=season, timestamps=grid, source=source)
        covariates.append(Covariate(item.name, item.kind, item.known_in_advance, filled,
                                    labels.get(item.name, ())))
    return tuple(covariates)


def fill_covariate(values: np.ndarray, item: CovariateItem, method: str, *, max_gap: int,
                   season: int, timestamps: pd.DatetimeIndex, source: str) -> np.ndarray:
    """Fill NaN gaps of one covariate by ``method`` (module docstring); 25 when it cannot."""
    observed = ~np.isnan(values)
    if observed.all():
        return values
    if method == "zero":
        return np.where(observed, values, 0.0)
    starts, lengths = gap_runs(observed)
    if not observed[0]:
        raise InputSchemaError(
            f"covariate {item.name!r} of {source} has no value from {timestamps[0]} to "
            f"{timestamps[int(lengths[0]) - 1]} (the start of the series): nothing to carry "
            "forward. Supply those values, trim the series, or set its imputation_policy "
            'to "zero" in the covariate spec')
    too_long = lengths > max_gap
    if too_long.any():
        i = int(np.flatnonzero(too_long)[0])
        raise InputSchemaError(
            f"covariate {item.name!r} of {source} misses {int(lengths[i])} steps from "
            f"{timestamps[int(starts[i])]} to {timestamps[int(starts[i] + lengths[i] - 1)]}, "
            f"more than --max-gap {max_gap}. Supply the values, or raise --max-gap",
            fix={"max_gap": int(lengths.max())})
    if method == "spline" and item.kind == "numeric":
        last = int(np.flatnonzero(observed)[-1])
        head, _ = fill_gaps(values[:last + 1], observed[:last + 1], season=season,
                            timestamps=timestamps[:last + 1])
        values = np.concatenate([head, values[last + 1:]])
    return pd.Series(values).ffill().to_numpy(dtype=np.float64)


def check_values_seen_in_training(covariates: tuple[Covariate, ...], train_end: int,
                                  timestamps: pd.DatetimeIndex,
                                  future: tuple[Covariate, ...] = ()) -> None:
    """25 when a category, or a boolean's 0 or 1, first appears after the train split: in
    the input, or in ``future`` (the known-in-advance values of the forward forecast).
    The network never saw that value, so it could only guess its effect (the documented
    treatment; README, Covariates): a seat-belt law that is 0 through the train split and
    1 from the test split on would add whatever its untrained weight happens to be."""
    problems = []
    ahead = {c.name: c for c in future}
    for cov in covariates:
        if cov.kind not in ("categorical", "boolean"):
            continue
        train = cov.values[:train_end]
        seen = set(np.unique(train[np.isfinite(train)]).tolist())
        later = cov.values[train_end:]
        unseen = [c for c in np.unique(later[np.isfinite(later)]).tolist() if c not in seen]
        if unseen:
            first = int(np.flatnonzero(np.isin(later, unseen))[0]) + train_end
            problems.append(f"{cov.name!r} takes {_shown(cov, unseen)} only after the train "
                            f"split (first at {timestamps[first]})")
        elif cov.name in ahead:
            values = ahead[cov.name].values
            unseen = [c for c in np.unique(values[np.isfinite(values)]).tolist()
                      if c not in seen]
            if unseen:
                problems.append(f"{cov.name!r} takes {_shown(cov, unseen)} in "
                                "--future-covariates and never in the train split")
    if problems:
        raise InputSchemaError(
            "covariate values never seen in training: " + "; ".join(problems)
            + ". Map a category to one the train split holds, leave out a flag that never "
            "changes in training, or lower --val-size / --test-size so the train split "
            "includes them")


def _shown(cov: Covariate, codes: list[float]) -> list[str]:
    if cov.kind == "boolean":
        return [str(bool(c)).lower() for c in codes][:10]
    return [cov.label_of(c) for c in codes][:10]


def calendar_covariates(timestamps: pd.DatetimeIndex, step: pd.Timedelta | None,
                        span: pd.DatetimeIndex | None = None) -> tuple[Covariate, ...]:
    """Hour of day, day of week and month of year as sine/cosine pairs (known in advance),
    each where the grid is finer than its cycle and ``span`` (what the model learns from,
    the run's train split; default ``timestamps``) covers two cycles: one cycle cannot
    show its effect apart from the trend, and a shorter span leaves the column (nearly)
    constant. A column that is constant over ``span`` all the same is left out: a grid of
    year starts has one month, one of half years two, whose sines are both 0."""
    span = timestamps if span is None else span
    covered = (span[-1] - span[0]) if len(span) > 1 else pd.Timedelta(0)
    seconds = step.total_seconds() if step is not None else None
    cycles = []
    if seconds is not None and seconds < 86_400 and covered >= pd.Timedelta(days=2):
        cycles.append(("hour", lambda t: (t.hour * 3600 + t.minute * 60
                                          + t.second).to_numpy() / 86_400))
    if seconds is not None and seconds < 7 * 86_400 and covered >= pd.Timedelta(days=14):
        cycles.append(("weekday", lambda t: t.dayofweek.to_numpy() / 7))
    monthly_or_finer = seconds is None or seconds < 45 * 86_400
    if monthly_or_finer and covered >= pd.Timedelta(days=2 * 365):
        cycles.append(("month", lambda t: (t.month.to_numpy() - 1) / 12))
    out = []
    for name, phase_of in cycles:
        angle = 2 * np.pi * np.asarray(phase_of(timestamps), dtype=np.float64)
        learnt = 2 * np.pi * np.asarray(phase_of(span), dtype=np.float64)
        for part, wave in (("sin", np.sin), ("cos", np.cos)):
            if np.ptp(wave(learnt)) > 1e-9:  # the scaler refuses a constant column (25)
                out.append(Covariate(f"{CALENDAR_PREFIX}{name}_{part}", "numeric", True,
                                     wave(angle)))
    return tuple(out)


def read_covariates(path, timestamp_col: str, items: list[CovariateItem],
                    grid: pd.DatetimeIndex, *, max_gap: int, season: int,
                    imputation, reserved: tuple[str, ...] = ()) -> tuple[Covariate, ...]:
    """The dynamic covariates of ``path`` (the input file) on ``grid``, validated, filled."""
    from pathlib import Path

    from contracts.covariate_spec import check_columns
    from spline_lstm.data.ingest import parse_timestamps
    from spline_lstm.data.readers import read_named_columns

    path = Path(path)
    names = [i.name for i in items]
    raw, available = read_named_columns(path, [timestamp_col, *names], "--input")
    check_columns(CovariateSpec(dynamic=tuple(items)), available, str(path), reserved)
    timestamps, _, _ = parse_timestamps(raw[timestamp_col], timestamp_col)
    keep = timestamps.notna().to_numpy()  # rows without a timestamp: ingest refused them
    raw, timestamps = raw[keep].reset_index(drop=True), timestamps[keep].reset_index(drop=True)
    frame = parse_covariate_frame(raw, timestamps, items, str(path))
    labels = encode_categories(frame, items)
    return align_to_grid(frame, items, grid, labels, max_gap=max_gap, season=season,
                         imputation=imputation, source=str(path))


def read_future_covariates(path, timestamp_col: str, covariates: tuple[Covariate, ...],
                           future: pd.DatetimeIndex) -> tuple[Covariate, ...]:
    """The known-in-advance covariates over ``future`` (the forecast's timestamps) from
    ``--future-covariates``: every timestamp and column present (25 naming the missing
    ones, never imputed), categories known from the input."""
    from pathlib import Path

    from spline_lstm.data.ingest import check_input_file, parse_timestamps
    from spline_lstm.data.readers import read_named_columns

    flag = "--future-covariates"
    path = check_input_file(Path(path), flag)
    wanted = [c for c in covariates if c.known_in_advance]
    items = [CovariateItem(c.name, c.kind, True, True) for c in wanted]
    raw, available = read_named_columns(path, [timestamp_col, *[c.name for c in wanted]], flag)
    missing = [n for n in [timestamp_col, *[c.name for c in wanted]] if n not in available]
    if missing:
        raise InputSchemaError(
            f"{flag} {path} lacks column(s) {missing}; it needs '{timestamp_col}' and every "
            f"covariate known in advance {[c.name for c in wanted]}; available: {available[:50]}")
    timestamps, _, _ = parse_timestamps(raw[timestamp_col], timestamp_col)
    frame = parse_covariate_frame(raw, timestamps, items, f"{flag} {path}")
    frame = frame.dropna(subset=["timestamp"]).drop_duplicates("timestamp", keep="last")
    frame = frame.set_index("timestamp").reindex(future)
    out = []
    for cov in wanted:
        column = frame[cov.name]
        absent = future[column.isna().to_numpy()]
        if len(absent):
            raise InputSchemaError(
                f"{flag} {path} has no {cov.name!r} value for {len(absent)} of the "
                f"{len(future)} forecast timestamps, e.g. {[str(t) for t in absent[:5]]}; "
                f"the forecast needs every step from {future[0]} to {future[-1]} "
                "(known-in-advance covariates are never imputed)")
        if cov.kind == "categorical":
            text = column.astype(str).to_numpy()
            unseen = sorted(set(text) - set(cov.labels))
            if unseen:
                raise InputSchemaError(
                    f"{flag} {path}: covariate {cov.name!r} takes {unseen[:10]}, never seen in "
                    f"the input (known: {list(cov.labels)[:20]}); use a known category")
            values = np.array([cov.labels.index(t) for t in text], dtype=np.float64)
        else:
            values = column.to_numpy(dtype=np.float64)
        out.append(cov.with_values(values))
    return tuple(out)
