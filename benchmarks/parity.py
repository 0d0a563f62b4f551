"""Parity check: the same config + seed gives the same numbers as a recorded reference.

    .venv/bin/python benchmarks/parity.py            # compare; exit 1 on any change
    .venv/bin/python benchmarks/parity.py --record   # (re)write the reference
    .venv/bin/python benchmarks/parity.py --out benchmarks/results/parity.md

Three runs of the real ``e2e`` flow: the smoke configuration (synthetic, 3 epochs, seed
42), co2 weekly at H=52 and air passengers at H=12 with default settings. For each, the
test metrics of the pipeline and of every baseline, the chosen transform, the validation
scores of every transform candidate and the forward forecast are compared with
``benchmarks/results/parity_reference.json`` (recorded before a refactor). Numbers must
agree to ``--rtol`` (default 1e-9: a refactor must not change a digit that matters).

Digits are exact only on the kind of CPU the reference was recorded on: another
processor's vector kernels round float32 differently (about 1e-7 relative), and training
amplifies it (co2 H=52 test MASE 0.4584 on one machine, 0.4538 on another, from the same
commit). To check a refactor on a new machine, record the reference there from the
commit before it (a git worktree with this virtualenv), then compare.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.cli import quiet_environment  # noqa: E402

quiet_environment()

REFERENCE = ROOT / "benchmarks" / "results" / "parity_reference.json"
DATA = Path(os.environ.get("SPLINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
CASES = {
    "smoke": {"epochs": 3, "seed": 42, "synthetic_points": 1200},
    "co2-h52": {"input": str(DATA / "co2_weekly.csv"), "horizon": 52},
    "air-h12": {"input": str(DATA / "airpassengers_monthly.csv"), "horizon": 12},
}


def run_case(name: str, params: dict, artifacts: Path) -> dict:
    """Run one case through the e2e flow; the numbers that must not move."""
    from flows.e2e import e2e_flow

    start = time.perf_counter()
    state = e2e_flow(run_id=name, artifacts_dir=str(artifacts), **params, return_state=True)
    if not state.is_completed():
        raise SystemExit(f"{name} failed: {state.message}")
    metrics = json.loads((artifacts / "metrics" / f"{name}.json").read_text())
    meta = json.loads((artifacts / "processed" / name / "meta.json").read_text())
    selection = (meta.get("data_summary") or {}).get("transform_selection") or {}
    return {
        "metrics": metrics["metrics"],
        "baselines": metrics["baselines"],
        "transform": metrics["dataset"]["transform"],
        "candidates": {c["name"]: c["val_mase"] for c in selection.get("candidates", [])},
        "forecast": state.result()["forecast"]["values"],
        "seconds": round(time.perf_counter() - start, 1),
    }


def cpu_model() -> str:
    """The processor's name (Linux), which decides the last digits of float32 training."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def compare(reference, current, rtol: float, path: str = "") -> list[str]:
    """Every leaf where ``current`` differs from ``reference`` by more than ``rtol``."""
    if isinstance(reference, dict) and isinstance(current, dict):
        diffs = [f"{path}: keys {sorted(set(reference) ^ set(current))} differ"] \
            if set(reference) != set(current) else []
        for key in sorted(set(reference) & set(current)):
            diffs += compare(reference[key], current[key], rtol, f"{path}.{key}")
        return diffs
    if isinstance(reference, list) and isinstance(current, list):
        if len(reference) != len(current):
            return [f"{path}: length {len(reference)} -> {len(current)}"]
        return [d for i, (a, b) in enumerate(zip(reference, current))
                for d in compare(a, b, rtol, f"{path}[{i}]")]
    if isinstance(reference, float) and isinstance(current, (int, float)):
        if math.isclose(reference, current, rel_tol=rtol, abs_tol=1e-12):
            return []
        return [f"{path}: {reference!r} -> {current!r}"]
    return [] if reference == current else [f"{path}: {reference!r} -> {current!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the reference instead")
    parser.add_argument("--rtol", type=float, default=1e-9,
                        help="relative tolerance of a number against the reference (1e-9)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES),
                        help="which runs to compare (default: all)")
    parser.add_argument("--out", type=Path, help="also write the Markdown result here")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        for name in args.cases:
            results[name] = run_case(name, CASES[name], Path(tmp))
            print(f"{name}: MASE {results[name]['metrics']['mase']:.6f} "
                  f"({results[name]['seconds']} s)", file=sys.stderr, flush=True)
    if args.record:
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(json.dumps(results, indent=1) + "\n")
        print(f"reference written to {REFERENCE}")
        return 0
    text, failed = render(json.loads(REFERENCE.read_text()), results, args.rtol)
    print(text)
    if args.out:
        args.out.write_text(
            f"# Parity with the reference\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} CPU cores; command: `python "
            f"benchmarks/parity.py --out {args.out}`. Reference: "
            f"`{REFERENCE.relative_to(ROOT)}`, recorded before the core was reshaped. Compared: "
            "test metrics of the pipeline and of every baseline, the chosen transform, the "
            f"validation MASE of every candidate and the forward forecast, to rtol "
            f"{args.rtol:g}.\n\n{text}\n")
    return 1 if failed else 0


def render(reference: dict, results: dict, rtol: float) -> tuple[str, bool]:
    """The comparison table (and the first differences of each case); (text, any change)."""
    lines = ["| case | pipeline MASE (reference) | now | transform | numbers compared | "
             "differences | seconds |", "|---|---|---|---|---|---|---|"]
    failed = False
    for name, current in results.items():
        ref = {k: v for k, v in reference[name].items() if k != "seconds"}
        diffs = compare(ref, {k: v for k, v in current.items() if k != "seconds"}, rtol)
        failed |= bool(diffs)
        lines.append(f"| {name} | {ref['metrics']['mase']:.6f} | "
                     f"{current['metrics']['mase']:.6f} | {current['transform']} | "
                     f"{_leaves(ref)} | {len(diffs)} | {current['seconds']} |")
        lines += [f"  {name}{line}" for line in diffs[:20]]
    lines.append("")
    lines.append("parity: " + ("CHANGED" if failed else "identical to the reference"))
    return "\n".join(lines), failed


def _leaves(value) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


if __name__ == "__main__":
    sys.exit(main())
