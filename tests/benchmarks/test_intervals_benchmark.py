"""The interval benchmark's cost of exactly K backtest windows: timed, or said not to fit."""

import signal
import sys
from pathlib import Path

import pytest

from benchmarks import intervals


def test_the_cost_table_gains_k_columns_only_when_asked():
    plain, asked = intervals.cost_header(None), intervals.cost_header(3)
    assert plain.splitlines()[0].count("|") - 1 == 7
    assert plain.splitlines()[1] == "|---" * 7 + "|"
    assert "wall s, K=3" in asked and asked.splitlines()[1] == "|---" * 9 + "|"
    assert intervals.fixed_cost(Path("a.csv"), 1, Path("."), None, 10.0) == ""


def test_k_windows_are_timed_against_k0_or_said_not_to_fit(monkeypatch):
    def timed(path, horizon, artifacts, windows):
        return {}, 25.0

    monkeypatch.setattr(intervals, "run", timed)
    assert intervals.fixed_cost(Path("a.csv"), 12, Path("."), 3, 10.0) == " 25 | 2.50 |"

    def too_short(path, horizon, artifacts, windows):
        raise SystemExit("a-h12-k3 failed: 2 backtest windows fit (exit 26)")

    monkeypatch.setattr(intervals, "run", too_short)
    assert intervals.fixed_cost(Path("a.csv"), 12, Path("."), 3, 10.0) == " does not fit | n/a |"


def test_cost_windows_below_one_is_refused_before_any_run(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["intervals.py", "--cost-windows", "0"])
    monkeypatch.setattr(intervals, "run", lambda *a: pytest.fail("ran a case"))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stopped:
            intervals.main()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 2
    assert "--cost-windows must be at least 1" in capsys.readouterr().err
