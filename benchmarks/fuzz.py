"""Fuzz benchmark: many hostile files and command lines, at sizes the suite cannot afford.

    .venv/bin/python benchmarks/fuzz.py [--examples 400] [--scale 5] [--out FILE]

Runs the strategies of ``benchmarks/hostile_inputs.py`` (random CSV shapes with huge
cells, extreme values and timestamps, random bytes, random command lines) and every named
hostile file at ``--scale`` times its test size, each in the pipeline's pre-training
stages. Prints, per family: examples, outcomes by exit code, violations (an exception
that is not a SPEC §4 code, or a time over the bound) and the slowest example; then the
peak memory of the process. The contract: 0 violations.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

from hypothesis import HealthCheck, given, settings  # noqa: E402

import benchmarks.hostile_inputs as hostile  # noqa: E402

TIME_BOUND_S = 30.0


class Tally:
    def __init__(self) -> None:
        self.codes: Counter = Counter()
        self.violations: list[str] = []
        self.slowest = 0.0

    def record(self, call) -> None:
        try:
            outcome = call()
        except Exception as exc:  # noqa: BLE001 - exactly what this benchmark looks for
            self.violations.append("".join(traceback.format_exception_only(exc)).strip()[:300])
            return
        self.codes[outcome.code] += 1
        self.slowest = max(self.slowest, outcome.seconds)
        if outcome.code not in hostile.CODES | {0} or outcome.seconds > TIME_BOUND_S:
            self.violations.append(f"code {outcome.code} in {outcome.seconds:.1f} s")


def fuzz_family(strategy, run, examples: int) -> Tally:
    tally = Tally()

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def check(value) -> None:
        tally.record(lambda: run(value))

    check()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400, help="examples per family")
    parser.add_argument("--scale", type=int, default=5, help="size of the named files, "
                        "in multiples of the suite's")
    parser.add_argument("--out", type=Path, help="also write the Markdown result here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)

        def file_run(write):
            def run(value):
                path = folder / "f.csv"
                write(path, value)
                return hostile.run_stages(path)
            return run

        families = {
            "random CSV (huge cells)": (hostile.csv_texts(max_rows=400, max_columns=40,
                                                          max_cell=2_000_000),
                                        file_run(lambda p, v: p.write_text(v))),
            "extreme values / timestamps": (hostile.good_headed_series(max_rows=2000),
                                            file_run(lambda p, v: p.write_text(v))),
            "random bytes": (hostile.random_bytes, file_run(lambda p, v: p.write_bytes(v))),
            "command lines": (hostile.command_lines(),
                              lambda argv: hostile.run_command_line(argv, folder)),
        }
        for name, (strategy, run) in families.items():
            start = time.perf_counter()
            tally = fuzz_family(strategy, run, args.examples)
            rows.append((name, args.examples, tally, time.perf_counter() - start))
            print(f"{name}: {dict(tally.codes)} violations {len(tally.violations)}",
                  file=sys.stderr, flush=True)
        named = Tally()
        start = time.perf_counter()
        for case in hostile.NAMED_CASES:
            path, flags = hostile.write_named_case(case, folder, scale=args.scale)
            named.record(lambda path=path, flags=flags: hostile.run_stages(path, flags))
            path.unlink()
        rows.append((f"named hostile files x{args.scale}", len(hostile.NAMED_CASES), named,
                     time.perf_counter() - start))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = render(rows, peak_mb, args)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 1 if any(r[2].violations for r in rows) else 0


def render(rows, peak_mb: float, args) -> str:
    lines = ["# Fuzz benchmark", "",
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
             f"{os.cpu_count()} CPU cores; command: `python benchmarks/fuzz.py --examples "
             f"{args.examples} --scale {args.scale}`. Each example runs ingest, interpolation "
             "(with the run's feasibility checks) and preprocessing, or the command line's "
             "parsing and pre-flight. A violation is an exception without a SPEC §4 code, or "
             f"an example slower than {TIME_BOUND_S:.0f} s.", "",
             "| family | examples | outcomes (exit code: count) | violations | slowest s | "
             "wall s |", "|---|---|---|---|---|---|"]
    for name, examples, tally, seconds in rows:
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(tally.codes.items()))
        lines.append(f"| {name} | {examples} | {codes} | **{len(tally.violations)}** | "
                     f"{tally.slowest:.2f} | {seconds:.0f} |")
    lines += ["", f"Peak memory of the process: {peak_mb:.0f} MB.", ""]
    for name, _, tally, _ in rows:
        lines += [f"- {name}: {v}" for v in tally.violations[:10]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
