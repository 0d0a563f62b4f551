"""The failure card of a run: what failed, why, what to do (the runbook section of its code)."""

from __future__ import annotations

import re
from pathlib import Path

from contracts.errors import PipelineError

RUNBOOK = Path(__file__).resolve().parents[2] / "runbook" / "README.md"
_FALLBACK = "See runbook/README.md, section 'Exit codes', for the cause and the fix."


def runbook_section(error: PipelineError, runbook: Path = RUNBOOK) -> str:
    """The runbook text under the heading naming ``error``'s exit code and code name."""
    try:
        text = runbook.read_text(encoding="utf-8")
    except OSError:
        return _FALLBACK
    heading = re.compile(rf"^(#+)\s.*\b{error.exit_code}\b.*\b{error.code.value}\b.*$", re.M)
    match = heading.search(text)
    if not match:
        return _FALLBACK
    level = len(match.group(1))
    rest = text[match.end():]
    following = re.search(rf"^#{{1,{level}}}\s", rest, re.M)
    body = rest[:following.start()] if following else rest
    return body.strip() or _FALLBACK


def render_failure_report(run_id: str, code: str, exit_code: int, message: str,
                          stage: str | None, stack_summary: str, rerun_command: str,
                          runbook_hint: str) -> str:
    return "\n".join([
        f"# Failed run — `{run_id}`", "",
        "## What failed", "", f"- stage: {stage or 'unknown'}",
        f"- error: `{code}` (exit {exit_code})", "",
        "## Why", "", message, "",
        "## What to do", "", runbook_hint, "",
        "## Re-run", "", "```bash", rerun_command, "```", "",
        "## Stack summary", "", "```", stack_summary.strip(), "```", "",
    ])
