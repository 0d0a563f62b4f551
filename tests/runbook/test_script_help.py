"""Every operator script answers --help with its header, and starts nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, says", [
    ("local_stack.sh", "scripts/local_stack.sh down    # stop exactly the processes"),
    ("mlflow_server.sh", "scripts/mlflow_server.sh status"),
    ("postgres.sh", "scripts/postgres.sh url"),
    ("smoke_test.sh", "ARTIFACTS_DIR=/tmp/a scripts/smoke_test.sh"),
])
def test_help_prints_the_scripts_header_and_exits_0(script, says, tmp_path):
    for flag in ("--help", "-h"):
        done = subprocess.run([str(REPO / "scripts" / script), flag], cwd=tmp_path,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert says in done.stdout and "#" not in done.stdout.splitlines()[0]
        assert "set -euo" not in done.stdout and not done.stderr
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


def test_the_smoke_gate_refuses_an_argument_it_does_not_take(tmp_path):
    done = subprocess.run([str(REPO / "scripts" / "smoke_test.sh"), "--epochs", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 20  # INVALID_ARGUMENT
    assert "unknown argument '--epochs'" in done.stderr and "see --help" in done.stderr
