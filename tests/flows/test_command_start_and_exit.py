"""How a command starts (Prefect's temporary server beside TensorFlow's import) and ends
(its code, after its threads and exit handlers, without the interpreter's teardown)."""

import subprocess
import sys
import textwrap
from pathlib import Path

from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import early_start

REPO = Path(__file__).resolve().parents[2]

COMMAND = textwrap.dedent("""
    import atexit, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from flows.cli import standalone

    out = Path({out!r})
    atexit.register(lambda: (out / "exit-handler").write_text("ran"))

    def late_writer():
        time.sleep(0.3)
        (out / "thread").write_text("finished")

    # an idle pool kept alive, as MLflow's artifact repositories keep one: its workers
    # end only when the interpreter's threading exit hook wakes them
    pool = ThreadPoolExecutor(2)

    def main():
        threading.Thread(target=late_writer).start()  # not a daemon: waited for
        pool.submit(int).result()
        print("the command's line")
        return 3

    standalone(main)
    (out / "after").write_text("standalone returned")
""")


def test_a_command_exits_with_its_code_once_its_threads_and_exit_handlers_are_done(tmp_path):
    script = COMMAND.format(repo=str(REPO), out=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)  # a thread the exit waits for forever fails it here
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "the command's line"
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "exit-handler").read_text() == "ran"
    assert not (tmp_path / "after").exists()  # the process ended inside standalone


def test_no_temporary_server_is_started_where_a_server_is_configured():
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert not early_start.wants_temporary_server()
        assert early_start.start_temporary_server() is False
    assert early_start._state["thread"] is None


FAILING_COMMAND = textwrap.dedent("""
    import atexit, sys
    sys.path.insert(0, {repo!r})
    from contracts.errors import InvalidArgumentError
    from flows.cli import fail, standalone

    def main():
        # as Prefect's log worker does when the temporary server has gone: no newline
        sys.stderr.write("All connection attempts failed")
        atexit.register(lambda: sys.stderr.write("--- Error logging to API ---\\\\nlate"))
        return fail(InvalidArgumentError("--level: planted"))

    standalone(main)
""")


def test_the_json_line_gets_a_line_of_its_own_and_stays_last(tmp_path):
    from tests.helpers import read_error_line

    proc = subprocess.run([sys.executable, "-c", FAILING_COMMAND.format(repo=str(REPO))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 20, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert lines[-2] == "All connection attempts failed"
    assert read_error_line(lines[-1])["error"]["message"] == "--level: planted"
    assert "late" not in proc.stderr  # written by an exit handler after the line: muted
