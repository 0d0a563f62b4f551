"""Artifact files: atomic writes of json/text/npz/csv/bytes, and their readers.

Every writer goes through ``atomic_write``: a temporary file in the destination's
directory, fsync, then ``os.replace``. A crash leaves either the old file or the new
one, never half of one.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from contracts.errors import (
    ArtifactContractError,
    InputFileNotFoundError,
    RunnerExecError,
)


@contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator[io.IOBase]:
    """Yield a handle on a temporary file that replaces ``path`` only on success."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _write_error(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_error(path: Path, exc: OSError) -> RunnerExecError:
    return RunnerExecError(
        f"cannot write {path}: {exc.strerror or exc}; check that --artifacts-dir is writable "
        "and has free space")


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` as JSON; NaN/inf (which JSON cannot hold) are written as null."""
    text = json.dumps(json_safe(payload), indent=2, default=json_default, allow_nan=False)
    with atomic_write(path, "w") as handle:
        handle.write(text + "\n")


def write_text(path: Path, text: str) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(text)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **arrays)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_write(path, "w") as handle:
        frame.to_csv(handle, index=False)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def json_safe(value):
    """The one NaN rule: non-finite floats become null (JSON has no NaN), recursively."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_default(value):
    """How numpy scalars and arrays, timestamps and paths are written to JSON."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_json(path: Path, what: str = "artifact") -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(f"{what} not found: {path}")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactContractError(f"{what} {path} is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ArtifactContractError(f"{what} {path} must hold a JSON object")
    return payload


def read_npz(path: Path, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Load every array of an npz file eagerly (pickled objects refused).

    max_bytes: refuse (22), before decompressing anything, an archive whose members
    declare more bytes than that (a zip bomb declares gigabytes in kilobytes).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"processed artifact not found: {path}; check --processed-npz or re-run preprocessing")
    try:
        if max_bytes is not None:
            with zipfile.ZipFile(path) as archive:
                declared = sum(info.file_size for info in archive.infolist())
            if declared > max_bytes:
                raise ArtifactContractError(
                    f"{path} declares {declared:,} bytes of arrays, more than the {max_bytes:,} "
                    "its meta.json allows; it was refused unread. Re-run preprocessing")
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except ArtifactContractError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad zip, a bad header, a lying shape: refuse
        raise ArtifactContractError(
            f"{path} is not a readable npz archive ({type(exc).__name__}: "
            f"{str(exc)[:200]}); re-run preprocessing") from None
