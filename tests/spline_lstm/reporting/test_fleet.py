"""The many-series outcome: when the parent fails, and the summary people read."""

from contracts.errors import InsufficientDataError, RunnerExecError
from spline_lstm.reporting.fleet import (
    SeriesRunFailed,
    parent_failure,
    summary_markdown,
)


def _row(status, code=None, series="s"):
    return {"series_id": series, "run_id": f"p--{series}", "status": status, "exit_code": code,
            "mase": 0.5 if status == "completed" else None,
            "forecaster": "auto_ets" if status == "completed" else None, "best_baseline": "naive_last",
            "best_baseline_mase": 0.9 if status == "completed" else None, "seconds": 1.0,
            "beats_baselines": status == "completed",
            "message": "" if status == "completed" else "INSUFFICIENT_DATA_ERROR: too short"}


def test_the_parent_fails_only_when_every_series_failed_or_on_fail_fast():
    mixed = [_row("completed", 0, "a"), _row("failed", 26, "b")]
    assert parent_failure(mixed, fail_fast=False) is None
    fast = parent_failure(mixed + [_row("skipped", None, "c")], fail_fast=True)
    assert isinstance(fast, InsufficientDataError) and "'b' failed, 1 not started" in fast.message
    same = parent_failure([_row("failed", 26, "a"), _row("failed", 26, "b")], fail_fast=False)
    assert isinstance(same, InsufficientDataError) and "every one of the 2" in same.message
    different = parent_failure([_row("failed", 26, "a"), _row("failed", 25, "b")], False)
    assert isinstance(different, RunnerExecError)
    assert parent_failure([_row("completed", 0)], fail_fast=True) is None


def test_the_summary_counts_and_lists_every_series():
    text = summary_markdown("p", [_row("completed", 0, "a"), _row("failed", 26, "b")],
                            "thread pool (2 threads)", 12.3)
    assert "2 series on thread pool (2 threads): 1 completed, 1 failed, 0 not started" in text
    assert "beat the best baseline on 1 of 1" in text
    assert "| a | p--a | completed | auto_ets | 0.500 |" in text
    assert "| b | p--b | failed |" in text and "too short" in text


def test_a_series_failure_survives_pickling_with_its_row():
    import pickle

    error = pickle.loads(pickle.dumps(SeriesRunFailed(_row("failed", 26, "b"))))
    assert error.row["exit_code"] == 26 and "'b'" in str(error)
