"""Killed runs, failing re-runs, concurrent runs, full or unwritable disks, escaping paths."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from contracts.artifacts import ArtifactLayout, commit_journal_path, staging_root
from flows import health
from flows.e2e import main
from spline_lstm.store.processed_io import read_processed
from spline_lstm.store.workspace import RunWorkspace
from tests.helpers import FAST_FLAGS, make_series, read_error_line

pytestmark = pytest.mark.flow
REPO = Path(__file__).resolve().parents[2]
# Long enough to be killed mid-training; the transform is fixed so training starts at once.
SLOW_FLAGS = ["--epochs", "400", "--patience", "400", "--hidden-units", "16",
              "--synthetic-points", "1500", "--power", "none", "--seasonal-difference", "0",
              "--baselines", "simple"]


def _env() -> dict:
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}


def _cli(run_id: str, artifacts: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "flows/e2e.py", "--run-id", run_id,
                             "--artifacts-dir", str(artifacts), *flags],
                            cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _digest(layout: ArtifactLayout) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in layout.existing_artifacts()}


def _gate_code(artifacts: Path, run_id: str) -> int:
    return health.main(["--run-id", run_id, "--artifacts-dir", str(artifacts)])


def test_sigkill_during_training_leaves_nothing_that_is_accepted(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    layout = ArtifactLayout(artifacts, "killed")
    proc = _cli("killed", artifacts, *SLOW_FLAGS)
    # training creates the run's checkpoint folder when it starts (and writes into it when
    # it ends)
    training = staging_root(artifacts, "killed") / "checkpoints" / "killed"
    deadline = time.time() + 240
    while not training.is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    assert training.is_dir(), proc.communicate()[1][-2000:]
    time.sleep(1)  # a few epochs in
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    assert layout.existing_artifacts() == []
    assert _gate_code(artifacts, "killed") == 30
    with pytest.raises(Exception) as refused:
        read_processed(layout.processed_npz, "killed")
    assert getattr(refused.value, "exit_code", None) == 21
    # the same run_id runs cleanly afterwards: the dead run's staging is cleared
    assert main(["--run-id", "killed", "--artifacts-dir", str(artifacts), *FAST_FLAGS]) == 0
    assert _gate_code(artifacts, "killed") == 0
    assert not staging_root(artifacts, "killed").exists()


KILL_MID_COMMIT = textwrap.dedent("""
    import os, signal, sys, types
    sys.path.insert(0, {repo!r})
    import spline_lstm.store.commit as commit
    moves = []
    def replace(src, dst):
        moves.append(dst)
        if len(moves) == 6:  # halfway through moving the run's files into place
            os.kill(os.getpid(), signal.SIGKILL)
        return os.replace(src, dst)
    commit.os = types.SimpleNamespace(**{{n: getattr(os, n) for n in dir(os) if not n.startswith("__")}})
    commit.os.replace = replace
    from flows.e2e import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigkill_during_the_commit_is_refused_then_completed(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    layout = ArtifactLayout(artifacts, "half")
    script = tmp_path / "kill_mid_commit.py"
    script.write_text(KILL_MID_COMMIT.format(repo=str(REPO)))
    proc = subprocess.run([sys.executable, str(script), "--run-id", "half", "--artifacts-dir",
                           str(artifacts), *FAST_FLAGS], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert commit_journal_path(artifacts, "half").exists()
    assert not layout.metrics_json.exists()  # completion evidence is moved last

    assert _gate_code(artifacts, "half") == 30
    with pytest.raises(Exception) as refused:
        read_processed(layout.processed_npz, "half")
    assert getattr(refused.value, "exit_code", None) in (21, 22)

    # The next run with this run_id finishes the interrupted move, then refuses to
    # overwrite the now complete run without --overwrite.
    code = main(["--run-id", "half", "--artifacts-dir", str(artifacts), *FAST_FLAGS])
    assert code == 20
    assert not commit_journal_path(artifacts, "half").exists()
    assert _gate_code(artifacts, "half") == 0


def test_a_failing_rerun_never_modifies_the_previous_good_run(prefect_harness, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    layout = ArtifactLayout(artifacts, "keep")
    assert main(["--run-id", "keep", "--artifacts-dir", str(artifacts), *FAST_FLAGS]) == 0
    before = _digest(layout)
    bad = make_series(100).astype({"target": object})
    bad.loc[4, "target"] = "broken"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code = main(["--run-id", "keep", "--artifacts-dir", str(artifacts), "--overwrite",
                 "--input", str(tmp_path / "bad.csv"), *FAST_FLAGS])
    assert code == 25
    assert _digest(layout) == before
    assert _gate_code(artifacts, "keep") == 0


def test_the_same_run_id_twice_at_once_fails_fast(prefect_harness, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    holder = RunWorkspace(artifacts, "busy")
    holder.open(overwrite=False)
    try:
        started = time.time()
        code = main(["--run-id", "busy", "--artifacts-dir", str(artifacts), *FAST_FLAGS])
        payload = read_error_line(capsys.readouterr().err)
    finally:
        holder.close()
    assert code == 24 and time.time() - started < 60
    assert f"pid {os.getpid()}" in payload["error"]["message"]
    assert "being written right now" in payload["error"]["message"]


def test_two_run_ids_in_parallel_do_not_touch_each_other(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    procs = {rid: _cli(rid, artifacts, *FAST_FLAGS) for rid in ("left", "right")}
    for rid, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    for rid in procs:
        assert _gate_code(artifacts, rid) == 0
        layout = ArtifactLayout(artifacts, rid)
        for path in layout.existing_artifacts():
            assert rid in str(path)
        other = "right" if rid == "left" else "left"
        assert other not in layout.metrics_json.read_text()


def test_an_unusable_artifacts_dir_is_a_clean_20_before_anything_starts(tmp_path, capfd):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the artifacts directory should be")
    for where in (blocker, blocker / "below-a-file", Path("/proc/1/no-such-dir")):
        code = main(["--run-id", "nowhere", "--artifacts-dir", str(where), *FAST_FLAGS])
        out, err = capfd.readouterr()
        assert code == 20 and "Traceback" not in err, err[-2000:]
        assert f"--artifacts-dir {where}" in read_error_line(err)["error"]["message"]


def test_a_full_disk_is_a_clean_coded_error_and_leaves_no_run(prefect_harness, tmp_path):
    artifacts = tmp_path / "artifacts"
    limit = textwrap.dedent("""
        import resource, signal, sys
        sys.path.insert(0, {repo!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
        from flows.e2e import main
        sys.exit(main(sys.argv[1:]))
    """).format(repo=str(REPO))
    proc = subprocess.run([sys.executable, "-c", limit, "--run-id", "full", "--artifacts-dir",
                           str(artifacts), *FAST_FLAGS, "--synthetic-points", "3000"],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    payload = read_error_line(proc.stderr)
    assert proc.returncode in (24, 31) and payload["exit_code"] == proc.returncode
    assert "space" in payload["error"]["message"] or "File too large" in payload["error"]["message"]
    assert ArtifactLayout(artifacts, "full").existing_artifacts() == []


def test_symlinks_leading_out_of_the_artifacts_dir_are_refused(prefect_harness, tmp_path, capsys):
    artifacts, outside = tmp_path / "artifacts", tmp_path / "outside"
    artifacts.mkdir()
    outside.mkdir()
    (artifacts / "metrics").symlink_to(outside, target_is_directory=True)
    code = main(["--run-id", "escape", "--artifacts-dir", str(artifacts), *FAST_FLAGS])
    payload = read_error_line(capsys.readouterr().err)
    assert code == 22 and "outside --artifacts-dir" in payload["error"]["message"]
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("run_id", ["../x", "/etc/passwd", "a/../../b", "..", "x/y"])
def test_run_ids_cannot_name_paths(tmp_path, capsys, run_id):
    artifacts = tmp_path / "artifacts"
    assert main(["--run-id", run_id, "--artifacts-dir", str(artifacts)]) == 20
    assert not artifacts.exists()
