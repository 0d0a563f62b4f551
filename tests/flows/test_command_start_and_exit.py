"""How a command starts (Prefect's temporary server beside TensorFlow's import) and ends
(its code, after its threads and exit handlers, without the interpreter's teardown)."""

import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

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
        assert early_start.start_temporary_server() is None
    assert early_start.temporary_server() is None


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


class _Scripted(early_start.TemporaryServer):
    """A TemporaryServer whose process is a given Python one-liner on a given port."""

    def __init__(self, scripts: list[str], port: int) -> None:
        super().__init__()
        self.scripts, self.spawned = list(scripts), 0
        self.port = port

    def spawn(self) -> None:
        self.spawned += 1
        self.process = subprocess.Popen([sys.executable, "-c", self.scripts.pop(0)])


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args):
        pass


def test_the_temporary_server_is_waited_for_until_its_health_answers():
    health = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    try:
        # uvicorn's "port in use" (3) spawns it again; the second one stays up
        server = _Scripted(["import sys; sys.exit(3)", "import time; time.sleep(30)"],
                           health.server_address[1])
        server.spawn()
        server.process.wait()
        server.wait_until_answering(timeout_s=10)
        assert server.spawned == 2 and not server.gone()
        server.stop()
        assert server.process is None and not server.gone()
    finally:
        health.shutdown()


@pytest.mark.parametrize("script, fragment", [
    ("import time; time.sleep(30)", "Timed out while attempting to connect"),
    ("import sys; sys.exit(1)", "exited with code 1"),
])
def test_a_temporary_server_that_never_answers_raises_prefects_error(script, fragment):
    from flows.cli import orchestrator_error

    server = _Scripted([script], early_start.free_port())  # nothing listens there
    server.spawn()
    if "exit" in script:
        server.process.wait()  # gone before the first look, however busy the machine
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match=fragment) as raised:
            server.wait_until_answering(timeout_s=0.5)
    finally:
        server.stop()
    assert time.monotonic() - started < 10
    assert orchestrator_error(raised.value).exit_code == 24  # the command's mapping


def test_the_flow_runs_against_the_started_server_without_ui_links(monkeypatch):
    server = early_start.TemporaryServer()
    server.port = 4321
    monkeypatch.setitem(early_start._state, "server", server)
    with early_start.api_settings():
        assert PREFECT_API_URL.value() == "http://127.0.0.1:4321/api"
        assert not PREFECT_UI_URL.value()  # that server serves no UI: no "View at" link
    assert PREFECT_API_URL.value() != "http://127.0.0.1:4321/api"


@pytest.fixture
def recorded_spawns(monkeypatch):
    """TemporaryServer.spawn records its calls instead of starting a server."""
    spawns = []

    def spawn(self, settings=None):
        self.port, self.spawned_at = 4321, time.monotonic()
        spawns.append(settings)

    monkeypatch.setattr(early_start.TemporaryServer, "spawn", spawn)
    monkeypatch.setitem(early_start._state, "server", None)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return spawns


@pytest.mark.parametrize("argv", [
    ["--run-id", "early", "--epochs", "0"],  # refused by the parser: main() reports it
    ["--run-id", "early", "--input", "/nonexistent/series.csv"],  # refused by the preflight
    ["--help"],
])
def test_flags_that_main_refuses_spawn_no_server_early_and_print_nothing(
        recorded_spawns, argv, tmp_path, capsys):
    early_start.spawn_before_imports([*argv, "--artifacts-dir", str(tmp_path / "a")])
    assert recorded_spawns == [] and early_start.temporary_server() is None
    assert capsys.readouterr() == ("", "")


def test_good_flags_spawn_the_server_before_the_imports_unless_one_is_configured(
        recorded_spawns, tmp_path, monkeypatch):
    argv = ["--run-id", "early", "--artifacts-dir", str(tmp_path / "a")]
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    early_start.spawn_before_imports(argv)
    assert recorded_spawns == []
    monkeypatch.delenv("PREFECT_API_URL")
    early_start.spawn_before_imports(argv)
    server = early_start.temporary_server()
    assert recorded_spawns == [None] and server is not None  # no Prefect settings yet
    # (what Prefect's settings say, once imported, is set here: the suite has a server)
    monkeypatch.setattr(early_start, "wants_temporary_server", lambda: True)
    assert early_start.start_temporary_server() is server  # adopted, not spawned again
    assert len(recorded_spawns) == 1
    # a server configured in Prefect's settings (a profile) is only known after the
    # imports: the early one is stopped unused
    server.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    monkeypatch.setattr(early_start, "wants_temporary_server", lambda: False)
    assert early_start.start_temporary_server() is None
    assert early_start.temporary_server() is None and server.process is None


def test_a_flow_run_owns_its_process_only_where_prefect_started_the_process_for_it():
    """A worker's (or a served deployment's) run gets side processes as the command does;
    a run inside another's process, or beside the command's own, does not."""
    from flows.e2e import owns_its_process

    run = "0b6f3d52-8d3c-4c1e-9a8e-2f1d7c1f5a10"
    started_for = {"PREFECT__FLOW_RUN_ID": run}
    assert owns_its_process(run, started_for, side_processes_on=False)
    assert not owns_its_process(run, started_for, side_processes_on=True)  # the command's
    assert not owns_its_process("a-child-run", started_for, side_processes_on=False)
    assert not owns_its_process(run, {}, side_processes_on=False)  # a test, a Python caller
    assert not owns_its_process(None, started_for, side_processes_on=False)
