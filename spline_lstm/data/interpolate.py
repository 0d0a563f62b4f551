"""Put a raw series on a regular grid and fill its gaps with splines (pure).

Filling is causal at each gap's right end: a filled value uses observations up to the
end of its gap and none after it, so a forecast issued from an observed point never
sees the future through the filled inputs of its window. Observed grid points keep
their values exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contracts.errors import InputSchemaError, InvalidArgumentError
from contracts.records import GridSummary
from contracts.schemas import Col
from spline_lstm.data.frequency import step_timedelta
from spline_lstm.data.gap_fill import fill_hermite, fill_seasonal

FILL_METHODS = ("auto", "linear", "pchip", "seasonal")
MIN_MAX_GAP = 12
FILLED_SHARE_WARNING = 0.10
_MAX_LISTED_GAPS = 20
MAX_GRID_POINTS = 500_000_000  # 50x the 10M-point scale target; 4 GB per float64 column
MEASURED_GRID_POINTS = 20_000_000  # grids up to this size are built and their gaps measured


@dataclass(frozen=True)
class FilledSeries:
    """A regular series: ``values`` on ``timestamps`` with ``observed`` marking real points."""

    timestamps: pd.DatetimeIndex
    values: np.ndarray  # float64 [n]
    observed: np.ndarray  # bool [n]
    grid: GridSummary = field(default_factory=GridSummary)
    # data.covariates.Covariate columns on the same grid, and the known-in-advance ones
    # over the forward forecast's timestamps (--future-covariates, calendar)
    covariates: tuple = ()
    future: tuple = ()

    def head(self, n: int) -> "FilledSeries":
        """The first ``n`` points (a backtest fold's past)."""
        return FilledSeries(self.timestamps[:n], self.values[:n], self.observed[:n], self.grid,
                            tuple(c.head(n) for c in self.covariates))

    def with_covariates(self, covariates: tuple, future: tuple = ()) -> "FilledSeries":
        from dataclasses import replace

        return replace(self, covariates=tuple(covariates), future=tuple(future))

    def to_frame(self) -> pd.DataFrame:
        """The series as a frame in the RegularSeries layout (validate it with the schema)."""
        return pd.DataFrame({Col.TIMESTAMP.value: self.timestamps.to_numpy(),
                             Col.TARGET.value: self.values,
                             Col.OBSERVED.value: self.observed}, copy=False)



def choose_max_gap(seasons: list[int]) -> int:
    """Longest gap filled by default: one primary season (at least 12 steps)."""
    return max(MIN_MAX_GAP, seasons[0])


def interpolate_series(frame: pd.DataFrame, freq: pd.DateOffset, seasons: list[int],
                       max_gap: int, fill_method: str, *, freq_given: bool = False
                       ) -> FilledSeries:
    """A RawSeries frame on a regular ``freq`` grid with its gaps filled (25 for a gap
    longer than ``max_gap`` steps; 20 for a ``freq_given`` by the user that is finer than
    the data)."""
    try:
        grid, values, observed, grid_notes = regularize(frame, freq, max_gap)
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        raise InputSchemaError(
            f"the {freq.freqstr} grid of this series does not fit in the dates pandas can "
            f"represent ({pd.Timestamp.min:%Y-%m-%d} to {pd.Timestamp.max:%Y-%m-%d}): "
            f"{exc}; shift or trim the timestamps") from None
    if freq_given:
        refuse_a_grid_finer_than_the_data(observed, freq)
    filled, summary = fill_gaps(values, observed, season=seasons[0], method=fill_method,
                                max_gap=max_gap, timestamps=grid)
    return FilledSeries(timestamps=grid, values=filled, observed=observed, grid=GridSummary(
        **summary, **grid_notes, freq=freq.freqstr, seasons=list(seasons), max_gap=max_gap,
        n_grid=len(grid), start=str(grid[0]), end=str(grid[-1]),
        warnings=fill_warnings(summary, len(grid), seasons[0])))


def refuse_a_grid_finer_than_the_data(observed: np.ndarray, freq: pd.DateOffset) -> None:
    """20 when the observations lie a median two or more grid steps apart: most of the grid
    would be invented, every window built on guesses (daily data given --freq h: 23 of
    every 24 points). A step inferred from the data is never finer than its median step."""
    at = np.flatnonzero(observed)
    if len(at) < 3:
        return
    spacing = float(np.median(np.diff(at)))
    if spacing >= 2:
        invented = 1 - len(at) / len(observed)
        raise InvalidArgumentError(
            f"--freq {freq.freqstr} is finer than the data: its observations lie a median "
            f"{spacing:g} steps apart on that grid, so {invented:.0%} of its points would be "
            "invented. Omit --freq to use the data's own step, or give one as coarse as it")


def check_grid_size(n_grid: int, n_obs: int, max_gap: int | None, freq: pd.DateOffset,
                    start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Refuse (25), before allocating it, a grid the max-gap rule would refuse anyway or one
    too large to hold.

    n observed values whose gaps are all at most ``max_gap`` steps span at most
    n + (n - 1) * max_gap grid points; a finer step (e.g. inferred from two timestamps a
    microsecond apart) would otherwise allocate terabytes before any gap is measured.
    Grids up to ``MEASURED_GRID_POINTS`` are built, so the gap rule can name each gap and
    the --max-gap that fixes it.
    """
    if n_grid <= MEASURED_GRID_POINTS:
        return
    if max_gap is not None and n_grid > n_obs + (n_obs - 1) * max_gap:
        raise InputSchemaError(
            f"a {freq.freqstr} grid from {start} to {end} has {n_grid:,} points for {n_obs:,} "
            f"observed values, so some gap exceeds --max-gap {max_gap} steps. Check the "
            "timestamps' step (give --freq), trim the series, or raise --max-gap")
    if n_grid > MAX_GRID_POINTS:
        raise InputSchemaError(
            f"a {freq.freqstr} grid from {start} to {end} has {n_grid:,} points, more than "
            f"{MAX_GRID_POINTS:,}; give a coarser --freq or trim the series")


def fill_warnings(summary: dict, n_grid: int, season: int) -> list[str]:
    """What a reader should know about the filling: a filled gap longer than a season, or
    a large share of invented points (every forecast built on them inherits the guess)."""
    found = []
    if season > 1 and summary["longest_gap"] > season:
        found.append(f"a filled gap of {summary['longest_gap']} steps is longer than a season "
                     f"({season} steps): its values are a guess from the neighbouring seasons. "
                     "Consider trimming the series to start after the gap")
    share = summary["n_filled"] / max(n_grid, 1)
    if share > FILLED_SHARE_WARNING:
        found.append(f"{summary['n_filled']} of {n_grid} points ({share:.0%}) were filled, not "
                     "observed; consider trimming the series to its well-observed part")
    return found


def regularize(frame: pd.DataFrame, freq: pd.DateOffset, max_gap: int | None = None
               ) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, dict]:
    """Map observations onto a regular grid spanning the first to last observed value.

    Returns (grid, values with NaN in gaps, observed mask, notes). Observations off the
    grid snap to the nearest grid point; several in one slot are averaged. A grid that
    ``check_grid_size`` refuses is never built.
    """
    has_value = frame[Col.TARGET.value].notna().to_numpy()
    times = pd.DatetimeIndex(frame[Col.TIMESTAMP.value].to_numpy()[has_value])
    values = frame[Col.TARGET.value].to_numpy(dtype=np.float64)[has_value]
    stamps = times.asi8
    step = step_timedelta(freq)
    if step is not None:  # fixed step: integer arithmetic, no float temporaries (10M+ rows)
        check_grid_size(int((stamps[-1] - stamps[0]) // step.value) + 1, len(stamps), max_gap,
                        freq, times[0], times[-1])
        grid = pd.date_range(times[0], times[-1], freq=step)
        offsets = stamps - stamps[0]
        on_grid = offsets % step.value == 0
        slots = offsets
        slots += step.value // 2
        slots //= step.value  # nearest grid point (ties round up)
        np.clip(slots, 0, len(grid) - 1, out=slots)
    else:
        grid = pd.date_range(times[0] - freq, times[-1] + freq, freq=freq)
        slots = grid.get_indexer(times, method="nearest")
        used = slots[[0, -1]]
        grid, slots = grid[used[0]:used[1] + 1], slots - used[0]
        on_grid = grid.asi8[slots] == stamps
    counts = np.bincount(slots, minlength=len(grid))
    observed = counts > 0
    out = np.bincount(slots, weights=values, minlength=len(grid))
    with np.errstate(invalid="ignore"):
        np.divide(out, counts, out=out)  # slot means; 0/0 = NaN marks the gaps
    # Exact values where one observation sits exactly on its grid point (no averaging error).
    exact = on_grid & (counts == 1)[slots]
    out[slots[exact]] = values[exact]
    notes = {
        "n_rows_with_value": int(len(values)),
        "n_off_grid": int(len(on_grid) - np.count_nonzero(on_grid)),
        "n_merged_into_shared_slot": int((counts[counts > 1]).sum()),
    }
    return grid, out, observed, notes


def gap_runs(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of every run of unobserved points."""
    padded = np.concatenate([[False], ~observed, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def fill_gaps(values: np.ndarray, observed: np.ndarray, *, season: int = 1,
              method: str = "auto", max_gap: int | None = None,
              timestamps: pd.DatetimeIndex | None = None) -> tuple[np.ndarray, dict]:
    """Return (filled copy of ``values``, summary). Inputs are not modified.

    values: float64 [n] with NaN where not observed; observed: bool [n], first and last True.
    method: linear | pchip (monotone Hermite cubic) | seasonal (bridge + last season's shape)
    | auto (pchip below an eighth of a season, seasonal from there on).
    """
    if method not in FILL_METHODS:
        raise ValueError(f"unknown fill method {method!r}")
    starts, lengths = gap_runs(observed)
    _refuse_long_gaps(starts, lengths, max_gap, timestamps)
    filled = values.astype(np.float64, copy=True)
    seasonal_from = max(3, season // 8) if season > 1 else None
    use_seasonal = np.zeros(len(starts), dtype=bool)
    if method == "seasonal" or (method == "auto" and seasonal_from is not None):
        threshold = 1 if method == "seasonal" else seasonal_from
        use_seasonal = (lengths >= threshold) & (season > 1)
    cubic = method != "linear"
    fill_hermite(filled, observed, starts[~use_seasonal], lengths[~use_seasonal], cubic=cubic)
    seasonal_done = fill_seasonal(filled, observed, starts[use_seasonal], lengths[use_seasonal],
                                   season)
    summary = {
        "method": method,
        "season_used": int(season),
        "n_filled": int(lengths.sum()),
        "n_gaps": int(len(starts)),
        "longest_gap": int(lengths.max()) if len(lengths) else 0,
        "n_gaps_seasonal": int(seasonal_done),
        "gaps": _describe_gaps(starts, lengths, timestamps),
    }
    return filled, summary


def _refuse_long_gaps(starts: np.ndarray, lengths: np.ndarray, max_gap: int | None,
                      timestamps: pd.DatetimeIndex | None) -> None:
    if max_gap is None:
        return
    too_long = np.flatnonzero(lengths > max_gap)
    if not len(too_long):
        return
    described = [_gap_text(int(starts[i]), int(lengths[i]), timestamps) for i in too_long[:3]]
    more = f" and {len(too_long) - 3} more" if len(too_long) > 3 else ""
    longest = int(lengths[too_long].max())
    raise InputSchemaError(
        f"{len(too_long)} gap(s) exceed --max-gap {max_gap} steps: {'; '.join(described)}{more}. "
        f"Raise --max-gap to at least {longest}, or supply the missing data",
        fix={"max_gap": longest})


def _gap_text(start: int, length: int, timestamps: pd.DatetimeIndex | None) -> str:
    if timestamps is None:
        return f"{length} missing steps at positions {start}..{start + length - 1}"
    return (f"{length} missing steps from {timestamps[start]} to "
            f"{timestamps[start + length - 1]}")


def _describe_gaps(starts: np.ndarray, lengths: np.ndarray,
                   timestamps: pd.DatetimeIndex | None) -> list[dict]:
    order = np.argsort(-lengths, kind="stable")[:_MAX_LISTED_GAPS]
    listed = []
    for i in sorted(order, key=lambda j: starts[j]):
        start, length = int(starts[i]), int(lengths[i])
        entry = {"start_index": start, "length": length}
        if timestamps is not None:
            entry["start"] = str(timestamps[start])
            entry["end"] = str(timestamps[start + length - 1])
        listed.append(entry)
    return listed
