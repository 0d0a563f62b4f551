from pathlib import Path

import pytest

from contracts.errors import InvalidArgumentError, RunnerExecError
from spline_lstm.store.atomic import write_json, write_text
from spline_lstm.store.workspace import RunWorkspace


def test_commit_moves_staged_files_into_place_and_removes_staging(tmp_path):
    ws = RunWorkspace(tmp_path, "r1")
    ws.open(overwrite=False)
    write_json(ws.staged.metrics_json, {"run_id": "r1"})
    write_text(ws.staged.report_md, "# report")
    committed = ws.commit()
    ws.close()
    assert ws.final.metrics_json in committed and ws.final.metrics_json.exists()
    assert committed[-1] == ws.final.metrics_json  # completion evidence goes last
    assert not ws.staged.root.exists()


def test_an_existing_run_is_not_overwritten_without_permission(tmp_path):
    write_json(RunWorkspace(tmp_path, "r1").final.metrics_json, {"run_id": "r1"})
    ws = RunWorkspace(tmp_path, "r1")
    with pytest.raises(InvalidArgumentError) as caught:
        ws.open(overwrite=False)
    assert "already has artifacts" in caught.value.message and "--overwrite" in caught.value.message
    ws.open(overwrite=True)  # the lock was released by the failed attempt
    ws.close()


def test_a_second_writer_of_the_same_run_id_fails_fast(tmp_path):
    first, second = RunWorkspace(tmp_path, "r1"), RunWorkspace(tmp_path, "r1")
    first.open(overwrite=False)
    try:
        with pytest.raises(RunnerExecError, match="being written right now"):
            second.open(overwrite=False)
    finally:
        first.close()
    second.open(overwrite=False)
    second.close()


def test_overwrite_replaces_old_files_and_drops_stale_ones(tmp_path):
    old = RunWorkspace(tmp_path, "r1")
    old.open(overwrite=False)
    write_text(old.staged.forecast_png, "old plot")
    write_json(old.staged.metrics_json, {"v": 1})
    old.commit()
    old.close()
    new = RunWorkspace(tmp_path, "r1")
    new.open(overwrite=True)
    write_json(new.staged.metrics_json, {"v": 2})
    new.commit()
    new.close()
    assert new.final.metrics_json.read_text().count('"v": 2') == 1
    assert not new.final.forecast_png.exists()


def test_discard_leaves_the_previous_run_untouched(tmp_path):
    good = RunWorkspace(tmp_path, "r1")
    good.open(overwrite=False)
    write_json(good.staged.metrics_json, {"v": "good"})
    good.commit()
    good.close()
    failing = RunWorkspace(tmp_path, "r1")
    failing.open(overwrite=True)
    write_json(failing.staged.metrics_json, {"v": "bad"})
    failing.discard()
    failing.close()
    assert '"good"' in good.final.metrics_json.read_text()


def test_a_lock_taken_on_an_orphaned_lock_file_is_dropped_and_taken_again(tmp_path, monkeypatch):
    """A waiter that opened the lock file before its holder unlinked it must not keep a lock
    on that orphaned file while a newcomer locks the fresh one: two writers at once."""
    import os

    from contracts.artifacts import lock_path
    from spline_lstm.store import workspace as workspace_module

    holder = RunWorkspace(tmp_path, "r1")
    holder.open(overwrite=False)
    stale = os.open(lock_path(tmp_path, "r1"), os.O_RDWR)  # opened while the holder holds it
    holder.close()  # unlinks the file, then releases it
    real_open, handed = os.open, []

    def open_stale_first(path, flags, mode=0o777):
        if not handed and Path(path) == lock_path(tmp_path, "r1"):
            handed.append(stale)
            return stale
        return real_open(path, flags, mode)

    monkeypatch.setattr(workspace_module.os, "open", open_stale_first)
    waiter = RunWorkspace(tmp_path, "r1")
    waiter.open(overwrite=False)  # locks the orphan first, notices, locks the real file
    monkeypatch.undo()
    assert handed == [stale]
    newcomer = RunWorkspace(tmp_path, "r1")
    with pytest.raises(RunnerExecError, match="being written right now"):
        newcomer.open(overwrite=False)
    assert os.fstat(waiter._lock_fd).st_ino == os.stat(lock_path(tmp_path, "r1")).st_ino
    waiter.close()


def test_threads_of_one_process_checking_the_artifacts_dir_at_once_all_pass(tmp_path):
    # The many-series flow runs its series in threads of one process, and each run checks
    # --artifacts-dir on opening. A probe file named by the process alone was removed by
    # one thread under another, which then refused a good directory with 20.
    import threading

    from spline_lstm.store.workspace import check_artifacts_dir

    start, refused = threading.Barrier(8), []

    def check_many_times():
        start.wait()
        for _ in range(300):
            try:
                check_artifacts_dir(tmp_path / "artifacts")
            except InvalidArgumentError as exc:
                refused.append(exc.message)

    threads = [threading.Thread(target=check_many_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == []
    assert list((tmp_path / "artifacts").iterdir()) == []  # no probe left behind
