"""Many series: one input file per series and the child run_ids (pure + file I/O).

A long-format file (one ``series_id`` column) is split into one Parquet file per series,
values kept as they were read, so each child run validates its own series and a bad
series fails alone. A folder is taken as one series per CSV/Parquet file. Covariate
columns named by a covariate spec travel with their series, and a long-format file of
future covariate values is split the same way (one file per series, for its forecast).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from contracts.errors import (
    InputFileNotFoundError,
    InputSchemaError,
    InvalidArgumentError,
    PipelineError,
)
from contracts.run_id import validate_run_id
from spline_lstm.data.readers import is_parquet
from spline_lstm.store.atomic import atomic_write

SERIES_SUFFIXES = (".csv", ".parquet", ".pq")
CHILD_SEPARATOR = "--"
_MAX_RUN_ID = 128
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SeriesInput:
    """One series of a many-series run."""

    series_id: str  # as written in the data (or the file name's stem)
    run_id: str  # {parent}--{series id made safe for paths}
    path: Path  # the file the child run ingests
    rows: int | None = None
    future: Path | None = None  # its rows of the future-covariates file, if any


def child_run_ids(parent: str, series_ids: list[str]) -> list[str]:
    """``{parent}--{id}`` per series: ids made path-safe, shortened and de-duplicated.

    Case-insensitive unique, so the runs do not collide on case-insensitive disks.
    """
    validate_run_id(parent)
    room = _MAX_RUN_ID - len(parent) - len(CHILD_SEPARATOR)
    if room < 12:
        raise InvalidArgumentError(
            f"run_id {parent!r} is too long for a many-series run: each series adds "
            f"'{CHILD_SEPARATOR}<series id>' and the whole must stay within {_MAX_RUN_ID} "
            "characters; use a parent run_id of at most 114 characters")
    taken: set[str] = set()
    out = []
    for series_id in series_ids:
        safe = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", series_id)).strip("._-") or "series"
        if len(safe) > room:  # shortened: a digest of the full id keeps it recognisable
            safe = f"{safe[:room - 9]}-{hashlib.sha1(series_id.encode()).hexdigest()[:8]}"
        candidate, n = safe, 2
        while candidate.lower() in taken:
            suffix = f"-{n}"
            candidate, n = safe[:room - len(suffix)] + suffix, n + 1
        taken.add(candidate.lower())
        out.append(validate_run_id(f"{parent}{CHILD_SEPARATOR}{candidate}"))
    return out


def split_long_file(path: Path, series_col: str, timestamp_col: str, target_col: str,
                    out_dir: Path, parent: str, covariates: list[str] | None = None,
                    optional: list[str] | None = None) -> list[SeriesInput]:
    """Write one Parquet file per series of a long-format CSV/Parquet file under ``out_dir``.

    covariates: columns each series' file also holds (25 naming those the file lacks);
    optional: columns it holds only where the file has them (a spec's non-required ones).
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = [timestamp_col, target_col, *(covariates or [])]
    table = _read_long_table(Path(path), series_col, columns, optional=optional or [])
    ids = table.column(series_col)
    if ids.null_count:
        rows = np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[:5] + 1
        raise InputSchemaError(
            f"{path}: {ids.null_count} row(s) have no value in '{series_col}' (data rows "
            f"{rows.tolist()}); give every row its series id or remove those rows")
    if table.num_rows == 0:
        raise InputSchemaError(f"{path} has a header but no data rows; expected columns "
                               f"'{series_col}', '{timestamp_col}', '{target_col}'")
    series_ids = [str(s) for s in pc.unique(ids).to_pylist()]  # in order of appearance
    run_ids = child_run_ids(parent, series_ids)
    values = table.select([c for c in table.column_names if c != series_col])
    inputs = []
    for series_id, run_id in zip(series_ids, run_ids):
        rows = values.filter(pc.equal(ids, series_id))
        target = Path(out_dir) / f"{run_id.removeprefix(parent + CHILD_SEPARATOR)}.parquet"
        with atomic_write(target) as handle:
            pq.write_table(rows, handle)
        inputs.append(SeriesInput(series_id, run_id, target, rows.num_rows))
    return inputs


def folder_series(folder: Path, parent: str) -> list[SeriesInput]:
    """One series per CSV/Parquet file of ``folder`` (not recursive), named by file stem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileNotFoundError(
            f"series folder not found: {folder} (resolved from {Path.cwd()}); check --input-dir")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in SERIES_SUFFIXES)
    if not files:
        raise InputFileNotFoundError(
            f"{folder} holds no {'/'.join(SERIES_SUFFIXES)} files; put one file per series "
            "there, or pass a long-format file with --input and --series-col")
    run_ids = child_run_ids(parent, [p.stem for p in files])
    return [SeriesInput(p.stem, run_id, p) for p, run_id in zip(files, run_ids)]


def split_future_file(path: Path, series_col: str, timestamp_col: str, columns: list[str],
                      inputs: list[SeriesInput], out_dir: Path) -> list[SeriesInput]:
    """``inputs`` with ``future`` set: each series' rows of a long-format future-covariates
    file (series id, timestamp, the known-in-advance ``columns``), one Parquet file each.
    A series without rows there gets none; its own run then says what it lacks (25)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = _read_long_table(Path(path), series_col, [timestamp_col, *columns],
                             flag="--future-covariates")
    ids = table.column(series_col)
    values = table.select([timestamp_col, *columns])
    present = {str(s) for s in pc.unique(ids).to_pylist() if s is not None}
    out = []
    for item in inputs:
        if item.series_id not in present:
            out.append(item)
            continue
        # the child's run_id: path-safe and unique (a series id may itself hold "--")
        target = Path(out_dir) / f"{item.run_id}.future.parquet"
        with atomic_write(target) as handle:
            pq.write_table(values.filter(pc.equal(ids, item.series_id)), handle)
        out.append(replace(item, future=target))
    return out


def _read_long_table(path: Path, series_col: str, columns: list[str], *,
                     optional: list[str] = (), flag: str = "--input"):
    """The series id and ``columns`` (and those of ``optional`` the file has) as a pyarrow
    Table; ids and (for CSV) values kept as text."""
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileNotFoundError(
            f"{flag.removeprefix('--').replace('-', ' ')} file not found: {path} (resolved "
            f"from {Path.cwd()}); check {flag}")
    wanted = [series_col, *columns]
    parquet = is_parquet(path)
    try:
        if parquet:
            names = pq.read_schema(path).names
            _require(names, wanted, path, flag)
            wanted += [c for c in optional if c in names and c not in wanted]
            table = pq.read_table(path, columns=wanted)
            return table.set_column(0, series_col, table.column(series_col).cast(pa.string()))
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8-sig", errors="replace").strip()
        names = [c.strip() for c in header.split(",")]
        _require(names, wanted, path, flag)
        wanted += [c for c in optional if c in names and c not in wanted]
        convert = pv.ConvertOptions(include_columns=wanted,
                                    column_types={c: pa.string() for c in wanted},
                                    strings_can_be_null=True)
        return pv.read_csv(path, convert_options=convert)
    except PipelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a readable file"
        raise InputSchemaError(
            f"{flag} {path} could not be read as {'Parquet' if parquet else 'CSV'} "
            f"({type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}); expected a "
            f"long-format table with columns {wanted}") from exc


def _require(names: list[str], wanted: list[str], path: Path, flag: str) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        raise InputSchemaError(
            f"{flag} {path} lacks column(s) {missing}; available columns: {names}. Name the "
            "series, timestamp and target columns with --series-col / --timestamp-col / "
            "--target-col; covariate columns are the names of --covariate-spec")
