"""Hostile inputs, as files and as command lines, and what every one of them must get.

Shared by the test suite (small sizes, ``tests/reliability/test_hostile_round_two.py``)
and ``benchmarks/fuzz.py`` (large sizes, many examples). The contract checked: a run of
the pipeline's pre-training stages on the input either works or raises a coded
``PipelineError`` (a SPEC §4 code); nothing else escapes, in bounded time.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from contracts.errors import CODED_ERRORS, PipelineError

CODES = {cls.exit_code for cls in CODED_ERRORS}


@dataclass(frozen=True)
class Outcome:
    code: int  # 0: the stages ran; else the SPEC §4 exit code
    message: str
    seconds: float


def run_stages(path: Path, flags: dict | None = None) -> Outcome:
    """Ingest, interpolate (with the run's feasibility checks) and preprocess ``path``."""
    from contracts.config import RunConfig
    from contracts.records import DataSummary
    from spline_lstm.data.ingest import read_series
    from spline_lstm.windows.preprocess import preprocess
    from tasks.interpolate import interpolate_spline
    from tasks.preprocess import settings_for
    from tasks.select import transform_options

    start = time.perf_counter()
    config = RunConfig(run_id="hostile", **{"power": "none", "seasonal_difference": 0,
                                            **(flags or {})})
    try:
        ingested = read_series(path, config.timestamp_col, config.target_col)
        filled = interpolate_spline.fn(ingested, config.freq, config.season, config.max_gap,
                                       config.fill_method, config)
        transform = transform_options(config, filled)[0]
        preprocess(filled, settings_for(config, filled).with_transform(transform),
                   run_id="hostile",
                   data_summary=DataSummary(source=str(path), n_rows=ingested.n_rows))
    except PipelineError as exc:
        return Outcome(exc.exit_code, exc.message, time.perf_counter() - start)
    return Outcome(0, "", time.perf_counter() - start)


# ------------------------------------------------------------------ named hostile files

def _stamps(n: int, freq: str = "h", start: str = "2024-01-01") -> list[str]:
    return list(pd.date_range(start, periods=n, freq=freq).strftime("%Y-%m-%dT%H:%M:%S"))


def _series(n: int = 240) -> np.ndarray:
    t = np.arange(n)
    return 20 + 3 * np.sin(2 * np.pi * t / 24) + 0.02 * t


def _write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def write_named_case(name: str, folder: Path, scale: int = 1) -> tuple[Path, dict]:
    """Write hostile file ``name`` (``scale`` multiplies its hostile part); (path, flags)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, values = folder / f"{name.replace(' ', '_')}.csv", _series()
    rows = [f"{t},{v}" for t, v in zip(_stamps(240), values)]
    if name == "huge header line":
        return _write_csv(path, "timestamp,target," + "x" * (5_000_000 * scale), rows), {}
    if name == "huge timestamp cell":
        rows[3] = "2" * (2_000_000 * scale) + ",1.0"
        return _write_csv(path, "timestamp,target", rows), {}
    if name == "many columns":
        extra = 20_000 * scale
        header = ",".join(["timestamp", "target", *(f"c{i}" for i in range(extra))])
        filler = ",".join(["1.5"] * extra)
        return _write_csv(path, header, [f"{r},{filler}" for r in rows]), {}
    if name == "colliding spaced names":
        return _write_csv(path, "timestamp,target, target ", [f"{r},1" for r in rows]), {}
    if name == "header starts with PAR1":
        return _write_csv(path, "PAR1stamp,target", rows), {"timestamp_col": "PAR1stamp"}
    if name in ("parquet year 3000", "parquet duplicate columns"):
        path = folder / f"{name.replace(' ', '_')}.parquet"
        start = dt.datetime(3000, 1, 1) if name.endswith("3000") else dt.datetime(2024, 1, 1)
        stamps = pa.array([start + dt.timedelta(hours=i) for i in range(240)], pa.timestamp("us"))
        names = ["timestamp", "target"] + (["target"] if "duplicate" in name else [])
        pq.write_table(pa.Table.from_arrays([stamps] + [pa.array(values)] * (len(names) - 1),
                                            names=names), path)
        return path, {}
    if name == "monthly from 1677":
        stamps = pd.date_range("1677-10-01", periods=240, freq="MS").strftime("%Y-%m-%d")
        return _write_csv(path, "timestamp,target", [f"{t},{v}" for t, v in
                                                     zip(stamps, values)]), {}
    if name == "daily ending in 2262":
        stamps = pd.date_range(end="2262-04-08", periods=240, freq="D").strftime("%Y-%m-%d")
        return _write_csv(path, "timestamp,target", [f"{t},{v}" for t, v in
                                                     zip(stamps, values)]), {"horizon": 7}
    if name == "constant test split":
        spike = np.zeros(240)
        spike[50] = 1.0
        return _write_csv(path, "timestamp,target", [f"{t},{v}" for t, v in
                                                     zip(_stamps(240), spike)]), {}
    if name == "horizon beyond the series":
        return _write_csv(path, "timestamp,target", rows), {"horizon": 500}
    if name in ("values near 1e-13", "values near 1e-300"):
        tiny = float(name.split()[-1])
        return _write_csv(path, "timestamp,target", [f"{t},{float(tiny * v / 20)!r}" for t, v in
                                                     zip(_stamps(240), values)]), {}
    raise KeyError(name)


# (exit code, text the message must contain); 0: the stages must work
NAMED_CASES = {
    "huge header line": (25, "no CSV header"),
    "huge timestamp cell": (25, "unparsable timestamp"),
    "many columns": (0, ""),
    "colliding spaced names": (25, "more than one column named ['target']"),
    "header starts with PAR1": (0, ""),
    "parquet year 3000": (25, "pandas cannot represent"),
    "parquet duplicate columns": (25, "more than one column named ['target']"),
    "monthly from 1677": (25, "dates pandas can represent"),
    "daily ending in 2262": (25, "pass the last date pandas can represent"),
    "constant test split": (26, "every observed value of the test split is 0"),
    "horizon beyond the series": (26, "too few windows"),
    "values near 1e-13": (0, ""),
    "values near 1e-300": (0, ""),
}


# ------------------------------------------------------------------ random files

_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["", " ", "NaN", "null", "1e308", "-1e-320", "0x1A", "１２", "1,5", '"',
                     "2024-02-30", "1677-09-21", "2262-04-12T00:00:00", "9999-12-31",
                     "2024-01-01T00:00:00+14:00", "0001-01-01"]),
    st.text(max_size=40),
    st.integers(0, 3000).map(lambda h: (pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h))
                             .isoformat()),
)


@st.composite
def csv_texts(draw, max_rows: int = 150, max_columns: int = 6, max_cell: int = 2000):
    """CSV-like text: a header (sometimes the right one) and rows of hostile cells."""
    n_columns = draw(st.integers(1, max_columns))
    named = draw(st.booleans())
    header = (["timestamp", "target"] + [f"c{i}" for i in range(n_columns)])[:max(n_columns, 2)] \
        if named else draw(st.lists(st.text(max_size=12), min_size=1, max_size=n_columns))
    rows = draw(st.lists(st.lists(_cells, min_size=len(header), max_size=len(header)),
                         max_size=max_rows))
    if rows and draw(st.booleans()):  # one oversized cell somewhere
        rows[draw(st.integers(0, len(rows) - 1))][0] = "9" * draw(st.integers(100, max_cell))
    sep = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    return "\n".join(sep.join(cells) for cells in [header, *rows])


@st.composite
def good_headed_series(draw, max_rows: int = 300):
    """A timestamp,target file of a plausible series with a few hostile values and
    timestamps near pandas' limits: most examples reach the deeper stages."""
    n = draw(st.integers(0, max_rows))
    start = draw(st.sampled_from(["2024-01-01", "2024-01-01", "1677-09-22", "2262-01-01",
                                  "1970-01-01"]))
    freq = draw(st.sampled_from(["h", "D", "MS", "min", "7D", "30s"]))
    try:
        stamps = list(pd.date_range(start, periods=n, freq=freq).astype(str))
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        stamps = [str(i) for i in range(n)]
    scale = draw(st.sampled_from([1.0, 1e-13, 1e-300, 1e90, -50.0]))
    values = [repr(float(scale * (10 + np.sin(i / 5)))) for i in range(n)]
    hostile = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
                        st.sampled_from(["0", "", "-0", "1e300", "x"]))
    for index, value in draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), hostile),
                                      max_size=3 if n else 0)):
        values[index] = value
    return "timestamp,target\n" + "\n".join(f"{t},{v}" for t, v in zip(stamps, values))


random_bytes = st.binary(max_size=4000)


# ------------------------------------------------------------------ command lines

def _flag_values(field) -> st.SearchStrategy:
    return st.one_of(st.integers(-10**12, 10**12).map(str), st.floats().map(repr),
                     st.sampled_from(["", " ", "0", "-1", "1e400", "nan", "auto", "none",
                                      "../x", "/sys/x", "30min", "0h", "1us", "W-SAT",
                                      "lstm", "gru", "standard", "mstl", "on", "off"]),
                     st.text(max_size=20))


@st.composite
def command_lines(draw) -> list[str]:
    """``--run-id`` plus a handful of RunConfig flags with values of any type."""
    from contracts.config import RunConfig, flag_name

    fields = [n for n in RunConfig.model_fields if n not in ("run_id", "artifacts_dir")]
    argv = ["--run-id", draw(st.sampled_from(["fuzz", "", "a/b", "x" * 200, "ok.run-1"]))]
    for name in draw(st.lists(st.sampled_from(fields), max_size=5, unique=True)):
        annotation = str(RunConfig.model_fields[name].annotation)
        if "bool" in annotation and "None" not in annotation:
            argv.append(flag_name(name))
        else:
            argv += [flag_name(name), *draw(st.lists(_flag_values(name), min_size=1,
                                                     max_size=3 if "list" in annotation else 1))]
    return argv


def run_command_line(argv: list[str], artifacts: Path) -> Outcome:
    """Everything the CLI does before Prefect starts: parse, validate, pre-flight."""
    from flows.cli import parse_config
    from flows.preflight import preflight

    start = time.perf_counter()
    try:
        preflight(parse_config([*argv, "--artifacts-dir", str(artifacts)]))
    except PipelineError as exc:
        return Outcome(exc.exit_code, exc.message, time.perf_counter() - start)
    return Outcome(0, "", time.perf_counter() - start)
