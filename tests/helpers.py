"""Helpers for tests: tiny seeded series, the CLI error line, shared flags."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# Small real series copied from ../shared/data so tests never depend on that folder.
TEST_DATA = Path(__file__).resolve().parent / "data"
# The smallest configuration that still exercises every stage (seconds per run). Stage tags
# cost a concurrency-lease round trip per task run (seconds on the test server's SQLite):
# in-process flow tests run without them, the server tests keep them and check them.
# MLflow tracking (seconds per run) is tested by the shared smoke run and the registry tests.
TINY_FLAGS = ["--epochs", "2", "--patience", "2", "--hidden-units", "8", "--lookback", "12",
              "--batch-size", "64", "--synthetic-points", "360", "--stage-tags", "off",
              "--tracking", "off"]
# ...and with the transform fixed, statsforecast skipped and the network as the forecast
# (no backtests to choose on), for tests about other things.
FAST_FLAGS = [*TINY_FLAGS, "--power", "none", "--seasonal-difference", "0",
              "--baselines", "simple", "--candidates", "lstm"]


def make_series(n: int = 240, freq: str = "h", seed: int = 0, season: int = 24,
                start: str = "2024-01-01") -> pd.DataFrame:
    """A seeded seasonal series with columns timestamp (text) and target."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 20 + 0.02 * t + 3 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.3, n)
    stamps = pd.date_range(start, periods=n, freq=freq)
    return pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S"), "target": values})


def read_error_line(stderr: str) -> dict:
    """The SPEC §4 JSON line: the last stderr line that parses as JSON with 'ok'."""
    for line in reversed(stderr.strip().splitlines()):
        try:
            payload = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(payload, dict) and "ok" in payload:
            return payload
    raise AssertionError(f"no JSON error line on stderr:\n{stderr[-2000:]}")


def make_filled(values, freq: str = "h", seasons: list[int] | None = None):
    """A gap-free FilledSeries of ``values`` (no interpolation stage needed)."""
    from contracts.records import GridSummary
    from spline_lstm.data.interpolate import FilledSeries

    values = np.asarray(values, dtype=np.float64)
    stamps = pd.date_range("2000-01-01", periods=len(values), freq=freq)
    grid = GridSummary(freq=stamps.freqstr, seasons=list(seasons or [1]), n_grid=len(values),
                       start=str(stamps[0]), end=str(stamps[-1]), max_gap=12)
    return FilledSeries(timestamps=stamps, values=values, observed=np.ones(len(values), bool),
                        grid=grid)


def make_processed(values, *, horizon: int, seasons: list[int], lookback: int = 24,
                   freq: str = "h", transform=None, covariates=None, val_size: float = 0.1,
                   test_size: float = 0.2, run_id: str = "t"):
    """ProcessedData of ``values`` with the given settings."""
    from contracts.records import DataSummary
    from spline_lstm.transforms.chain import TransformSpec
    from spline_lstm.windows.preprocess import PreprocessSettings, preprocess

    settings = PreprocessSettings(lookback=lookback, horizon=horizon, seasons=seasons,
                                  val_size=val_size, test_size=test_size,
                                  transform=transform or TransformSpec())
    return preprocess(make_filled(values, freq, seasons), settings, run_id=run_id,
                      data_summary=DataSummary(source="test", n_rows=len(values)),
                      covariates=covariates)


def leftovers(artifacts: Path, run_id: str) -> list[str]:
    """Files of ``run_id`` under ``artifacts`` (its failure log aside)."""
    if not artifacts.exists():
        return []
    return [str(p.relative_to(artifacts)) for p in artifacts.rglob(f"*{run_id}*")
            if p.relative_to(artifacts).parts[0] != "logs"]


def assert_coded_failure(main, argv: list[str], capfd, exit_code: int, fragment: str,
                         artifacts: Path, run_id: str) -> None:
    """``main(argv)`` fails with ``exit_code``: one JSON line whose message holds
    ``fragment``, no traceback on the console, nothing of ``run_id`` left behind."""
    code = main(argv)
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith('{"ok": false')]
    assert code == exit_code, err[-2000:]
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["exit_code"] == exit_code and fragment in payload["error"]["message"]
    assert "Traceback" not in err and "Traceback" not in out
    assert leftovers(artifacts, run_id) == []


def read_until(read, done, timeout: float = 30.0, interval: float = 0.25):
    """``read()`` again until ``done(result)`` or ``timeout`` seconds pass; the last result.

    Prefect's server records task runs from the events their clients send, so a task run
    appears in the API shortly after its flow returns: a moment later on a busy machine
    (a flush that met a locked SQLite database is retried).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = read()
        if done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


@dataclass(frozen=True)
class SleepJob:
    """A side-process job (spline_lstm.job_process) that sleeps, then says where it ran."""

    seconds: float

    def run(self) -> int:
        time.sleep(self.seconds)
        return os.getpid()
