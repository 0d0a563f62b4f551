"""A benchmark stopped by SIGTERM unwinds as on Ctrl-C, so its flows' server stops with it."""

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Stands in for a benchmark inside a run: the finally block is where an in-process flow
# and Prefect's exit handlers stop the temporary server.
SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.accuracy import interrupt_on_sigterm
interrupt_on_sigterm()
ready, unwound = Path({ready!r}), Path({unwound!r})
try:
    ready.write_text("ready")
    time.sleep(60)
finally:
    unwound.write_text("unwound")
"""


def test_a_sigterm_unwinds_the_benchmark_instead_of_killing_it(tmp_path):
    ready, unwound = tmp_path / "ready", tmp_path / "unwound"
    process = subprocess.Popen([sys.executable, "-c", SCRIPT.format(
        root=str(ROOT), ready=str(ready), unwound=str(unwound))], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert ready.exists(), process.stderr.read().decode()
    process.send_signal(signal.SIGTERM)
    # ended as by Ctrl-C (Python re-raises SIGINT after an uncaught KeyboardInterrupt),
    # not killed by the SIGTERM
    assert process.wait(timeout=30) == -signal.SIGINT
    assert unwound.read_text() == "unwound"
    assert b"KeyboardInterrupt" in process.stderr.read()
