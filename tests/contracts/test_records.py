"""Typed records round-trip through their JSON form; unknown keys of older files are ignored."""

import json

import pytest

from contracts.records import (
    CandidateSummary,
    DataSummary,
    GridSummary,
    SelectionSummary,
    TrainingSummary,
)


def test_a_data_summary_with_its_selection_survives_json():
    selection = SelectionSummary(chosen="log", candidates=[
        CandidateSummary(name="log", power="log", difference=0, seasonal_difference=0,
                         seasonal_adjust=False, val_mase=0.5, best_epoch=3, epochs_ran=9)])
    summary = DataSummary(source="a.csv", n_rows=10, notes=("sorted",)).with_selection(selection)
    back = DataSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert back == summary and back.transform_selection.candidates[0].forecaster == "lstm"
    assert back.with_notes("more").notes == ("sorted", "more")


def test_older_files_with_extra_or_missing_keys_still_read():
    grid = GridSummary.from_dict({"freq": "h", "seasons": [24], "n_grid": 5, "gone": 1})
    assert grid.freq == "h" and grid.n_filled == 0
    assert DataSummary.from_dict({}).source == "unknown"
    assert SelectionSummary.from_dict(None) is None


def test_records_are_frozen_and_fields_are_checked_by_name():
    summary = DataSummary(source="x", n_rows=1)
    with pytest.raises(AttributeError):
        summary.source_file  # a renamed field fails loudly, never prints "None"
    with pytest.raises(Exception):
        summary.source = "y"
    with pytest.raises(TypeError):
        TrainingSummary(run_id="x")  # every training field is required
