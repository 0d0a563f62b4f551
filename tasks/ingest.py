"""Stage 1: ingest a CSV/Parquet file (or a seeded synthetic series)."""

from __future__ import annotations

import errno

from prefect import task
from prefect.cache_policies import NO_CACHE

from spline_lstm.data.ingest import IngestResult, read_series
from spline_lstm.data.synthetic import synthetic_series
from tasks.logs import stage_logger

# Network filesystems and busy disks fail transiently with these; a missing file does not.
_TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.ETIMEDOUT, errno.ESTALE, errno.EBUSY}


def _transient_io_failure(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError as exc:
        return exc.errno in _TRANSIENT_ERRNOS
    except Exception:  # noqa: BLE001 - every other failure is final
        return False
    return False


@task(name="ingest", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=2, retry_condition_fn=_transient_io_failure)
def ingest(input: str | None, timestamp_col: str, target_col: str, synthetic_points: int,
           seed: int) -> IngestResult:
    """Read and validate the raw series; without ``input``, synthesise one in memory."""
    logger = stage_logger()
    result = (read_series(input, timestamp_col, target_col) if input
              else synthetic_series(synthetic_points, seed))
    logger.info("ingested %s: %d rows, %d empty target values", result.source, result.n_rows,
                result.n_missing)
    for note in result.notes:
        logger.warning("ingest: %s", note)
    return result
