"""The commit never damages the previous run: a failed move is undone, a killed commit is
finished by the next run, and private paths cannot collide with any run_id."""

import os

import pytest

from contracts.artifacts import (
    ArtifactLayout,
    backup_root,
    commit_journal_path,
    scratch_root,
    staging_root,
)
from contracts.errors import RunnerExecError
from spline_lstm.store import commit as commit_module
from spline_lstm.store.commit import commit_in_progress, finish_interrupted_commit
from spline_lstm.store.workspace import RunWorkspace


def _write_run(root, layout: ArtifactLayout, tag: str) -> dict:
    """Every SPEC file of a run, each holding ``tag`` and its own name."""
    files = {}
    for path in layout.required_artifacts() + layout.optional_artifacts():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{tag} {path.name}")
        files[str(path.relative_to(root))] = path.read_bytes()
    return files


def _tree(root) -> dict:
    """Every file under ``root`` but the private ones, by relative path."""
    files = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}
    return {rel: p.read_bytes() for rel, p in files.items()
            if not rel.startswith((".staging", ".locks"))}


def _staged_rerun(tmp_path) -> RunWorkspace:
    _write_run(tmp_path, ArtifactLayout(tmp_path, "r"), "old")
    ws = RunWorkspace(tmp_path, "r")
    ws.open(overwrite=True)
    _write_run(ws.staged.root, ws.staged, "new")
    return ws


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs in the dying process."""


# 3 journal writes (each a rename), the previous run's 12 files aside, the new run's 12 in
N_MOVES = 3 + 2 * 12


@pytest.mark.parametrize("failing_move", range(1, N_MOVES + 1))
def test_a_failed_overwrite_leaves_the_previous_run_exactly_as_it_was(tmp_path, monkeypatch,
                                                                      failing_move):
    ws = _staged_rerun(tmp_path)
    before, real, moves = _tree(tmp_path), os.replace, []

    def replace(src, dst):
        moves.append(dst)
        if len(moves) == failing_move:
            raise OSError(18, "Invalid cross-device link")  # EXDEV, or a read-only folder
        return real(src, dst)

    monkeypatch.setattr(commit_module.os, "replace", replace)
    with pytest.raises(RunnerExecError, match="previous run of this run_id .* is unchanged"):
        ws.commit()
    ws.discard()
    ws.close()
    assert _tree(tmp_path) == before  # byte for byte, every file
    assert not commit_in_progress(tmp_path, "r")
    assert not backup_root(tmp_path, "r").exists()


@pytest.mark.parametrize("killed_at", range(1, N_MOVES + 1))
def test_a_commit_killed_at_any_move_is_finished_by_the_next_run(tmp_path, monkeypatch,
                                                                 killed_at):
    ws = _staged_rerun(tmp_path)
    old, new = _tree(tmp_path), _tree(ws.staged.root)
    real, moves = os.replace, []

    def replace(src, dst):
        moves.append(dst)
        if len(moves) == killed_at:
            raise _Killed
        return real(src, dst)

    monkeypatch.setattr(commit_module.os, "replace", replace)
    with pytest.raises(_Killed):
        ws.commit()
    monkeypatch.undo()
    if killed_at == 1:  # before the journal exists: nothing was moved, nothing to finish
        assert not commit_in_progress(tmp_path, "r") and _tree(tmp_path) == old
        return
    assert commit_in_progress(tmp_path, "r")  # readers refuse the half-moved run
    assert finish_interrupted_commit(tmp_path, "r")  # what the next run's open() does
    assert _tree(tmp_path) == new and not commit_in_progress(tmp_path, "r")
    assert not backup_root(tmp_path, "r").exists() and not staging_root(tmp_path, "r").exists()


@pytest.mark.parametrize("other", ["X.scratch", "X.commit.json", "scratch", "runs", "X.json"])
def test_no_private_path_of_one_run_is_a_path_of_another(tmp_path, other):
    def private(run_id):
        return {staging_root(tmp_path, run_id), scratch_root(tmp_path, run_id),
                backup_root(tmp_path, run_id), commit_journal_path(tmp_path, run_id)}

    mine, theirs = private("X"), private(other)
    assert not mine & theirs
    assert not any(a in b.parents or b in a.parents for a in mine for b in theirs)


def test_starting_a_run_never_touches_the_staged_files_of_another(tmp_path):
    other = RunWorkspace(tmp_path, "X.scratch")
    other.open(overwrite=False)
    other.staged.metrics_json.parent.mkdir(parents=True, exist_ok=True)
    other.staged.metrics_json.write_text("{}")
    mine = RunWorkspace(tmp_path, "X")
    mine.open(overwrite=False)
    mine.discard()
    assert other.staged.metrics_json.exists()
    mine.close()
    other.close()
