"""A run's private workspace: a lock, a staging tree, and the commit into place.

Stages write into ``{artifacts}/.staging/runs/{run_id}/`` (same layout as the final
tree). Only after the health gate passes on the staged tree are the files moved into
their final places (store/commit.py: journaled, undone on failure). So a failed or
killed run never leaves artifacts that the gate or a consume-path run would accept, and
never damages a previous good run of the same run_id.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contracts.artifacts import (
    ARTIFACT_DIRNAMES,
    LOCKS_DIRNAME,
    LOGS_DIRNAME,
    STAGING_DIRNAME,
    ArtifactLayout,
    lock_path,
    scratch_root,
    staging_root,
)
from contracts.errors import (
    ArtifactContractError,
    InvalidArgumentError,
    RunnerExecError,
)
from spline_lstm.store.commit import commit_run, finish_interrupted_commit

LOCK_ATTEMPTS = 20  # a lock file replaced under us this often means heavy contention


def check_artifacts_dir(artifacts_dir: Path) -> None:
    """Refuse (20) an --artifacts-dir that is not a directory this process can write in.

    Checked by writing: permissions, read-only mounts and pseudo file systems (/sys,
    /proc) all answer the same question. Creates the directory if it is missing.
    """
    path = Path(artifacts_dir)
    if path.exists() and not path.is_dir():
        raise InvalidArgumentError(
            f"--artifacts-dir {path} is a file, not a directory; choose a directory (it is "
            "created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A probe of its own: runs in other threads of this process (the many-series
        # flow) check the same directory at the same moment.
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidArgumentError(
            f"--artifacts-dir {path} is not a directory this process can write in "
            f"({exc.strerror or exc}); choose a writable directory") from None


def ensure_contained(artifacts_dir: Path, run_id: str) -> None:
    """Refuse (22) an artifacts tree whose directories or run files lead outside it.

    A symlink such as ``artifacts/metrics -> /etc`` would make every write of a run land
    elsewhere; the run stops before writing anything.
    """
    root = Path(artifacts_dir).resolve()
    layout = ArtifactLayout(Path(artifacts_dir), run_id)
    candidates = [Path(artifacts_dir) / name for name in
                  (*ARTIFACT_DIRNAMES, STAGING_DIRNAME, LOCKS_DIRNAME, LOGS_DIRNAME)]
    candidates += [layout.processed_dir, layout.models_dir, layout.checkpoints_dir,
                   *layout.required_artifacts(), *layout.optional_artifacts()]
    for path in candidates:
        if path.is_symlink() or path.exists():
            target = path.resolve()
            if target != root and root not in target.parents:
                raise ArtifactContractError(
                    f"{path} leads to {target}, outside --artifacts-dir {root}; artifacts "
                    "must stay inside it. Remove the link or choose another --artifacts-dir")


@dataclass
class RunWorkspace:
    artifacts_dir: Path
    run_id: str
    recovered: bool = False  # open() finished an interrupted commit of this run_id
    _lock_fd: int | None = None

    def __post_init__(self) -> None:
        self.artifacts_dir = Path(self.artifacts_dir)

    @property
    def final(self) -> ArtifactLayout:
        return ArtifactLayout(self.artifacts_dir, self.run_id)

    @property
    def staged(self) -> ArtifactLayout:
        return self.final.rebased(staging_root(self.artifacts_dir, self.run_id))

    @property
    def scratch(self) -> Path:
        """Working files that are never committed (e.g. models of rejected candidates)."""
        return scratch_root(self.artifacts_dir, self.run_id)

    # ---------------------------------------------------------------- lifecycle
    def open(self, *, overwrite: bool, keep: tuple[Path, ...] = ()) -> None:
        """Lock the run_id, refuse to clobber an existing run, start a clean staging tree.

        keep: final artifacts this run reads and re-commits unchanged (consume path);
        they do not count as existing artifacts.
        """
        check_artifacts_dir(self.artifacts_dir)
        ensure_contained(self.artifacts_dir, self.run_id)
        self._acquire_lock()
        try:
            self.recovered = finish_interrupted_commit(self.artifacts_dir, self.run_id)
            existing = [p for p in self.final.existing_artifacts() if p not in keep]
            if existing and not overwrite:
                shown = ", ".join(str(self.final.relative(p)) for p in existing[:4])
                raise InvalidArgumentError(
                    f"run_id {self.run_id!r} already has artifacts under {self.artifacts_dir} "
                    f"({shown}{', ...' if len(existing) > 4 else ''}); choose a new --run-id "
                    "or pass --overwrite to replace them")
            self.discard()  # leftovers of a killed run
            self.staged.root.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self.close()
            raise

    def stage_copy(self, source: Path, destination: Path) -> None:
        """Put an existing artifact into the staging tree (hard link when possible)."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    def commit(self) -> list[Path]:
        """Move every staged file into place (see store/commit.py); the final paths."""
        committed = commit_run(self.artifacts_dir, self.run_id)
        self.discard()
        return committed

    def discard(self) -> None:
        shutil.rmtree(self.staged.root, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def close(self) -> None:
        """Release the lock (removing the lock file first, while still holding it)."""
        if self._lock_fd is None:
            return
        lock_path(self.artifacts_dir, self.run_id).unlink(missing_ok=True)
        os.close(self._lock_fd)
        self._lock_fd = None

    def _acquire_lock(self) -> None:
        path = lock_path(self.artifacts_dir, self.run_id)
        for _attempt in range(LOCK_ATTEMPTS):
            fd = self._open_lock_file(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise RunnerExecError(
                    f"run_id {self.run_id!r} is being written right now by pid {holder}; wait "
                    "for it to finish or use another --run-id", quiet=True) from None
            # The holder unlinks the file before releasing it: a lock taken on a file that is
            # no longer (or no more) at ``path`` guards nothing, since a newcomer locks a fresh
            # file there. Keep the lock only if ``path`` is still the file we locked.
            if _same_file(fd, path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._lock_fd = fd
                return
            os.close(fd)
        raise RunnerExecError(
            f"could not lock run_id {self.run_id!r}: its lock file {path} kept being replaced "
            "by other processes; retry in a moment")

    def _open_lock_file(self, path: Path) -> int:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunnerExecError(
                f"cannot create files under --artifacts-dir {self.artifacts_dir}: "
                f"{exc.strerror or exc}; make it writable or choose another directory") from exc


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
