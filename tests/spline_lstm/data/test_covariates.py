"""Covariate columns: typed and validated at once, on the grid, gaps filled without
look-ahead, categories checked against training, calendar columns, future files."""

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.frequencies import to_offset

from contracts.covariate_spec import CovariateItem
from contracts.errors import InputSchemaError
from spline_lstm.data.covariates import (
    Covariate,
    align_to_grid,
    calendar_covariates,
    check_values_seen_in_training,
    encode_categories,
    fill_covariate,
    parse_covariate_frame,
    read_covariates,
    read_future_covariates,
)

GRID = pd.date_range("2024-01-01", periods=48, freq="h")
TEMP = CovariateItem("temperature", "numeric", True)
WORKDAY = CovariateItem("workday", "boolean", False, known_in_advance=True)
REGION = CovariateItem("region", "categorical", False)


def _raw(n=48) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": GRID[:n].astype(str),
                         "temperature": [f"{15 + i % 5}.5" for i in range(n)],
                         "workday": ["true", "0", "1", "False"] * (n // 4),
                         "region": ["north", "south", "north"] * (n // 3)})


def _parse(raw: pd.DataFrame, items=(TEMP, WORKDAY, REGION)) -> pd.DataFrame:
    return parse_covariate_frame(raw, pd.to_datetime(raw["timestamp"]), list(items), "data.csv")


def test_columns_are_typed_by_kind():
    frame = _parse(_raw())
    assert frame["temperature"].iloc[:3].tolist() == [15.5, 16.5, 17.5]
    assert frame["workday"].iloc[:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    labels = encode_categories(frame, [REGION])
    assert labels == {"region": ("north", "south")}
    assert frame["region"].iloc[:3].tolist() == [0.0, 1.0, 0.0]


def test_every_bad_cell_of_every_column_is_reported_at_once():
    raw = _raw()
    raw.loc[5, "temperature"] = "21,5°C"
    raw.loc[7, "temperature"] = "inf"
    raw.loc[9, "workday"] = "maybe"
    with pytest.raises(InputSchemaError) as err:
        _parse(raw)
    message = str(err.value)
    assert err.value.exit_code == 25 and "data.csv fails the covariate schema" in message
    assert "'temperature' fails 'numeric values'" in message and "21,5°C" in message
    assert "data rows [6]" in message
    assert "'temperature' fails 'finite (no +/-inf)'" in message
    assert "'workday' fails 'boolean (0/1, true/false) values'" in message and "maybe" in message


def test_an_empty_covariate_column_is_refused():
    raw = _raw().assign(temperature="")
    with pytest.raises(InputSchemaError, match="'temperature' fails 'at least one value'"):
        _parse(raw, [TEMP])


def test_gaps_are_filled_from_the_past_only():
    values = np.arange(10, dtype=float)
    values[[3, 4, 9]] = np.nan
    stamps = GRID[:10]
    spline = fill_covariate(values, TEMP, "spline", max_gap=5, season=1, timestamps=stamps,
                            source="s")
    np.testing.assert_allclose(spline[[3, 4]], [3.0, 4.0])  # interior: the target's filling
    assert spline[9] == 8.0  # after the last value: carried forward, nothing invented ahead
    ffill = fill_covariate(values, TEMP, "ffill", max_gap=5, season=1, timestamps=stamps,
                           source="s")
    assert ffill[[3, 4, 9]].tolist() == [2.0, 2.0, 8.0]
    zero = fill_covariate(values, TEMP, "zero", max_gap=5, season=1, timestamps=stamps,
                          source="s")
    assert zero[[3, 4, 9]].tolist() == [0.0, 0.0, 0.0]
    # a later value never leaks into an earlier fill
    changed = values.copy()
    changed[5:] += 100
    again = fill_covariate(changed, TEMP, "ffill", max_gap=5, season=1, timestamps=stamps,
                           source="s")
    assert again[[3, 4]].tolist() == [2.0, 2.0]


def test_gaps_that_cannot_be_filled_are_25_naming_the_column():
    values = np.arange(10, dtype=float)
    values[:2] = np.nan
    with pytest.raises(InputSchemaError, match="'temperature' of s has no value from"):
        fill_covariate(values, TEMP, "ffill", max_gap=5, season=1, timestamps=GRID[:10],
                       source="s")
    values = np.arange(10, dtype=float)
    values[2:8] = np.nan
    with pytest.raises(InputSchemaError, match="misses 6 steps .* more than --max-gap 3"):
        fill_covariate(values, TEMP, "spline", max_gap=3, season=1, timestamps=GRID[:10],
                       source="s")


def test_align_to_grid_averages_duplicates_and_fills_missing_rows():
    raw = _raw().drop(index=[10, 11])
    frame = _parse(raw, [TEMP])
    (cov,) = align_to_grid(frame, [TEMP], GRID, {}, max_gap=4, season=24,
                           imputation=lambda _n: "ffill", source="s")
    assert len(cov.values) == 48 and cov.values[10] == cov.values[11] == cov.values[9]


def test_a_category_first_seen_after_the_train_split_is_refused():
    codes = np.array([0, 1, 0, 1, 2, 0], dtype=float)
    region = Covariate("region", "categorical", False, codes, ("a", "b", "c"))
    check_values_seen_in_training((region,), 5, GRID[:6])
    with pytest.raises(InputSchemaError, match=r"'region' takes \['c'\] only after the train"):
        check_values_seen_in_training((region,), 4, GRID[:6])


def test_a_flag_that_first_changes_after_the_train_split_is_refused():
    # as a seat-belt law in force from the test split on: its weight was never trained
    law = Covariate("law", "boolean", True, np.array([0, 0, 0, 0, 1, 1], dtype=float))
    check_values_seen_in_training((law,), 5, GRID[:6])  # both values in training: fine
    with pytest.raises(InputSchemaError, match=r"'law' takes \['true'\] only after the train "
                                               r"split \(first at 2024-01-01 04:00"):
        check_values_seen_in_training((law,), 4, GRID[:6])
    quiet = law.with_values(np.zeros(6))
    check_values_seen_in_training((quiet,), 4, GRID[:6])  # never changes: harmless
    ahead = law.with_values(np.array([1.0, 0.0]))
    with pytest.raises(InputSchemaError, match=r"'law' takes \['true'\] in --future-covariates "
                                               "and never in the train split"):
        check_values_seen_in_training((quiet,), 4, GRID[:6], future=(ahead,))


def test_calendar_columns_follow_the_grid_step_and_span():
    three_years = pd.date_range("2022-01-01", periods=3 * 8760, freq="h")
    hourly = calendar_covariates(three_years, pd.Timedelta("1h"))
    assert [c.name for c in hourly] == [
        "calendar_hour_sin", "calendar_hour_cos", "calendar_weekday_sin",
        "calendar_weekday_cos", "calendar_month_sin", "calendar_month_cos"]
    assert all(c.known_in_advance for c in hourly)
    np.testing.assert_allclose(hourly[0].values[[0, 6]], [0.0, 1.0], atol=1e-12)
    # three days of hours: no weekday or month columns (they would be nearly constant)
    three_days = pd.date_range("2024-01-01", periods=72, freq="h")
    assert [c.name for c in calendar_covariates(three_days, pd.Timedelta("1h"))] == [
        "calendar_hour_sin", "calendar_hour_cos"]
    assert calendar_covariates(GRID, pd.Timedelta("1h")) == ()  # under two days
    daily = calendar_covariates(pd.date_range("2024-01-01", periods=30), pd.Timedelta("1D"))
    assert [c.name for c in daily] == ["calendar_weekday_sin", "calendar_weekday_cos"]
    monthly = calendar_covariates(pd.date_range("2020-01-01", periods=36, freq="MS"), None)
    assert [c.name for c in monthly] == ["calendar_month_sin", "calendar_month_cos"]
    # the forecast's steps take the columns the series has
    ahead = calendar_covariates(GRID[:3], pd.Timedelta("1h"), span=three_years)
    assert len(ahead) == 6


def test_calendar_columns_constant_on_the_grid_are_left_out():
    # year starts all fall in January: month columns would be constant, and the scaler
    # refuses a constant covariate (25) that the user never asked for by name
    yearly = pd.date_range("1850-01-01", periods=150, freq="YS")
    assert calendar_covariates(yearly, None) == ()
    # half years: January and July, whose sines are both 0; the cosine tells them apart
    halves = pd.date_range("2000-01-01", periods=40, freq="6MS")
    assert [c.name for c in calendar_covariates(halves, None)] == ["calendar_month_cos"]
    quarterly = pd.date_range("2000-01-01", periods=40, freq="QS")
    assert len(calendar_covariates(quarterly, None)) == 2
    # decided on the span learnt from, so the forecast's steps get the same columns
    ahead = pd.date_range("2020-01-01", periods=2, freq="6MS")
    assert [c.name for c in calendar_covariates(ahead, None, span=halves)] == [
        "calendar_month_cos"]


def _input_file(tmp_path):
    path = tmp_path / "data.csv"
    _raw().assign(load=np.arange(48.0)).to_csv(path, index=False)
    return path


def test_read_covariates_from_the_input_file(tmp_path):
    covariates = read_covariates(_input_file(tmp_path), "timestamp", [TEMP, WORKDAY, REGION],
                                 GRID, max_gap=4, season=24, imputation=lambda _n: "spline",
                                 reserved=("timestamp", "load"))
    assert [c.kind for c in covariates] == ["numeric", "boolean", "categorical"]
    assert covariates[2].labels == ("north", "south")
    missing = CovariateItem("humidity", "numeric", True)
    with pytest.raises(InputSchemaError, match=r"\['humidity'\] are not columns"):
        read_covariates(_input_file(tmp_path), "timestamp", [missing], GRID, max_gap=4,
                        season=24, imputation=lambda _n: "spline")


def test_future_file_must_cover_every_step_and_column(tmp_path):
    ahead = pd.date_range(GRID[-1], periods=4, freq="h")[1:]
    known = (Covariate("workday", "boolean", True, np.zeros(48)),
             Covariate("region", "categorical", True, np.zeros(48), ("north", "south")),
             Covariate("temperature", "numeric", False, np.zeros(48)))
    path = tmp_path / "future.csv"
    pd.DataFrame({"timestamp": ahead.astype(str), "workday": [1, 0, 1],
                  "region": ["south", "north", "south"]}).to_csv(path, index=False)
    workday, region = read_future_covariates(path, "timestamp", known, ahead)
    assert workday.values.tolist() == [1.0, 0.0, 1.0]
    assert region.values.tolist() == [1.0, 0.0, 1.0]
    pd.DataFrame({"timestamp": ahead[:2].astype(str), "workday": [1, 0],
                  "region": ["south", "north"]}).to_csv(path, index=False)
    with pytest.raises(InputSchemaError, match="no 'workday' value for 1 of the 3 forecast"):
        read_future_covariates(path, "timestamp", known, ahead)
    pd.DataFrame({"timestamp": ahead.astype(str), "workday": [1, 0, 1]}).to_csv(path,
                                                                               index=False)
    with pytest.raises(InputSchemaError, match=r"lacks column\(s\) \['region'\]"):
        read_future_covariates(path, "timestamp", known, ahead)
    pd.DataFrame({"timestamp": ahead.astype(str), "workday": [1, 0, 1],
                  "region": ["south", "east", "south"]}).to_csv(path, index=False)
    with pytest.raises(InputSchemaError, match=r"takes \['east'\], never seen"):
        read_future_covariates(path, "timestamp", known, ahead)


def test_calendar_columns_need_two_cycles_in_the_train_split():
    from contracts.config import RunConfig
    from tasks.interpolate import with_covariates
    from tests.helpers import make_filled

    # 120 weeks span two years, but their 70 % train split (84 weeks) one: weekday only
    # holds for a daily grid, so a weekly one gets no calendar column at all
    weekly = make_filled(np.arange(120.0), "W-SUN", [52])
    config = RunConfig(run_id="x", calendar_features=True, horizon=1)
    assert with_covariates(weekly, config, to_offset("W-SUN")).covariates == ()
    # 220 weeks: 154 in train, two years and more: the month columns, for the steps too
    longer = with_covariates(make_filled(np.arange(220.0), "W-SUN", [52]), config,
                             to_offset("W-SUN"))
    assert [c.name for c in longer.covariates] == ["calendar_month_sin",
                                                   "calendar_month_cos"]
    assert [c.name for c in longer.future] == ["calendar_month_sin",
                                               "calendar_month_cos"]
