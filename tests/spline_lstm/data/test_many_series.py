import pandas as pd
import pytest

from contracts.errors import (
    InputFileNotFoundError,
    InputSchemaError,
)
from contracts.run_id import validate_run_id
from spline_lstm.data.many_series import child_run_ids, folder_series, split_long_file


def test_child_run_ids_are_safe_unique_and_recognisable():
    ids = child_run_ids("fleet", ["pump 1/a", "pump_1_a", "A", "a", "..x..", "x" * 300, "ok-1"])
    assert ids[0] == "fleet--pump_1_a"
    assert ids[1] == "fleet--pump_1_a-2"  # same safe form: de-duplicated, not overwritten
    assert ids[2] == "fleet--A" and ids[3] == "fleet--a-2"  # case-insensitive disks
    assert ids[4] == "fleet--x"
    assert len(ids[5]) == 128 and ids[5].startswith("fleet--xxx")
    assert ids[6] == "fleet--ok-1"
    assert len({i.lower() for i in ids}) == len(ids)
    for run_id in ids:
        validate_run_id(run_id)


def test_a_parent_run_id_leaving_no_room_for_series_ids_is_refused():
    with pytest.raises(Exception) as caught:
        child_run_ids("p" * 120, ["a"])
    assert caught.value.exit_code == 20 and "at most 114" in caught.value.message


def _long_csv(tmp_path, text):
    path = tmp_path / "long.csv"
    path.write_text(text)
    return path


def test_a_long_file_is_split_with_ids_and_values_kept_as_written(tmp_path):
    path = _long_csv(tmp_path, "series_id,timestamp,target,other\n"
                               "001,2024-01-01,1.5,x\n002,2024-01-01,7,y\n"
                               "001,2024-01-02,,x\n002,2024-01-02,oops,y\n")
    inputs = split_long_file(path, "series_id", "timestamp", "target", tmp_path / "in", "run")
    assert [(s.series_id, s.run_id, s.rows) for s in inputs] == [
        ("001", "run--001", 2), ("002", "run--002", 2)]
    first = pd.read_parquet(inputs[0].path)
    assert list(first.columns) == ["timestamp", "target"]
    assert first["target"].tolist()[0] == "1.5" and pd.isna(first["target"].tolist()[1])
    # the bad cell travels as text, so that series' own run reports it (and only it fails)
    assert pd.read_parquet(inputs[1].path)["target"].tolist() == ["7", "oops"]


def test_a_long_parquet_file_is_split_column_wise(tmp_path):
    frame = pd.DataFrame({"sensor": [3, 3, 4], "timestamp": pd.date_range("2024", periods=3,
                          freq="h"), "target": [1.0, 2.0, 3.0], "unused": ["a", "b", "c"]})
    frame.to_parquet(tmp_path / "long.parquet")
    inputs = split_long_file(tmp_path / "long.parquet", "sensor", "timestamp", "target",
                             tmp_path / "in", "p")
    assert [s.series_id for s in inputs] == ["3", "4"]
    assert pd.read_parquet(inputs[0].path)["target"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("text, code, fragment", [
    ("id,timestamp,target\n1,2024-01-01,1\n", 25, "lacks column(s) ['series_id']"),
    ("series_id,timestamp,target\n,2024-01-01,1\n1,2024-01-02,2\n", 25, "no value in"),
    ("series_id,timestamp,target\n", 25, "no data rows"),
])
def test_bad_long_files_get_their_code_and_write_nothing(tmp_path, text, code, fragment):
    path = _long_csv(tmp_path, text)
    with pytest.raises(InputSchemaError) as caught:
        split_long_file(path, "series_id", "timestamp", "target", tmp_path / "in", "p")
    assert caught.value.exit_code == code and fragment in caught.value.message
    assert not (tmp_path / "in").exists()


def test_missing_inputs_are_file_not_found(tmp_path):
    with pytest.raises(InputFileNotFoundError):
        split_long_file(tmp_path / "nope.csv", "series_id", "timestamp", "target",
                        tmp_path / "in", "p")
    with pytest.raises(InputFileNotFoundError):
        folder_series(tmp_path / "nope", "p")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a series")
    with pytest.raises(InputFileNotFoundError) as caught:
        folder_series(tmp_path / "empty", "p")
    assert "one file per series" in caught.value.message


def test_a_folder_is_one_series_per_file(tmp_path):
    for name in ("b.csv", "a.parquet", "skip.txt"):
        (tmp_path / name).write_text("x")
    assert [(s.series_id, s.run_id) for s in folder_series(tmp_path, "p")] == [
        ("a", "p--a"), ("b", "p--b")]



def test_covariate_columns_and_future_rows_travel_with_their_series(tmp_path):
    from spline_lstm.data.many_series import split_future_file

    path = _long_csv(tmp_path, "series_id,timestamp,target,temp,promo,other\n"
                               "a,2024-01-01,1,20.5,1,x\nb,2024-01-01,2,18,0,y\n")
    inputs = split_long_file(path, "series_id", "timestamp", "target", tmp_path / "in", "p",
                             covariates=["temp"], optional=["promo", "absent"])
    assert list(pd.read_parquet(inputs[0].path).columns) == ["timestamp", "target", "temp",
                                                             "promo"]
    assert pd.read_parquet(inputs[1].path)["temp"].tolist() == ["18"]  # text, as read
    with pytest.raises(InputSchemaError) as caught:  # a required covariate is missing
        split_long_file(path, "series_id", "timestamp", "target", tmp_path / "in", "p",
                        covariates=["humidity"])
    assert caught.value.exit_code == 25 and "lacks column(s) ['humidity']" in \
        caught.value.message and "--covariate-spec" in caught.value.message

    future = _long_csv(tmp_path / "in", "series_id,timestamp,promo\na,2024-01-02,0\n"
                                        "a,2024-01-03,1\nc,2024-01-02,1\n")
    with_future = split_future_file(future, "series_id", "timestamp", ["promo"], inputs,
                                    tmp_path / "in")
    assert pd.read_parquet(with_future[0].future).to_dict("list") == {
        "timestamp": ["2024-01-02", "2024-01-03"], "promo": ["0", "1"]}
    assert with_future[1].future is None  # b has no rows there: its own run says so (25)
    with pytest.raises(InputSchemaError, match=r"--future-covariates .* lacks column\(s\)"):
        split_future_file(future, "series_id", "timestamp", ["price"], inputs, tmp_path / "in")


def test_series_whose_ids_end_alike_keep_their_own_future_rows(tmp_path):
    from spline_lstm.data.many_series import split_future_file

    path = _long_csv(tmp_path, "series_id,timestamp,target\nb,2024-01-01,1\n"
                               "x--b,2024-01-01,2\n")
    inputs = split_long_file(path, "series_id", "timestamp", "target", tmp_path / "in", "p")
    future = _long_csv(tmp_path / "in", "series_id,timestamp,promo\nb,2024-01-02,0\n"
                                        "x--b,2024-01-02,1\n")
    with_future = split_future_file(future, "series_id", "timestamp", ["promo"], inputs,
                                    tmp_path / "in")
    assert with_future[0].future != with_future[1].future
    assert [pd.read_parquet(i.future)["promo"].tolist() for i in with_future] == [["0"], ["1"]]


def test_a_missing_future_covariates_file_is_21_naming_the_flag(tmp_path):
    from spline_lstm.data.many_series import split_future_file

    with pytest.raises(InputFileNotFoundError) as caught:
        split_future_file(tmp_path / "nope.csv", "series_id", "timestamp", ["promo"], [],
                          tmp_path)
    assert caught.value.exit_code == 21
    assert "future covariates file not found" in caught.value.message
    assert "check --future-covariates" in caught.value.message
