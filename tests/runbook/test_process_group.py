"""scripts/process_group.sh: `down` returns only once the server's whole process group is
gone, so its port is free when the next command looks (a test once found it still open)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bash(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"source {REPO}/scripts/process_group.sh\n{script}"],
                          capture_output=True, text=True, timeout=60)


def test_kill_group_returns_once_every_process_of_the_group_has_ended(tmp_path):
    # a leader that ignores SIGTERM and a child of its own, both in a new session; the
    # leader says when both are set up (a busy machine may take a while to get there)
    ready = tmp_path / "ready"
    done = _bash(f"""
        setsid bash -c 'trap "" TERM; sleep 60 & touch {ready}; wait' & pgid=$!
        for _ in $(seq 1 100); do [ -e {ready} ] && break; sleep 0.1; done
        group_alive "$pgid" && echo "alive before"
        kill -TERM -- "-$pgid"; sleep 0.2
        group_alive "$pgid" && echo "alive after TERM"
        kill_group "$pgid" && echo "killed"
        group_alive "$pgid" || echo "gone"
        for stat in /proc/[0-9]*/stat; do
          fields=($(sed 's/.*) //' "$stat" 2>/dev/null)); [ "${{fields[2]:-}}" = "$pgid" ] \
            && [ "${{fields[0]}}" != Z ] && echo "left: $stat"
        done; true
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["alive before", "alive after TERM", "killed", "gone"]
    assert "left:" not in done.stdout


def test_group_alive_is_false_for_a_group_that_never_existed():
    done = _bash('group_alive 999999999 && echo alive || echo none')
    assert done.stdout.strip() == "none"
