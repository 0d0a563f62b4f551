"""Real series the defaults were not tuned on, from data bundled in statsmodels.

    .venv/bin/python benchmarks/heldout_series.py DIR [--more]

Writes ``timestamp,target`` CSVs (the layout of ../shared/data) to DIR:

- ``elnino_monthly``: El Niño sea surface temperature, monthly 1950-2010 (732 points);
- ``unemp_quarterly``: US unemployment rate, quarterly 1959-2009 (203 points);
- ``realcons_quarterly``: US real personal consumption, quarterly 1959-2009 (203 points).

``benchmarks/accuracy.py --heldout`` runs the accuracy benchmark on them.

``--more`` writes four more, for a wider check of how the defaults carry over (monthly,
quarterly and yearly, 203-309 points; ``benchmarks/accuracy.py --more-series`` and
``benchmarks/intervals.py --more-series``):

- ``elecequip_monthly``: euro-area electrical equipment orders, monthly 1995-2016 (257);
- ``sunspots_yearly``: yearly sunspot activity 1700-2008 (309 points);
- ``realinv_quarterly`` and ``cpi_quarterly``: US real investment and consumer prices,
  quarterly 1959-2009 (203 points each).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def write_heldout_series(folder: Path) -> list[Path]:
    from statsmodels.datasets import elnino, macrodata

    wide = elnino.load_pandas().data
    sst = pd.DataFrame(
        [(pd.Timestamp(int(row.YEAR), month, 1), row[name])
         for _, row in wide.iterrows() for month, name in enumerate(MONTHS, start=1)],
        columns=["timestamp", "target"])
    macro = macrodata.load_pandas().data
    quarters = quarter_starts(macro)
    frames = {"elnino_monthly": sst,
              "unemp_quarterly": pd.DataFrame({"timestamp": quarters, "target": macro.unemp}),
              "realcons_quarterly": pd.DataFrame({"timestamp": quarters,
                                                  "target": macro.realcons})}
    return _write(folder, frames)


def write_more_series(folder: Path) -> list[Path]:
    from statsmodels.datasets import elec_equip, macrodata, sunspots

    equip = elec_equip.load_pandas().data
    spots = sunspots.load_pandas().data
    macro = macrodata.load_pandas().data
    quarters = quarter_starts(macro)
    return _write(folder, {
        "elecequip_monthly": pd.DataFrame({"timestamp": equip.index,
                                           "target": equip.iloc[:, 0].to_numpy()}),
        "sunspots_yearly": pd.DataFrame({
            "timestamp": pd.to_datetime(spots.YEAR.astype(int).astype(str) + "-01-01"),
            "target": spots.SUNACTIVITY}),
        "realinv_quarterly": pd.DataFrame({"timestamp": quarters, "target": macro.realinv}),
        "cpi_quarterly": pd.DataFrame({"timestamp": quarters, "target": macro.cpi})})


def write_series(folder: Path, more: bool = False) -> list[Path]:
    """The held-out series (``more``: the four more) as CSVs in ``folder``."""
    return (write_more_series if more else write_heldout_series)(folder)


def quarter_starts(macro: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.PeriodIndex([f"{int(y)}Q{int(q)}" for y, q in zip(macro.year, macro.quarter)],
                          freq="Q").to_timestamp()


def _write(folder: Path, frames: dict[str, pd.DataFrame]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        paths.append(folder / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--more"]
    if len(args) != 1:
        sys.exit(__doc__)
    for written in write_series(Path(args[0]), more="--more" in sys.argv):
        print(written)
