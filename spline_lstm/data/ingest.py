"""Read a raw series (CSV, Parquet or synthetic) into a validated RawSeries frame.

Every problem in the raw data is collected (pandera ``lazy=True``) and reported at once
as INPUT_SCHEMA_ERROR. The many-series flow reads its long-format input in
``data/many_series.py``; both read through ``data/readers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from contracts.errors import InputFileNotFoundError, InputSchemaError
from contracts.schemas import (
    MAX_ABS_VALUE,
    Col,
    ParsedRawSeries,
    RawSeries,
    validate_frame,
)
from spline_lstm.data.readers import clean_name, read_columns, require_columns

_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"
_MAX_EXAMPLES = 5
MAX_TIMESTAMP_CHARS = 64  # "2024-01-01T00:30:00.123456789+05:30" has 35


@dataclass(frozen=True)
class IngestResult:
    """A validated raw series: ``frame`` has columns timestamp (naive) and target."""

    frame: pd.DataFrame
    source: str
    timezone: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def n_missing(self) -> int:
        return int(self.frame[Col.TARGET.value].isna().sum())


def read_series(path: str | Path, timestamp_col: str = "timestamp",
                target_col: str = "target") -> IngestResult:
    """Read ``path`` (CSV or Parquet), validate it and return it sorted by time."""
    path = check_input_file(Path(path))
    raw = read_columns(path, timestamp_col, target_col)
    return parse_raw_frame(raw, timestamp_col, target_col, source=str(path))


def check_input_file(path: Path, flag: str = "--input") -> Path:
    """``path`` if it is a regular file this process can read, else 21 saying why."""
    if not path.exists():
        raise InputFileNotFoundError(
            f"input file not found: {path} (resolved from {Path.cwd()}); check {flag}")
    if not path.is_file():
        raise InputFileNotFoundError(
            f"input path {path} is a {'directory' if path.is_dir() else 'special file'}, "
            f"expected a CSV or Parquet file; pass the file itself with {flag}")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputFileNotFoundError(
            f"input file {path} cannot be read ({exc.strerror or exc}); give this user read "
            f"permission, or copy the file somewhere readable and pass that with {flag}") \
            from None
    return path


def parse_raw_frame(raw: pd.DataFrame, timestamp_col: str, target_col: str,
                    source: str = "frame") -> IngestResult:
    """Parse and validate a frame holding the two input columns (pure; no I/O)."""
    raw = raw.rename(columns=clean_name).reset_index(drop=True)
    require_columns(list(raw.columns), timestamp_col, target_col, source)
    if raw.empty:
        raise InputSchemaError(
            f"{source} has a header but no data rows; expected one row per observation "
            f"with columns '{timestamp_col}' and '{target_col}'")
    timestamps, timezone, ts_notes = parse_timestamps(raw[timestamp_col], timestamp_col)
    target = pd.to_numeric(raw[target_col], errors="coerce").astype("float64")
    frame = pd.DataFrame({
        Col.TIMESTAMP.value: timestamps.to_numpy(dtype="datetime64[ns]"),
        Col.TARGET.value: target.to_numpy(),
    }, copy=False)
    if raw[target_col].dtype == object:  # text cells: keep them to name unparsable ones
        frame[Col.TARGET_TEXT.value] = raw[target_col].astype("string").array
    _validate(frame, raw, timestamp_col, target_col, source)
    notes = list(ts_notes)
    if not frame[Col.TIMESTAMP.value].is_monotonic_increasing:
        frame = frame.sort_values(Col.TIMESTAMP.value, kind="stable")
        notes.append("input rows were not in time order; they were sorted by timestamp")
    frame = frame.drop(columns=[Col.TARGET_TEXT.value], errors="ignore").reset_index(drop=True)
    return IngestResult(frame=frame, source=source, timezone=timezone, notes=tuple(notes))


def parse_timestamps(column: pd.Series, name: str) -> tuple[pd.Series, str | None, list[str]]:
    """Parse to naive datetime64[ns]; aware input is converted to UTC."""
    try:
        return _parse_timestamp_column(column, name)
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        raise InputSchemaError(
            f"column '{name}' holds timestamps pandas cannot represent ({exc}); timestamps "
            f"must lie between {pd.Timestamp.min:%Y-%m-%d} and {pd.Timestamp.max:%Y-%m-%d}"
        ) from None


def _parse_timestamp_column(column: pd.Series, name: str
                            ) -> tuple[pd.Series, str | None, list[str]]:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").dt.tz_localize(None), "UTC", \
            [f"timestamps were in time zone {column.dt.tz}; converted to UTC"]
    if pd.api.types.is_datetime64_dtype(column):
        return column.astype("datetime64[ns]"), None, []
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise InputSchemaError(
            f"timestamp column '{name}' holds numbers (e.g. {column.iloc[0]!r}); expected date/"
            "time text such as 2024-01-01 or 2024-01-01T00:30:00+00:00")
    text = column.astype("string").str.strip()
    # A cell no timestamp needs is not parsed at all: format="mixed" costs seconds per MB.
    text = text.where(text.str.len() <= MAX_TIMESTAMP_CHARS)
    aware = text.str.contains(_TZ_SUFFIX, regex=True, na=False)
    utc = bool(aware.any())
    parsed = pd.to_datetime(text, errors="coerce", utc=utc, format="ISO8601")
    retry = parsed.isna() & text.notna() & (text != "")
    if retry.any():  # non-ISO layouts (e.g. 03/29/1958): slower, only for those rows
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=utc, format="mixed")
    notes = []
    if utc:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        mixed = "mixed time zones" if not aware.all() or text[aware].str.extract(
            "(" + _TZ_SUFFIX + ")")[0].nunique() > 1 else "an explicit time zone"
        notes.append(f"timestamps carried {mixed}; all converted to UTC")
    return parsed, ("UTC" if utc else None), notes


def _validate(frame: pd.DataFrame, raw: pd.DataFrame, timestamp_col: str, target_col: str,
              source: str) -> None:
    schema = ParsedRawSeries if Col.TARGET_TEXT.value in frame else RawSeries
    validate_frame(schema, frame, source, describe=lambda cases: _describe_schema_errors(
        cases, raw, timestamp_col, target_col, source))


def _describe_schema_errors(cases: pd.DataFrame, raw: pd.DataFrame, timestamp_col: str,
                            target_col: str, source: str) -> str:
    """One sentence per failed check, with row numbers and values as they were read."""
    names = {Col.TIMESTAMP.value: timestamp_col, Col.TARGET.value: target_col,
             Col.TARGET_TEXT.value: target_col}
    fixes = {
        "not_nullable": "give every row a parsable date/time (ISO 8601 works)",
        "duplicate timestamp": "remove or aggregate duplicate timestamps",
        "finite (no +/-inf)": "replace inf values by real measurements or leave them empty",
        "target is numeric": "use plain numbers ('.' decimal point) or leave the cell empty",
        "at least one observed target value": "the target column is empty: check --target-col",
        f"magnitude <= {MAX_ABS_VALUE:g}": "rescale the series (e.g. divide by a power of 10)",
    }
    # dataframe-level checks report every column; name the one they are about
    check_columns = {"target is numeric": target_col,
                     "at least one observed target value": target_col}
    problems = []
    for check, group in cases.groupby("check", sort=False):
        column = check_columns.get(str(check)) or names.get(str(group["column"].iloc[0]),
                                                            str(group["column"].iloc[0]))
        rows = [int(i) for i in pd.unique(group["index"].dropna())]
        examples = [f"{_short(raw[timestamp_col].iloc[i])}|{_short(raw[target_col].iloc[i])}"
                    for i in rows[:_MAX_EXAMPLES]]
        where = f"{len(rows)} row(s), e.g. data rows {[r + 1 for r in rows[:_MAX_EXAMPLES]]} " \
                f"with {examples}" if rows else "the whole column"
        label = {"not_nullable": "unparsable timestamp"}.get(str(check), str(check))
        fix = fixes.get(str(check), "fix the values")
        problems.append(f"column '{column}' fails '{label}' in {where}: {fix}")
    return f"{source} fails the raw-series schema: " + "; ".join(problems)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _short(cell, limit: int = 60) -> str:
    text = str(cell)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
