"""Real series the defaults were not tuned on, from data bundled in statsmodels.

    .venv/bin/python benchmarks/heldout_series.py DIR

Writes ``timestamp,target`` CSVs (the layout of ../shared/data) to DIR:

- ``elnino_monthly``: El Niño sea surface temperature, monthly 1950-2010 (732 points);
- ``unemp_quarterly``: US unemployment rate, quarterly 1959-2009 (203 points);
- ``realcons_quarterly``: US real personal consumption, quarterly 1959-2009 (203 points).

``benchmarks/accuracy.py --heldout`` runs the accuracy benchmark on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def write_heldout_series(folder: Path) -> list[Path]:
    from statsmodels.datasets import elnino, macrodata

    folder.mkdir(parents=True, exist_ok=True)
    wide = elnino.load_pandas().data
    sst = pd.DataFrame(
        [(pd.Timestamp(int(row.YEAR), month, 1), row[name])
         for _, row in wide.iterrows() for month, name in enumerate(MONTHS, start=1)],
        columns=["timestamp", "target"])
    macro = macrodata.load_pandas().data
    quarters = pd.PeriodIndex([f"{int(y)}Q{int(q)}" for y, q in zip(macro.year, macro.quarter)],
                              freq="Q").to_timestamp()
    frames = {"elnino_monthly": sst,
              "unemp_quarterly": pd.DataFrame({"timestamp": quarters, "target": macro.unemp}),
              "realcons_quarterly": pd.DataFrame({"timestamp": quarters,
                                                  "target": macro.realcons})}
    paths = []
    for name, frame in frames.items():
        paths.append(folder / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for written in write_heldout_series(Path(sys.argv[1])):
        print(written)
