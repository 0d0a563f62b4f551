"""One registered model per series, with aliases ``candidate``, ``champion``, ``rollback``.

Every alias move is written twice: as tags on the version it lands on, and as an
append-only audit entry on the registered model (tags ``audit.000001``, ... — they live in
the registry itself, so every client of a shared server sees the same history).
Operations on one model are serialised by a lock file; the champion alias is only ever
moved, never deleted, so a crash between two steps leaves a champion in place.
"""

from __future__ import annotations

import fcntl
import functools
import getpass
import json
import os
import socket
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from contracts.errors import InputFileNotFoundError, InvalidArgumentError, PipelineError
from contracts.run_id import validate_run_id
from spline_lstm.tracking import store
from spline_lstm.tracking.promotion import Decision, decide, score_side_by_side

CANDIDATE, CHAMPION, ROLLBACK = "candidate", "champion", "rollback"
AUDIT_PREFIX = "audit."
RUN_ID_TAG = "spline.run_id"


def validate_model_name(name: str) -> str:
    """Model names follow the run_id rule (they name files and URLs)."""
    try:
        return validate_run_id(name)
    except PipelineError as exc:
        raise InvalidArgumentError(
            f"model name {name!r} is not allowed: use 1-128 of A-Z a-z 0-9 . _ -, starting "
            "with a letter or digit") from exc


@functools.cache
def actor() -> str:
    """Who moves an alias when the caller does not say: SPLINE_ACTOR, else user@host."""
    explicit = os.environ.get("SPLINE_ACTOR", "").strip()
    if explicit:
        return explicit
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@contextmanager
def model_lock(artifacts_dir: Path, name: str) -> Iterator[None]:
    """Serialise registry changes of ``name`` on this host (promotions, rollbacks)."""
    folder = store.local_store_dir(artifacts_dir) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def get_model(client, name: str):
    from mlflow.exceptions import MlflowException

    name = validate_model_name(name)
    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code) or "not found" in str(exc).lower():
            known = [m.name for m in client.search_registered_models(max_results=50)]
            raise InputFileNotFoundError(
                f"registered model {name!r} does not exist; known: "
                f"{', '.join(known) or 'none yet (a run that passes its gate registers one)'}"
            ) from exc
        raise


def get_version(client, name: str, version: int | str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, str(int(version)))
    except (MlflowException, ValueError) as exc:
        raise InputFileNotFoundError(
            f"model {name!r} has no version {version!r}; `spline-lstm models show {name}` "
            "lists its versions") from exc


def alias_version(client, name: str, alias: str) -> str | None:
    model = get_model(client, name)
    version = (model.aliases or {}).get(alias)
    return str(version) if version is not None else None


def register(client, name: str, model_uri: str, run_id: str, mlflow_run_id: str,
             artifacts_dir: Path, who: str | None = None) -> str:
    """A new version of ``name`` from ``model_uri``, aliased ``candidate``; its number."""
    from mlflow.exceptions import MlflowException

    name = validate_model_name(name)
    with model_lock(artifacts_dir, name):
        try:
            client.create_registered_model(
                name, description=f"Forecasts of series {name!r} (Spline-LSTM).")
        except MlflowException as exc:
            if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
                raise
        existing = client.search_model_versions(f"name = '{name}' and run_id = '{mlflow_run_id}'")
        if existing:  # a back-fill or retry: never two versions of one run
            version = str(existing[0].version)
        else:
            version = str(client.create_model_version(
                name, model_uri, run_id=mlflow_run_id, tags={RUN_ID_TAG: run_id}).version)
        if alias_version(client, name, CHAMPION) != version:
            _move(client, name, CANDIDATE, version, who or actor(),
                  f"run {run_id} passed its health gate", action="register")
    return version


def promote(client, name: str, artifacts_dir: Path, *, version: str | None = None,
            force: bool = False, reason: str | None = None, who: str | None = None,
            load_run=None) -> dict:
    """Apply the promotion policy to the candidate (or ``version``); return what happened.

    ``force`` promotes without comparing and needs a ``reason``.
    """
    name = validate_model_name(name)
    if force and not (reason or "").strip():
        raise InvalidArgumentError(f"promoting {name!r} with --force needs --reason \"why\"")
    who = who or actor()
    load_run = load_run or (lambda v: load_version(client, name, v))
    with model_lock(artifacts_dir, name):
        get_model(client, name)
        target = str(version) if version is not None else alias_version(client, name, CANDIDATE)
        if target is None:
            raise InvalidArgumentError(
                f"model {name!r} has no candidate to promote: a run that passes its gate "
                "registers one; or name a version with --version")
        get_version(client, name, target)
        champion = alias_version(client, name, CHAMPION)
        if champion == target:
            raise InvalidArgumentError(f"version {target} is already the champion of {name!r}")
        if force:
            decision = Decision(True, f"forced: {reason.strip()}", None)
        else:
            decision = decide(score_side_by_side(
                load_run(target), load_run(champion) if champion else None))
        scores = decision.scores.to_dict() if decision.scores else None
        if not decision.promote:
            client.set_model_version_tag(name, target, "spline.promotion", "held")
            client.set_model_version_tag(name, target, "spline.promotion_reason",
                                         decision.reason[:5000])
            _audit(client, name, {"action": "hold", "version": target, "by": who,
                                  "why": decision.reason, "scores": scores})
            return {"model": name, "promoted": False, "version": target, "champion": champion,
                    "reason": decision.reason, "scores": scores}
        why = decision.reason if not reason or force else f"{decision.reason}; {reason.strip()}"
        if champion is not None:  # first: the old champion stays reachable
            _move(client, name, ROLLBACK, champion, who, f"replaced by version {target}",
                  action="promote")
        _move(client, name, CHAMPION, target, who, why, action="promote", previous=champion,
              scores=scores)
        if alias_version(client, name, CANDIDATE) == target:
            client.delete_registered_model_alias(name, CANDIDATE)
        client.set_model_version_tag(name, target, "spline.promotion", "promoted")
        client.set_model_version_tag(name, target, "spline.promotion_reason", why[:5000])
    return {"model": name, "promoted": True, "version": target, "champion": target,
            "previous_champion": champion, "reason": why, "scores": scores}


def rollback(client, name: str, artifacts_dir: Path, *, reason: str | None = None,
             who: str | None = None) -> dict:
    """Swap ``champion`` and ``rollback`` in one step."""
    name = validate_model_name(name)
    who = who or actor()
    with model_lock(artifacts_dir, name):
        get_model(client, name)
        previous, champion = alias_version(client, name, ROLLBACK), \
            alias_version(client, name, CHAMPION)
        if previous is None or champion is None:
            raise InvalidArgumentError(
                f"model {name!r} has no previous champion to roll back to (no 'rollback' "
                "alias): only a model promoted at least twice can roll back")
        why = (reason or "").strip() or "rollback requested"
        _move(client, name, CHAMPION, previous, who, why, action="rollback", previous=champion)
        _move(client, name, ROLLBACK, champion, who, why, action="rollback")
    return {"model": name, "champion": previous, "rollback": champion, "reason": why}


def history(client, name: str) -> list[dict]:
    """Every alias move of ``name``, oldest first."""
    model = get_model(client, name)
    entries = [(key, value) for key, value in (model.tags or {}).items()
               if key.startswith(AUDIT_PREFIX)]
    return [json.loads(value) for _, value in sorted(entries)]


def describe(client, name: str) -> dict:
    model = get_model(client, name)
    aliases = {alias: str(version) for alias, version in (model.aliases or {}).items()}
    versions = []
    for v in sorted(client.search_model_versions(f"name = '{name}'"),
                    key=lambda v: int(v.version)):
        versions.append({"version": str(v.version), "run_id": (v.tags or {}).get(RUN_ID_TAG),
                         "mlflow_run_id": v.run_id,
                         "aliases": sorted(a for a, n in aliases.items() if n == str(v.version)),
                         "promotion": (v.tags or {}).get("spline.promotion"),
                         "reason": (v.tags or {}).get("spline.promotion_reason"),
                         "created": _iso(v.creation_timestamp)})
    return {"model": name, "aliases": aliases, "versions": versions}


def list_models(client) -> list[dict]:
    return [{"model": m.name, "aliases": {a: str(v) for a, v in (m.aliases or {}).items()}}
            for m in sorted(client.search_registered_models(max_results=1000),
                            key=lambda m: m.name)]


@contextmanager
def downloaded_version(client, name: str, version: str) -> Iterator[tuple[Path, str]]:
    """(folder of the run's bundled files, run_id) of a registered version, downloaded from
    the registry's copy into a temporary folder that is removed on leaving: read what you
    need inside. (Kept, the downloads grew a server's temporary folder by one copy of the
    run's files for every version it loaded and every promotion's comparison.)"""
    import mlflow

    model_version = get_version(client, name, version)
    run_id = (model_version.tags or {}).get(RUN_ID_TAG)
    with tempfile.TemporaryDirectory(prefix=f"spline-{name}-v{version}-") as folder:
        # Resolved by this client: a "models:/" URI would be looked up in MLflow's
        # process-wide registry, which ``store.connect`` leaves unset.
        source = client.get_model_version_download_uri(name, str(model_version.version))
        local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=folder,
                                                    tracking_uri=client.tracking_uri)
        yield Path(local) / "artifacts" / "run", run_id


def load_version(client, name: str, version: str):
    """The ``RunModel`` of a registered version, held in memory (its download is removed)."""
    from spline_lstm.tracking.run_model import RunModel

    with downloaded_version(client, name, version) as (folder, run_id):
        return RunModel.load(folder, run_id)


def _move(client, name: str, alias: str, version: str, who: str, why: str, *, action: str,
          previous: str | None = None, scores: dict | None = None) -> None:
    """Point ``alias`` at ``version`` (one registry call) and write who/when/why."""
    if previous is None:
        previous = alias_version(client, name, alias)
    client.set_registered_model_alias(name, alias, version)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_model_version_tag(name, version, f"spline.{alias}_since", now)
    client.set_model_version_tag(name, version, f"spline.{alias}_by", who)
    _audit(client, name, {"action": action, "alias": alias, "from_version": previous,
                          "to_version": version, "by": who, "why": why, "scores": scores},
           now)


def _audit(client, name: str, entry: dict, at: str | None = None) -> None:
    model = client.get_registered_model(name)
    sequence = 1 + sum(1 for key in (model.tags or {}) if key.startswith(AUDIT_PREFIX))
    entry = {"seq": sequence,
             "at": at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
             **{k: v for k, v in entry.items() if v is not None}}
    client.set_registered_model_tag(name, f"{AUDIT_PREFIX}{sequence:06d}",
                                    json.dumps(entry)[:5000])


def _iso(millis: int | None) -> str | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, timezone.utc).isoformat(timespec="seconds")
