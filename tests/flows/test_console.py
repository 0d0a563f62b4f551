"""The installed ``spline-lstm`` command: its help, and coded errors before any store opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import read_error_line

CONSOLE = Path(sys.executable).parent / "spline-lstm"


def test_the_console_is_installed_and_documents_its_commands():
    done = subprocess.run([str(CONSOLE), "models", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for action in ("list", "show", "history", "promote", "rollback"):
        assert action in done.stdout
    top = subprocess.run([str(CONSOLE), "--help"], capture_output=True, text=True, timeout=120)
    assert "track" in top.stdout and "exit codes" in top.stdout


def test_a_bad_command_line_is_a_coded_error(tmp_path, capsys):
    from flows.console import main

    assert main(["models", "promote"]) == 20
    assert "name" in read_error_line(capsys.readouterr().err)["error"]["message"]
    assert main(["models", "history", "a/b", "--artifacts-dir", str(tmp_path)]) == 20
    error = read_error_line(capsys.readouterr().err)["error"]
    assert error["code"] == "INVALID_ARGUMENT" and "'a/b'" in error["message"]
    assert not (tmp_path / "mlflow").exists()  # refused before a store was created
