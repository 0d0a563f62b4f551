"""Where a run came from: git commit, package versions, command lines; the metadata record."""

from __future__ import annotations

import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from contracts.config import RunConfig, flag_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRACKED_PACKAGES = ("prefect", "numpy", "pandas", "scipy", "pyarrow", "pandera",
                    "tensorflow-cpu", "tensorflow", "keras", "statsforecast", "matplotlib")


def git_commit() -> str:
    """HEAD of the project checkout, with '+dirty' if it has local changes; else 'unavailable'."""
    try:
        sha = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return f"{sha}+dirty" if dirty else sha or "unavailable"


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def invoked_command() -> str:
    """The command line of this process, as typed."""
    return shlex.join([Path(sys.executable).name] + sys.argv) if sys.argv else ""


def reproduce_command(config: RunConfig, changes: dict[str, object] | None = None,
                      overwrite: bool = True) -> str:
    """A ``python flows/e2e.py`` command that reruns ``config`` (defaults omitted).

    changes: field -> value to apply first (a failure's fix); overwrite: whether the
    command needs --overwrite (it does where artifacts of this run_id exist).
    """
    defaults = RunConfig(run_id=config.run_id)
    changed = config.model_copy(update=changes or {})
    parts = ["python", "flows/e2e.py", "--run-id", config.run_id]
    for name in RunConfig.model_fields:
        if name in ("run_id", "overwrite"):
            continue
        value = getattr(changed, name)
        if value == getattr(defaults, name):
            continue
        if isinstance(value, bool):
            parts += [flag_name(name)] if value else []
        elif isinstance(value, list):
            parts += [flag_name(name), *map(str, value)]
        else:
            parts += [flag_name(name), str(value)]
    if overwrite:
        parts.append("--overwrite")
    return shlex.join(parts)


def metadata_record(config: RunConfig, *, source: str, start_time: str, end_time: str,
                    git_commit_sha: str | None = None) -> dict:
    """metadata/{run_id}.json (SPEC §3): where the run came from and how to repeat it."""
    return {
        "run_id": config.run_id,
        "git_commit": git_commit_sha or git_commit(),
        "seed": config.seed,
        "package_versions": package_versions(),
        "command": invoked_command(),
        "reproduce_command": reproduce_command(config),
        "config": config.model_dump(),
        "input": source,
        "start_time": start_time,
        "end_time": end_time,
    }
