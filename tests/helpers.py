"""Helpers for tests: tiny seeded series, the CLI error line, shared flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

# Small real series copied from ../shared/data so tests never depend on that folder.
TEST_DATA = Path(__file__).resolve().parent / "data"
# The smallest configuration that still exercises every stage (seconds per run).
TINY_FLAGS = ["--epochs", "2", "--patience", "2", "--hidden-units", "8", "--lookback", "12",
              "--batch-size", "64", "--synthetic-points", "360"]
# ...and with the transform fixed and statsforecast skipped, for tests about other things.
FAST_FLAGS = [*TINY_FLAGS, "--power", "none", "--seasonal-difference", "0",
              "--baselines", "simple"]


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
