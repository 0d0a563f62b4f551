"""Read the two input columns of a CSV or Parquet file, and only those, within bounds.

Hostile files end in seconds with a clear INPUT_SCHEMA_ERROR instead of a hang or an
out-of-memory: the header line is read with a size limit, only the timestamp and target
columns are loaded (a file with 100,000 columns costs two), duplicate or colliding
column names are refused, and Parquet timestamps outside pandas' range are named.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from contracts.errors import InputSchemaError

PARQUET_SUFFIXES = {".parquet", ".pq"}
PARQUET_MAGIC = b"PAR1"
MAX_HEADER_BYTES = 4 * 2**20  # 100,000 column names fit; a 50 MB first line is no header


def is_parquet(path: Path) -> bool:
    """By suffix, else by the magic bytes a Parquet file starts *and* ends with (a CSV whose
    header happens to start with "PAR1" is still a CSV)."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    with path.open("rb") as handle:
        if handle.read(4) != PARQUET_MAGIC:
            return False
        handle.seek(0, io.SEEK_END)
        if handle.tell() < 12:
            return False
        handle.seek(-4, io.SEEK_END)
        return handle.read(4) == PARQUET_MAGIC


def read_columns(path: Path, timestamp_col: str, target_col: str) -> pd.DataFrame:
    """The two columns of ``path`` as read (text or typed), nothing else."""
    if is_parquet(path):
        return _read_parquet(path, timestamp_col, target_col)
    return _read_csv(path, timestamp_col, target_col)


def require_columns(names: list[str], timestamp_col: str, target_col: str, source: str) -> None:
    """Raise 25 for a missing or duplicated input column, listing what is there."""
    counts = Counter(names)
    duplicated = sorted(c for c in (timestamp_col, target_col) if counts[c] > 1)
    if duplicated:
        raise InputSchemaError(
            f"{source} has more than one column named {duplicated} (names compared without "
            f"surrounding spaces); available columns: {names[:50]}. Rename the extra column(s)")
    missing = [c for c in (timestamp_col, target_col) if c not in names]
    if not missing:
        return
    hint = ""
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        hint = (" The header looks like one column: the file seems to use a delimiter "
                "other than ','; save it as comma-separated.")
    raise InputSchemaError(
        f"{source} lacks column(s) {missing}; available columns: {names[:50]}"
        f"{' ...' if len(names) > 50 else ''}. Name them with --timestamp-col / "
        f"--target-col.{hint}", fix=_guess_columns(names, timestamp_col, target_col))


def _guess_columns(names: list[str], timestamp_col: str, target_col: str) -> dict[str, str]:
    """The flag values a two-column file implies: the one other column is the missing one."""
    if len(names) != 2:
        return {}
    if timestamp_col in names:
        return {"target_col": next(n for n in names if n != timestamp_col)}
    if target_col in names:
        return {"timestamp_col": next(n for n in names if n != target_col)}
    return {}


def clean_name(name) -> str:
    return str(name).lstrip("\ufeff").strip()


def _csv_header(path: Path, timestamp_col: str, target_col: str) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline(MAX_HEADER_BYTES + 1)
    if not first.strip():
        raise InputSchemaError(
            f"{path} is empty; expected a header line '{timestamp_col},{target_col}' "
            "followed by one row per observation")
    if len(first) > MAX_HEADER_BYTES:
        raise InputSchemaError(
            f"{path}: the first line is longer than {MAX_HEADER_BYTES // 2**20} MiB, so it is "
            f"no CSV header; expected a header line such as '{timestamp_col},{target_col}'")
    try:
        text = first.decode("utf-8-sig")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", first, text.index("\x00"), text.index("\x00") + 1,
                                     "NUL byte: binary data")
    except UnicodeDecodeError as exc:
        raise InputSchemaError(
            f"{path} could not be read as CSV (its first line is not UTF-8 text: {exc.reason} "
            f"at byte {exc.start}); expected UTF-8 text with a header line "
            f"'{timestamp_col},{target_col}'") from None
    try:
        return next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error as exc:
        raise InputSchemaError(
            f"{path} could not be read as CSV (its header line: {exc}); expected a header "
            f"line such as '{timestamp_col},{target_col}'") from None


def _read_csv(path: Path, timestamp_col: str, target_col: str) -> pd.DataFrame:
    raw_names = _csv_header(path, timestamp_col, target_col)
    names = [clean_name(n) for n in raw_names]
    require_columns(names, timestamp_col, target_col, str(path))
    wanted = [raw_names[names.index(timestamp_col)], raw_names[names.index(target_col)]]
    try:  # pyarrow first (fast); it rejects some valid-but-odd files: then the C engine
        frame = pd.read_csv(path, engine="pyarrow", dtype_backend="numpy_nullable",
                            usecols=wanted).pipe(_numpy_dtypes)
    except Exception:  # noqa: BLE001
        try:
            frame = pd.read_csv(path, engine="c", usecols=wanted, dtype=str,
                                encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=[timestamp_col, target_col])
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
            raise InputSchemaError(
                f"{path} could not be read as CSV ({type(exc).__name__}: {_first_line(exc)}); "
                f"expected UTF-8 text with a header line '{timestamp_col},{target_col}'"
            ) from None
    frame.columns = [clean_name(c) for c in frame.columns]
    return frame


def _read_parquet(path: Path, timestamp_col: str, target_col: str) -> pd.DataFrame:
    import pyarrow
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means "not a Parquet file"
        raise InputSchemaError(
            f"{path} could not be read as Parquet ({_first_line(exc)}); "
            "pass a valid Parquet file or a CSV") from None
    names = [clean_name(n) for n in schema.names]
    require_columns(names, timestamp_col, target_col, str(path))
    # Column-wise read: only the two columns the pipeline uses are loaded.
    table = pq.read_table(path, columns=[schema.names[names.index(timestamp_col)],
                                         schema.names[names.index(target_col)]])
    try:
        # self_destruct frees each Arrow column once converted: one copy in memory, not two.
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
    except (pyarrow.ArrowInvalid, pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        raise InputSchemaError(
            f"{path}: column '{timestamp_col}' holds timestamps pandas cannot represent "
            f"({_first_line(exc)}); timestamps must lie between {pd.Timestamp.min:%Y-%m-%d} "
            f"and {pd.Timestamp.max:%Y-%m-%d}") from None
    del table
    pyarrow.default_memory_pool().release_unused()
    frame.columns = [clean_name(c) for c in frame.columns]
    return _numpy_dtypes(frame)


def _numpy_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn nullable extension dtypes into plain numpy ones (NaN for missing numbers)."""
    out = {}
    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column):
            out[name] = column.astype("float64", copy=False)
        elif pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
            out[name] = column.astype(object).where(column.notna(), None)
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index, copy=False)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def read_named_columns(path: Path, names: list[str], flag: str) -> tuple[pd.DataFrame, list[str]]:
    """(the named columns of ``path`` as read, every column name of the file) for covariate
    and future-covariate files; a missing name is the caller's to report (25)."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure: not a Parquet file
            raise InputSchemaError(f"{flag} {path} could not be read as Parquet "
                                   f"({_first_line(exc)})") from None
        available = [clean_name(n) for n in schema.names]
        wanted = [schema.names[available.index(n)] for n in names if n in available]
        frame = _numpy_dtypes(pq.read_table(path, columns=wanted).to_pandas())
    else:
        raw_names = _csv_header(path, names[0] if names else "timestamp", "...")
        available = [clean_name(n) for n in raw_names]
        wanted = [raw_names[available.index(n)] for n in names if n in available]
        try:
            frame = pd.read_csv(path, engine="c", usecols=wanted, dtype=str,
                                encoding="utf-8-sig", keep_default_na=True)
        except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
            raise InputSchemaError(
                f"{flag} {path} could not be read as CSV ({type(exc).__name__}: "
                f"{_first_line(exc)}); expected UTF-8 text with a header line") from None
    frame.columns = [clean_name(c) for c in frame.columns]
    return frame, available
