"""Registry moves on a real (SQLite) MLflow store: force promotions, rollback, the audit
trail, and a crash between two alias moves that still leaves a champion."""

from __future__ import annotations

import os

import pytest

from contracts.errors import InvalidArgumentError
from spline_lstm.tracking import registry, store


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return store.connect(tmp_path)


def test_each_artifacts_dir_keeps_its_own_store_within_one_process(tmp_path, monkeypatch):
    """A second run of the same process, in another artifacts dir, is tracked into its own
    store: opening the first exports no MLFLOW_TRACKING_URI for the second to inherit."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    first = store.connect(tmp_path / "a")
    assert "MLFLOW_TRACKING_URI" not in os.environ
    second = store.connect(tmp_path / "b")
    assert first.tracking_uri == f"sqlite:///{(tmp_path / 'a').resolve()}/mlflow/mlflow.db"
    assert second.tracking_uri == f"sqlite:///{(tmp_path / 'b').resolve()}/mlflow/mlflow.db"


def _versions(client, tmp_path, n: int) -> list[str]:
    """n registered versions of model 'm' (sources are plain folders: no model logged)."""
    client.create_registered_model("m")
    out = []
    for i in range(n):
        source = tmp_path / f"v{i}"
        source.mkdir()
        out.append(str(client.create_model_version("m", source.as_uri(),
                                                   tags={registry.RUN_ID_TAG: f"r{i}"}).version))
    return out


class _CrashOnChampionMove:
    """The real client, except that moving the champion alias fails (a crash mid-way)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def set_registered_model_alias(self, name, alias, version):
        if alias == registry.CHAMPION:
            raise RuntimeError("killed")
        return self._client.set_registered_model_alias(name, alias, version)


def test_forced_promotions_rollback_and_the_audit_trail(client, tmp_path):
    v1, v2 = _versions(client, tmp_path, 2)
    first = registry.promote(client, "m", tmp_path, version=v1, force=True, reason="seed",
                             who="alice")
    assert first["promoted"] and first["previous_champion"] is None
    registry.promote(client, "m", tmp_path, version=v2, force=True, reason="better", who="bob")
    assert registry.alias_version(client, "m", registry.CHAMPION) == v2
    assert registry.alias_version(client, "m", registry.ROLLBACK) == v1
    registry.rollback(client, "m", tmp_path, reason="oops", who="carol")
    assert registry.alias_version(client, "m", registry.CHAMPION) == v1
    assert registry.alias_version(client, "m", registry.ROLLBACK) == v2
    entries = registry.history(client, "m")
    assert [(e["action"], e["alias"], e["by"]) for e in entries] == [
        ("promote", "champion", "alice"), ("promote", "rollback", "bob"),
        ("promote", "champion", "bob"), ("rollback", "champion", "carol"),
        ("rollback", "rollback", "carol")]
    assert entries[2]["why"] == "forced: better" and entries[-1]["why"] == "oops"
    tags = client.get_model_version("m", v1).tags
    assert tags["spline.champion_by"] == "carol" and tags["spline.champion_since"]
    with pytest.raises(InvalidArgumentError, match="already the champion"):
        registry.promote(client, "m", tmp_path, version=v1, force=True, reason="again")


def test_a_crash_between_alias_moves_leaves_the_champion_in_place(client, tmp_path):
    v1, v2 = _versions(client, tmp_path, 2)
    registry.promote(client, "m", tmp_path, version=v1, force=True, reason="seed")
    with pytest.raises(RuntimeError, match="killed"):
        registry.promote(_CrashOnChampionMove(client), "m", tmp_path, version=v2, force=True,
                         reason="interrupted")
    assert registry.alias_version(client, "m", registry.CHAMPION) == v1
    # and the promotion can simply be run again
    registry.promote(client, "m", tmp_path, version=v2, force=True, reason="retry")
    assert registry.alias_version(client, "m", registry.CHAMPION) == v2
    assert registry.alias_version(client, "m", registry.ROLLBACK) == v1


def test_registering_the_same_run_twice_gives_one_version(client, tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    run = client.create_run(client.create_experiment("e")).info.run_id
    first = registry.register(client, "m", source.as_uri(), "r1", run, tmp_path, "x")
    again = registry.register(client, "m", source.as_uri(), "r1", run, tmp_path, "x")
    assert first == again == "1"
    assert registry.alias_version(client, "m", registry.CANDIDATE) == "1"
    assert len(client.search_model_versions("name = 'm'")) == 1


def test_a_warmed_up_store_is_the_one_connect_then_opens(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store.warm_up(tmp_path)
    thread = store._WARMING[store.tracking_uri(tmp_path)]
    client = store.connect(tmp_path)  # waits for the warm-up of its URI
    assert not thread.is_alive() and store.tracking_uri(tmp_path) not in store._WARMING
    assert (store.local_store_dir(tmp_path) / "mlflow.db").is_file()
    assert store.experiment_id(client, tmp_path) == store.experiment_id(client, tmp_path)


def test_a_warm_up_with_a_tracking_server_opens_nothing_and_connect_still_reports_it(
        tmp_path, monkeypatch):
    from contracts.errors import RunnerExecError

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens
    store.warm_up(tmp_path)
    store._WARMING[store.tracking_uri(tmp_path)].join(timeout=30)
    assert not store.local_store_dir(tmp_path).exists()  # no local store made instead
    with pytest.raises(RunnerExecError, match="cannot be reached"):
        store.connect(tmp_path)


ENV_AFTER_START = """
import os, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from flows.cli import quiet_environment
quiet_environment()
import contracts.schemas  # a run validates its input first; pandera's import sets variables
at_start = dict(os.environ)
from spline_lstm.tracking import store
store.WarmUpJob(Path({artifacts!r})).run()
store.connect(Path({artifacts!r}))
print(sorted(set(os.environ.items()) ^ set(at_start.items())))
print(all(os.environ.get(name) == value for name, value in store.MLFLOW_DEFAULTS.items()))
"""


def test_mlflow_settings_are_set_at_the_start_and_tracking_adds_no_variable(tmp_path):
    """Adding an environment variable while TensorFlow's threads read the environment is
    unsafe, and the store opens in a warm-up thread during training: the entry point's
    start sets every MLflow default, so opening the store later writes none."""
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    script = ENV_AFTER_START.format(repo=str(Path(__file__).resolve().parents[3]),
                                    artifacts=str(tmp_path / "artifacts"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    changed, all_set = done.stdout.strip().splitlines()[-2:]
    assert changed == "[]" and all_set == "True"
