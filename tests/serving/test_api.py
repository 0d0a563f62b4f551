"""The serving API on a real uvicorn server on loopback (``spline-lstm serve``): parity with
the pipeline's forward forecast, the history path, hot reload on promote and rollback,
coded 422s and the SPEC §11 rules.

Marked ``server`` (two tiny tracked runs and three server starts, about 2 minutes).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.helpers import TINY_FLAGS, make_series

pytestmark = pytest.mark.server
CONSOLE = Path(sys.executable).parent / "spline-lstm"
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "referrer-policy": "no-referrer", "cache-control": "no-store"}


# Generous: on a loaded machine the first request down a path (the history path's
# preprocessing, a model's first trace) can take longer than httpx's default 5 s. How fast
# the API answers is measured in benchmarks/serving.py, not asserted here.
TIMEOUT_S = 120.0


def _get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, **{"timeout": TIMEOUT_S, **kwargs})


def _post(url: str, **kwargs) -> httpx.Response:
    return httpx.post(url, **{"timeout": TIMEOUT_S, **kwargs})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def registry_dir(tmp_path_factory, prefect_harness):
    """Two tracked runs of one series; version 1 is the champion, 2 the candidate."""
    from flows.e2e import main

    root = tmp_path_factory.mktemp("serving")
    csv = root / "load.csv"
    make_series(n=360, seed=4).to_csv(csv, index=False)
    artifacts = root / "artifacts"
    saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        for run_id in ("serve-1", "serve-2"):
            flags = ["--run-id", run_id, "--artifacts-dir", str(artifacts), "--input", str(csv),
                     "--horizon", "3", *TINY_FLAGS, "--tracking", "on", "--candidates",
                     "naive", "--baselines", "simple", "--backtest-windows", "0"]
            assert main(flags) == 0
        from spline_lstm.tracking import registry, store

        # a seasonal-naive run never passes the policy: the fixture makes it champion
        registry.promote(store.connect(artifacts), "load", artifacts, version="1", force=True,
                         reason="serving tests")
    finally:
        if saved is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved
    return artifacts, csv


def _start(artifacts: Path, **env) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.Popen([str(CONSOLE), "serve", "--port", str(port), "--artifacts-dir",
                             str(artifacts)], env={**clean, "SPLINE_RELOAD_SECONDS": "0.5",
                                                   **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read()[-3000:])
        try:
            if _get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("the server did not answer in time")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(registry_dir):
    proc, url = _start(registry_dir[0])
    yield url
    _stop(proc)


def _stored_forecast(artifacts: Path, run_id: str) -> pd.DataFrame:
    frame = pd.read_csv(artifacts / "predictions" / f"{run_id}.csv")
    return frame[frame["kind"] == "forecast"].reset_index(drop=True)


def test_the_champion_is_served_with_the_pipelines_numbers(server, registry_dir):
    response = _post(f"{server}/api/v1/forecast", json={"model": "load", "horizon": 3})
    assert response.status_code == 200, response.text
    for key, value in HEADERS.items():
        assert response.headers[key] == value
    body = response.json()
    assert (body["model"], body["version"], body["run_id"], body["fallback"]) == \
        ("load", "1", "serve-1", False)
    stored = _stored_forecast(registry_dir[0], "serve-1")
    assert [r["value"] for r in body["forecast"]] == pytest.approx(stored["y_pred"].tolist(),
                                                                   rel=1e-9)
    assert [r["hi_95"] for r in body["forecast"]] == pytest.approx(stored["hi_95"].tolist(),
                                                                   rel=1e-9)
    ready = _get(f"{server}/api/v1/ready")
    assert ready.status_code == 200 and ready.json()["models"]["load"]["version"] == "1"
    assert _get(f"{server}/openapi.json").status_code == 200
    bare = _post(f"{server}/api/v1/forecast", json={"model": "load", "horizon": 1,
                                                     "levels": []}).json()
    assert set(bare["forecast"][0]) == {"timestamp", "value"}  # no intervals asked
    models = _get(f"{server}/api/v1/models").json()["models"]
    assert models[0]["model"] == "load" and models[0]["aliases"]["champion"] == "1"
    assert models[0]["served"]["run_id"] == "serve-1"
    run = _get(f"{server}/api/v1/runs/serve-1").json()
    assert run["metrics"]["run_id"] == "serve-1" and run["report"].startswith("#")
    assert _get(f"{server}/api/v1/runs/never-ran").status_code == 404
    assert _get(f"{server}/api/v1/runs/..%2Fetc").status_code in (404, 422)


def test_a_history_goes_through_the_pipelines_path(server, registry_dir):
    raw = pd.read_csv(registry_dir[1])
    body = {"model": "load", "horizon": 2, "levels": [80],
            "history": {"timestamps": raw["timestamp"].tolist(),
                        "values": raw["target"].tolist()}}
    response = _post(f"{server}/api/v1/forecast", json=body)
    assert response.status_code == 200, response.text
    rows = response.json()["forecast"]
    stored = _stored_forecast(registry_dir[0], "serve-1")
    assert [r["value"] for r in rows] == pytest.approx(stored["y_pred"][:2].tolist(), rel=1e-9)
    assert set(rows[0]) == {"timestamp", "value", "lo_80", "hi_80"}
    many = _post(f"{server}/api/v1/forecast",
                 json={"series": [{"model": "load", "horizon": 1}, body]})
    assert many.status_code == 200 and len(many.json()["forecasts"]) == 2


def test_the_docs_render_in_a_browser_without_internet_access(server, tmp_path):
    # Swagger UI and ReDoc build the page from /openapi.json in the browser: the routes'
    # summaries appear only once their scripts ran, and those come from this server
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("Debian chromium is not installed (.ci/run installs it when it can)")
    for page in ("docs", "redoc"):
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--virtual-time-budget=15000", f"--user-data-dir={tmp_path / page}",
             "--dump-dom", f"{server}/{page}"],
            capture_output=True, text=True, timeout=180).stdout
        assert "Liveness" in dom and "/api/v1/forecast" in dom, (page, dom[-2000:])


@pytest.mark.parametrize("body, words", [
    ({"model": "load", "horizon": 9}, "at most 3"),
    ({"model": "nosuch", "horizon": 1}, "nosuch"),
    ({"model": "../etc", "horizon": 1}, "model"),
    ({"model": "load", "horizon": 1, "levels": [90]}, "not calibrated"),
    ({"model": "load", "horizon": 1, "history": {"timestamps": ["2024-01-01T01:00",
      "2024-01-01T00:00"], "values": [1, 2]}}, "increase"),
    ({"model": "load", "horizon": 1, "history": {"timestamps": ["2024-01-01T00:00",
      "2024-01-01T00:00"], "values": [1, 2]}}, "duplicate"),
    ({"horizon": 1}, "model"),
])
def test_bad_requests_are_422_naming_the_problem(server, body, words):
    response = _post(f"{server}/api/v1/forecast", json=body)
    assert response.status_code == 422 and words in response.text, response.text


def test_nan_and_malformed_bodies_are_422(server):
    nan = '{"model": "load", "horizon": 1, "history": {"timestamps": ["2024-01-01T00:00"], ' \
          '"values": [NaN]}}'
    for content in (nan, "{not json"):
        response = _post(f"{server}/api/v1/forecast", content=content,
                         headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text


def test_promote_and_rollback_reload_without_a_failed_request(server, registry_dir):
    from spline_lstm.tracking import registry, store

    saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    client = store.connect(registry_dir[0])
    seen, failures, stop = [], [], threading.Event()

    def loop() -> None:
        with httpx.Client(timeout=TIMEOUT_S) as http:
            while not stop.is_set():
                r = http.post(f"{server}/api/v1/forecast", json={"model": "load", "horizon": 1})
                (seen.append(r.json()["version"]) if r.status_code == 200
                 else failures.append(r.text))

    def wait_for(version: str) -> None:
        deadline = time.time() + 20
        while time.time() < deadline and (not seen or seen[-1] != version):
            time.sleep(0.1)
        assert seen and seen[-1] == version, seen[-5:]

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        registry.promote(client, "load", registry_dir[0], version="2", force=True,
                         reason="reload drill")
        wait_for("2")
        registry.rollback(client, "load", registry_dir[0], reason="reload drill")
        wait_for("1")
    finally:
        stop.set()
        worker.join()
        if saved is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved
    assert not failures and len(seen) > 10


def test_production_mode_rules(registry_dir):
    artifacts = registry_dir[0]
    refused = subprocess.run([str(CONSOLE), "serve", "--artifacts-dir", str(artifacts)],
                             env={**os.environ, "SPLINE_DEV_MODE": "0", "SPLINE_API_TOKEN": ""},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 20 and "SPLINE_API_TOKEN" in refused.stderr
    wide = subprocess.run([str(CONSOLE), "serve", "--host", "0.0.0.0", "--artifacts-dir",
                           str(artifacts)], capture_output=True, text=True, timeout=120)
    assert wide.returncode == 20 and "loopback" in wide.stderr

    proc, url = _start(artifacts, SPLINE_DEV_MODE="0", SPLINE_API_TOKEN="s3cret-token",
                       SPLINE_CORS_ORIGINS="https://planner.example",
                       SPLINE_MAX_BODY_BYTES="2048")
    try:
        ask = {"model": "load", "horizon": 1}
        assert _get(f"{url}/api/v1/health").status_code == 200  # public
        assert _post(f"{url}/api/v1/forecast", json=ask).status_code == 401
        wrong = _post(f"{url}/api/v1/forecast", json=ask, headers={"X-API-Token": "s3"})
        assert wrong.status_code == 401 and wrong.headers["x-frame-options"] == "DENY"
        good = _post(f"{url}/api/v1/forecast", json=ask,
                     headers={"X-API-Token": "s3cret-token"})
        assert good.status_code == 200
        preflight = httpx.options(f"{url}/api/v1/forecast", headers={
            "Origin": "https://planner.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Token, Content-Type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://planner.example"
        evil = httpx.options(f"{url}/api/v1/forecast", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in evil.headers
        host = _get(f"{url}/api/v1/health", headers={"Host": "attacker.example"})
        assert host.status_code == 400
        big = _post(f"{url}/api/v1/forecast", content=json.dumps(
            {"model": "load", "horizon": 1, "pad": "x" * 4000}),
            headers={"X-API-Token": "s3cret-token", "content-type": "application/json"})
        assert big.status_code == 413
    finally:
        _stop(proc)


def test_a_loaded_version_keeps_no_download_on_disk(registry_dir, tmp_path, monkeypatch):
    # A server loads a version on every alias move and every other version asked for; a
    # promotion loads two. Each download used to stay in the temporary folder for good.
    import tempfile

    from spline_lstm.serving.champions import fallback_served
    from spline_lstm.tracking import registry, store

    artifacts = registry_dir[0]
    downloads = tmp_path / "tmp"
    downloads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(downloads))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the runs' own store
    client = store.connect(artifacts)
    model = registry.load_version(client, "load", "1")
    stored = _stored_forecast(artifacts, "serve-1")
    assert model.forecast().values == pytest.approx(stored["y_pred"].tolist(), rel=1e-9)
    fallback = fallback_served(client, "load", "2", "a test")
    assert fallback is not None and len(fallback.forecast.values) == 3
    assert list(downloads.iterdir()) == []


def test_a_corrupt_champion_falls_back_and_ready_says_why(registry_dir):
    """Last in the module: it spoils the registry's copies of every version's model."""
    artifacts = registry_dir[0]
    for path in (artifacts / "mlflow" / "artifacts").rglob("chosen/**/*.json"):
        path.write_text("{garbage")
    for path in (artifacts / "mlflow" / "artifacts").rglob("best.keras"):
        path.write_bytes(b"not a keras file")
    proc, url = _start(artifacts)
    try:
        ready = _get(f"{url}/api/v1/ready")
        assert ready.status_code == 503
        assert "cannot be loaded" in ready.json()["models"]["load"]["problem"]
        body = _post(f"{url}/api/v1/forecast", json={"model": "load", "horizon": 3}).json()
        assert body["fallback"] is True and len(body["forecast"]) == 3
        failed = _post(f"{url}/api/v1/forecast",
                       json={"model": "load", "horizon": 1, "version": 2})
        assert failed.status_code == 500
        assert failed.json() == {"ok": False, "error": "internal server error"}
    finally:
        _stop(proc)
