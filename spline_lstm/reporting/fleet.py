"""The outcome of a many-series run: the parent's verdict and the summary people read."""

from __future__ import annotations

import numpy as np

from contracts.errors import PipelineError, RunnerExecError, error_class_for


class SeriesRunFailed(Exception):
    """One series' child run failed; carries its summary row (picklable, for Dask)."""

    # Its traceback is only run_series' raise: the child run has logged its own error (with
    # the trace, where the error is not the user's to fix), so consoles show the message.
    quiet = True

    def __init__(self, row: dict) -> None:
        super().__init__(row)
        self.row = row

    def __str__(self) -> str:
        return f"series {self.row['series_id']!r} ({self.row['run_id']}) failed: " \
               f"{self.row['message']}"

SUMMARY_COLUMNS = ("series_id", "run_id", "status", "exit_code", "forecaster", "mase",
                   "best_baseline", "best_baseline_mase", "seconds", "message")


def parent_failure(rows: list[dict], fail_fast: bool) -> PipelineError | None:
    """The error that fails the parent run, or None: all series failed, or fail-fast hit."""
    failed = [r for r in rows if r["status"] == "failed"]
    if not failed:
        return None
    completed = sum(r["status"] == "completed" for r in rows)
    if completed and not fail_fast:
        return None
    codes = {r["exit_code"] for r in failed}
    cls = error_class_for(codes.pop()) if len(codes) == 1 else RunnerExecError
    first = failed[0]
    what = (f"--fail-fast: series {first['series_id']!r} failed, "
            f"{sum(r['status'] == 'skipped' for r in rows)} not started" if fail_fast
            else f"every one of the {len(rows)} series failed")
    return cls(f"{what}; first failure {first['run_id']}: {first['message']} "
               "(per-series table: the run's summary.md)")


def summary_markdown(parent: str, rows: list[dict], runner: str, seconds: float) -> str:
    """The people-readable summary: counts first, then one line per series."""
    counts = {s: sum(r["status"] == s for r in rows) for s in ("completed", "failed", "skipped")}
    mases = [r["mase"] for r in rows if r.get("mase") is not None]
    lines = [
        f"# Many-series run `{parent}`", "",
        f"{len(rows)} series on {runner}: {counts['completed']} completed, {counts['failed']} "
        f"failed, {counts['skipped']} not started; {seconds:.1f} s wall time.",
    ]
    if mases:
        lines.append(f"Median MASE {float(np.median(mases)):.3f}; the forecast beat the best "
                     f"baseline on {sum(bool(r.get('beats_baselines')) for r in rows)} of "
                     f"{len(mases)} series.")
    lines += ["", "| series | run_id | status | forecast | MASE | best baseline (MASE) | seconds "
              "| message |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        baseline = (f"{r['best_baseline']} ({r['best_baseline_mase']:.3f})"
                    if r.get("best_baseline_mase") is not None else "")
        mase = f"{r['mase']:.3f}" if r.get("mase") is not None else ""
        message = (r.get("message") or "").replace("|", "\\|").replace("\n", " ")[:300]
        lines.append(f"| {r['series_id']} | {r['run_id']} | {r['status']} | "
                     f"{r.get('forecaster') or ''} | {mase} | "
                     f"{baseline} | {r['seconds']:.1f} | {message} |")
    return "\n".join(lines) + "\n"

