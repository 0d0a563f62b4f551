"""The quick retry used to create child flow runs: a 503 is sent again, nothing else is."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from flows import child_runs
from flows.child_runs import QuickCollisionRetry, wait_until_task_run_recorded


class _Scripted(BaseHTTPRequestHandler):
    """Answers POSTs with the next status of ``statuses``; records what it received."""

    statuses: list[int] = []
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        status = type(self).statuses.pop(0) if type(self).statuses else 201
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def scripted_server():
    _Scripted.statuses, _Scripted.bodies = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Scripted
    server.shutdown()
    server.server_close()


def test_a_collision_is_sent_again_with_the_same_body(scripted_server, monkeypatch):
    url, handler = scripted_server
    handler.statuses = [503, 503, 201]
    with httpx.Client(transport=QuickCollisionRetry()) as client:
        response = client.post(f"{url}/flow_runs/", json={"name": "x"})
    assert response.status_code == 201
    assert len(handler.bodies) == 3 and len(set(handler.bodies)) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 500])
def test_other_errors_are_returned_at_once(scripted_server, status):
    url, handler = scripted_server
    handler.statuses = [status]
    with httpx.Client(transport=QuickCollisionRetry()) as client:
        assert client.post(f"{url}/flow_runs/", json={}).status_code == status
    assert len(handler.bodies) == 1


def test_a_lasting_503_is_returned_after_the_last_attempt(scripted_server, monkeypatch):
    monkeypatch.setattr(child_runs, "COLLISION_ATTEMPTS", 3)
    monkeypatch.setattr(child_runs, "COLLISION_RETRY_S", 0.0)
    url, handler = scripted_server
    handler.statuses = [503] * 10
    with httpx.Client(transport=QuickCollisionRetry()) as client:
        assert client.post(f"{url}/flow_runs/", json={}).status_code == 503
    assert len(handler.bodies) == 3


def test_outside_a_task_run_nothing_is_awaited():
    assert wait_until_task_run_recorded() == 0.0
