import numpy as np
import pandas as pd
import pytest

from contracts.errors import InputFileNotFoundError, InputSchemaError
from spline_lstm.data.ingest import parse_raw_frame, read_series
from spline_lstm.data.synthetic import synthetic_series
from tests.helpers import TEST_DATA


def test_reads_a_real_csv_with_empty_targets_as_gaps():
    result = read_series(TEST_DATA / "co2_weekly.csv")
    assert result.n_rows == 2284 and result.n_missing == 59
    assert result.frame["timestamp"].dtype == "datetime64[ns]"
    assert result.frame["timestamp"].is_monotonic_increasing


def test_configurable_column_names(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"when": ["2024-01-01", "2024-01-02", "2024-01-03"], "kw": [1, 2, 3]}).to_csv(path, index=False)
    result = read_series(path, timestamp_col="when", target_col="kw")
    assert list(result.frame["target"]) == [1.0, 2.0, 3.0]


def test_every_schema_problem_is_reported_at_once():
    raw = pd.DataFrame({"timestamp": ["2024-01-01", "2024-01-02", "2024-01-02", "yesterday", "2024-01-05"],
                        "target": ["1", "inf", "abc", "3", "4"]})
    with pytest.raises(InputSchemaError) as caught:
        parse_raw_frame(raw, "timestamp", "target")
    message = caught.value.message
    assert caught.value.exit_code == 25
    for expected in ("target is numeric", "abc", "unparsable timestamp", "yesterday",
                     "duplicate timestamp", "finite", "inf"):
        assert expected in message


def test_unsorted_input_is_sorted_and_said_so():
    raw = pd.DataFrame({"timestamp": ["2024-01-03", "2024-01-01", "2024-01-02"], "target": [3.0, 1.0, 2.0]})
    result = parse_raw_frame(raw, "timestamp", "target")
    assert list(result.frame["target"]) == [1.0, 2.0, 3.0]
    assert any("sorted" in note for note in result.notes)


def test_time_zones_are_converted_to_utc():
    raw = pd.DataFrame({"timestamp": ["2024-01-01T01:00:00+01:00", "2024-01-01T01:00:00Z"],
                        "target": [1.0, 2.0]})
    result = parse_raw_frame(raw, "timestamp", "target")
    assert result.timezone == "UTC"
    assert list(result.frame["timestamp"].astype(str)) == ["2024-01-01 00:00:00", "2024-01-01 01:00:00"]


def test_missing_column_lists_the_available_ones(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("time;value\n2024-01-01;1\n")
    with pytest.raises(InputSchemaError) as caught:
        read_series(path)
    assert "lacks column(s) ['timestamp', 'target']" in caught.value.message
    assert "delimiter" in caught.value.message


@pytest.mark.parametrize("content,expected", [
    (b"", "is empty"),
    (b"timestamp,target\n", "no data rows"),
    (b"\x00\xff\xfe garbage \x00\x81", "could not be read as CSV"),
])
def test_empty_header_only_and_garbage_files_get_25(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputSchemaError) as caught:
        read_series(path)
    assert expected in caught.value.message


def test_missing_file_and_directory_get_21(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="not found"):
        read_series(tmp_path / "missing.csv")
    with pytest.raises(InputFileNotFoundError, match="directory"):
        read_series(tmp_path)


def test_parquet_is_read_column_wise_and_string_target_rejected(tmp_path):
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=4, freq="D"),
                          "target": [1.0, np.nan, 3.0, 4.0], "other": list("abcd")})
    frame.to_parquet(tmp_path / "s.parquet")
    result = read_series(tmp_path / "s.parquet")
    assert result.n_rows == 4 and result.n_missing == 1
    frame.assign(target=["1", "x", "3", "4"]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(InputSchemaError, match="target is numeric"):
        read_series(tmp_path / "bad.parquet")


def test_synthetic_series_is_seeded_and_gappy():
    a, b = synthetic_series(500, seed=3), synthetic_series(500, seed=3)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.n_missing > 0 and a.n_rows < 500  # both empty values and absent rows
    assert not a.frame.equals(synthetic_series(500, seed=4).frame)
