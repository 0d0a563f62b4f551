"""How the report writes a number (pure)."""

from __future__ import annotations

import numpy as np


def fmt(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "n/a"
        return f"{value:.{digits}g}" if abs(value) >= 1e4 or abs(value) < 1e-3 else \
            f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)
