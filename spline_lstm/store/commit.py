"""Move a run's staged files into place so that the result is always one whole run.

The commit has three phases, each recorded in a journal before it starts:

1. ``backup``: the previous run of this run_id (an ``--overwrite``) moves aside into
   ``.staging/backup/{run_id}/``, completion evidence (metrics, metadata) first;
2. ``install``: the staged files move into their final places, evidence last;
3. ``done``: the backup and the journal are removed.

Every move is a rename inside ``--artifacts-dir``. If one fails (a read-only folder, a
cross-device move), the moves made so far are undone in reverse, so the previous run is
back exactly as it was. If the process dies instead, readers see the journal and refuse
the run, and the next run of this run_id finishes the commit: every staged file has
passed the health gate, and the previous run is still whole in the backup until then.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from contracts.artifacts import (
    STAGING_DIRNAME,
    ArtifactLayout,
    backup_root,
    commit_journal_path,
    staging_root,
)
from contracts.errors import RunnerExecError
from spline_lstm.store.atomic import write_json


def commit_in_progress(artifacts_dir: Path, run_id: str) -> bool:
    """True while a commit of ``run_id`` is under way or was interrupted."""
    return commit_journal_path(artifacts_dir, run_id).exists() or \
        _legacy_journal(artifacts_dir, run_id).exists()


def commit_run(artifacts_dir: Path, run_id: str) -> list[Path]:
    """Install the staged tree of ``run_id`` over its previous run; the final paths.

    Raises RUNNER_EXEC_ERROR (24) if a move fails, after putting the previous run back.
    """
    final = ArtifactLayout(Path(artifacts_dir), run_id)
    staged_root, backup = staging_root(artifacts_dir, run_id), backup_root(artifacts_dir, run_id)
    new = _evidence_last(final, sorted(str(p.relative_to(staged_root))
                                       for p in staged_root.rglob("*") if p.is_file()))
    previous = _evidence_first(final, sorted(
        {str(final.relative(p)) for p in final.existing_artifacts()} |
        {rel for rel in new if (final.root / rel).exists()}))
    journal = {"run_id": run_id, "files": new, "previous": previous}
    moved: list[tuple[Path, Path]] = []  # (from, to) of every move made, to undo them
    try:
        _write_journal(artifacts_dir, journal, "backup")
        _move(final.root, backup, previous, moved)
        _write_journal(artifacts_dir, journal, "install")
        _move(staged_root, final.root, new, moved)
        _write_journal(artifacts_dir, journal, "done")
    except (OSError, RunnerExecError) as exc:  # a move, or a journal write (24 already)
        _undo(artifacts_dir, run_id, moved, exc)
    _finish(artifacts_dir, run_id)
    return [final.root / rel for rel in new]


def finish_interrupted_commit(artifacts_dir: Path, run_id: str) -> bool:
    """Complete the commit a killed process left unfinished; True if there was one.

    Call with the run_id's lock held.
    """
    legacy = _legacy_journal(artifacts_dir, run_id)
    path = commit_journal_path(artifacts_dir, run_id)
    if not path.is_file() and not legacy.is_file():
        return False
    journal = _read_journal(path if path.is_file() else legacy)
    final = ArtifactLayout(Path(artifacts_dir), run_id)
    if path.is_file():
        staged_root = staging_root(artifacts_dir, run_id)
        if journal.get("phase") == "backup":  # no new file is in place yet
            _move(final.root, backup_root(artifacts_dir, run_id), journal.get("previous", []))
    else:  # written before private paths had their own folders (no backup phase)
        staged_root = Path(artifacts_dir) / STAGING_DIRNAME / run_id
    if journal.get("phase") != "done":
        _move(staged_root, final.root, journal["files"])  # the staged files not yet moved
    shutil.rmtree(staged_root, ignore_errors=True)
    legacy.unlink(missing_ok=True)
    _finish(artifacts_dir, run_id)
    return True


def _move(source_root: Path, target_root: Path, relative: list[str],
          done: list[tuple[Path, Path]] | None = None) -> None:
    """Rename each file present under ``source_root`` to ``target_root``, recording each
    move in ``done`` as soon as it is made (so a failure half-way can be undone)."""
    for rel in relative:
        src, dst = source_root / rel, target_root / rel
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            if done is not None:
                done.append((src, dst))


def _undo(artifacts_dir: Path, run_id: str, moved: list[tuple[Path, Path]],
          cause: Exception) -> None:
    """Reverse ``moved`` (newest first) and raise 24 saying whether that worked."""
    try:
        for src, dst in reversed(moved):
            src.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dst, src)
        _finish(artifacts_dir, run_id)  # the backup holds empty folders only by now
    except OSError as undo_exc:
        raise RunnerExecError(
            f"could not move the artifacts of {run_id!r} into {artifacts_dir} ({cause}), nor "
            f"put the previous files back ({undo_exc}). The previous run is intact under "
            f"{backup_root(artifacts_dir, run_id)} and the next run of this run_id "
            "completes the commit; fix the folder's permissions or free space first") \
            from cause
    why = cause.message if isinstance(cause, RunnerExecError) else cause
    raise RunnerExecError(
        f"could not move the artifacts of {run_id!r} into {artifacts_dir}: {why}. Nothing "
        "was committed and the previous run of this run_id (if any) is unchanged; fix the "
        "folder (permissions, free space, one filesystem) and re-run") from cause


def _finish(artifacts_dir: Path, run_id: str) -> None:
    shutil.rmtree(backup_root(artifacts_dir, run_id), ignore_errors=True)
    commit_journal_path(artifacts_dir, run_id).unlink(missing_ok=True)


def _evidence(final: ArtifactLayout) -> list[str]:
    return [str(final.relative(p)) for p in (final.metadata_json, final.metrics_json)]


def _evidence_last(final: ArtifactLayout, relative: list[str]) -> list[str]:
    """Mid-commit the new run is incomplete, never a mixed "complete" one."""
    evidence = _evidence(final)
    return [r for r in relative if r not in evidence] + [r for r in evidence if r in relative]


def _evidence_first(final: ArtifactLayout, relative: list[str]) -> list[str]:
    evidence = _evidence(final)
    return [r for r in evidence if r in relative] + [r for r in relative if r not in evidence]


def _write_journal(artifacts_dir: Path, journal: dict, phase: str) -> None:
    write_json(commit_journal_path(artifacts_dir, journal["run_id"]), {**journal, "phase": phase})


def _read_journal(path: Path) -> dict:
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(journal.get("files"), list):
            raise ValueError("no 'files' list")
        return journal
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise RunnerExecError(
            f"the commit journal {path} of an interrupted run is unreadable ({exc}); "
            "remove it and re-run with --overwrite") from None


def _legacy_journal(artifacts_dir: Path, run_id: str) -> Path:
    return Path(artifacts_dir) / STAGING_DIRNAME / f"{run_id}.commit.json"
