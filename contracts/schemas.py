"""pandera schemas for the frames that cross stage boundaries.

Timestamps are held as naive UTC (or naive local, for naive input) ``datetime64[ns]``;
the original time zone travels next to the frame, so one dtype serves every input.
"""

from __future__ import annotations

from enum import Enum
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

# Values beyond this break squared-error metrics in float64; no real series needs them.
MAX_ABS_VALUE = 1e100


class Col(str, Enum):
    """Canonical column names inside the pipeline (input names are configurable)."""

    TIMESTAMP = "timestamp"
    TARGET = "target"
    TARGET_TEXT = "target_text"  # the cell as read, for messages about bad values
    OBSERVED = "observed"


class RawSeries(pa.DataFrameModel):
    """A parsed raw series: one row per observation, target may be missing (a gap).

    Checks are labelled with ``error=``, not ``name=``: pandera 0.35 consumes ``name`` when
    the first subclass builds its schema, so later subclasses would report method names.
    """

    timestamp: Series[pa.DateTime] = pa.Field(nullable=False)
    target: Series[float] = pa.Field(nullable=True)

    # Not Field(unique=True): that hashes every value (1.5 s per 10M rows, per check);
    # sorted timestamps, the usual case, only need a comparison with their neighbour.
    @pa.check("timestamp", error="duplicate timestamp")
    def _unique(cls, timestamp: Series[pd.Timestamp]) -> Series[bool]:
        if not timestamp.is_monotonic_increasing:
            return ~timestamp.duplicated(keep=False)
        values = timestamp.to_numpy()
        same = values[1:] == values[:-1]
        duplicate = np.zeros(len(values), dtype=bool)
        duplicate[1:] |= same
        duplicate[:-1] |= same
        return pd.Series(~duplicate, index=timestamp.index)

    # ignore_na=False: NaN passes these checks anyway, and dropping it first copies the column.
    @pa.check("target", error="finite (no +/-inf)", ignore_na=False)
    def _finite(cls, target: Series[float]) -> Series[bool]:
        return ~np.isinf(target)

    @pa.check("target", error=f"magnitude <= {MAX_ABS_VALUE:g}", ignore_na=False)
    def _bounded(cls, target: Series[float]) -> Series[bool]:
        return target.isna() | np.isinf(target) | (target.abs() <= MAX_ABS_VALUE)

    @pa.dataframe_check(error="at least one observed target value")
    def _not_all_missing(cls, frame: pd.DataFrame) -> bool:
        return bool(frame[Col.TARGET.value].notna().any())

    class Config:
        strict = False  # the target_text helper column may ride along
        coerce = False


class ParsedRawSeries(RawSeries):
    """RawSeries plus the text of each target cell, to report unparsable numbers."""

    target_text: Series[pd.StringDtype] = pa.Field(nullable=True)

    @pa.dataframe_check(error="target is numeric")
    def _numeric(cls, frame: pd.DataFrame) -> Series[bool]:
        text = frame[Col.TARGET_TEXT.value]
        unparsed = frame[Col.TARGET.value].isna() & text.notna() & (text.str.strip() != "")
        return ~unparsed


class RegularSeries(RawSeries):
    """A series on a regular grid with every gap filled; ``observed`` marks real points."""

    target: Series[float] = pa.Field(nullable=False)
    observed: Series[bool] = pa.Field(nullable=False)

    @pa.check("timestamp", error="strictly increasing")
    def _increasing(cls, timestamp: Series[pd.Timestamp]) -> bool:
        return bool(timestamp.is_monotonic_increasing)

    class Config:
        strict = True


def validate_frame(schema: type[pa.DataFrameModel], frame: pd.DataFrame, what: str,
                   describe: Callable[[pd.DataFrame], str] | None = None) -> pd.DataFrame:
    """Validate ``frame`` against ``schema``, every problem at once (25 on failure).

    describe: turns pandera's failure cases into the message (default: the first few
    column / check / value triples, prefixed by ``what``).
    """
    from contracts.errors import InputSchemaError

    try:
        return schema.validate(frame, lazy=True, inplace=True)  # no copy: checks only read
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if describe is not None:
            message = describe(cases)
        else:
            listed = "; ".join(
                f"{c['column']}: {c['check']} (e.g. {c['failure_case']!r})"
                for _, c in cases.drop_duplicates(["column", "check"]).head(5).iterrows())
            message = f"{what} violates schema {schema.__name__}: {listed}"
    # Raised outside the handler, so the error has no __context__: pickled, as Prefect does
    # with a failed run's exception, it took pandera's SchemaErrors along (the frame and
    # failure cases as text, 4.8 KB for 3 rows instead of 0.8) and pandera warned on load.
    raise InputSchemaError(message)
