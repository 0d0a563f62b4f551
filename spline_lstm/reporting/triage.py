"""What to do about a failure: the runbook section for its exit code."""

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
