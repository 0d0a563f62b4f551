"""Side processes of the command: where jobs run, and that none outlives its command."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spline_lstm import job_process
from tests.helpers import SleepJob

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has finished; only its entry waits to be reaped


def test_jobs_run_in_the_child_only_while_allowed():
    assert job_process.submit("sleeper", "a", SleepJob(0)) is None  # not allowed here
    with job_process.allowed():
        future = job_process.submit("sleeper", "a", SleepJob(0))
        assert job_process.submit("sleeper", "a", SleepJob(0)) is future  # one job per key
        child_pid = future.result(timeout=60)
        assert child_pid != os.getpid()
        assert job_process.result_or(future, lambda: "here") == child_pid
        assert job_process.succeeded(future)
        # a job that cannot be sent fails alone, and result_or does it here instead
        unpicklable = job_process.submit("sleeper", "b", lambda: None)
        assert unpicklable.exception() is not None
        assert job_process.result_or(unpicklable, lambda: "here") == "here"
    assert not _alive(child_pid)  # killed when allowed() ends


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_killed_command_leaves_no_child_computing():
    script = (
        "import sys, time\n"
        "from spline_lstm import job_process\n"
        "from tests.helpers import SleepJob\n"
        "with job_process.allowed():\n"
        "    job_process.submit('sleeper', 'long', SleepJob(120))\n"
        "    print(job_process._children['sleeper'].process.pid, flush=True)\n"
        "    time.sleep(120)\n")
    command = subprocess.Popen([sys.executable, "-c", script], cwd=REPO,
                               stdout=subprocess.PIPE, text=True)
    try:
        child = int(command.stdout.readline())
        assert _alive(child)
        os.kill(command.pid, signal.SIGKILL)  # no cleanup runs in the command
        command.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the child outlived its command"
    finally:
        command.kill()
        command.wait()


def test_a_child_works_in_the_callers_directory_with_the_project_first(tmp_path, monkeypatch):
    """A job's relative paths (the default artifacts dir) mean what they mean here, and a
    folder named like one of the project's packages there shadows nothing."""
    (tmp_path / "spline_lstm").mkdir()
    (tmp_path / "spline_lstm" / "__init__.py").write_text("raise ImportError('shadowed')\n")
    monkeypatch.chdir(tmp_path)
    with job_process.allowed():
        future = job_process.submit("sleeper", "cwd", WhereJob())
        assert future.result(timeout=60) == str(tmp_path)


class WhereJob:
    def run(self) -> str:
        return os.getcwd()
