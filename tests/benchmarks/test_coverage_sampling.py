"""The interval benchmark says how far coverage may land from the level by chance."""

import math

from benchmarks.coverage_sampling import (
    chance_within,
    coverage_p_value,
    summary,
    target_times,
)
from benchmarks.intervals import case_rows


def test_overlapping_forecasts_rest_on_their_distinct_target_times():
    assert target_times(41, 1) == 41
    assert target_times(38 * 4, 4) == 41  # 38 origins x 4 steps reach 41 quarters
    assert target_times(0, 12) == 0


def test_a_calibrated_interval_on_a_short_split_often_misses_the_tolerance():
    # 41 quarters at 80 %: sd 6.2 points, so within 5 points only a little over half the time
    assert 0.5 < chance_within(80, 41) < 0.6
    assert chance_within(95, 41) > 0.9
    assert chance_within(80, 800) > 0.99  # a long split pins it down
    assert math.isnan(chance_within(80, 0))


def test_the_p_value_separates_chance_from_miscalibration():
    assert coverage_p_value(80.0, 80, 41) == 1.0
    assert coverage_p_value(73.2, 80, 41) > 0.3  # 30 of 41: chance
    assert coverage_p_value(96.7, 80, 51) < 0.01  # 49 of 51: intervals too wide
    assert math.isnan(coverage_p_value(80.0, 80, 0))


def test_the_summary_names_only_the_case_levels_off_by_more_than_chance():
    text = summary([("quarterly", 1, "80", 73.2, 41), ("monthly", 12, "80", 96.7, 51),
                    ("weekly", 52, "95", 95.2, 457)])
    assert "monthly H=12 at 80 % (96.7 %" in text
    assert "quarterly" not in text.split("explains")[1]
    expected = chance_within(80, 41) + chance_within(80, 51) + chance_within(95, 457)
    assert f"{expected:.1f} of 3" in text


def _metrics(coverage: float, pairs: int) -> dict:
    level = {"coverage": coverage, "mean_width": 1.0, "interval_score": 2.0, "n": pairs}
    return {"baselines": {"auto_arima": {"mase": 0.9}},
            "intervals": {"pipeline": {"80": level, "95": level},
                          "pipeline_static": {"80": level, "95": level},
                          "baselines": {"auto_arima": {"80": level, "95": level}}}}


def test_each_row_carries_its_target_times_and_p_value():
    rows, checks = case_rows("cpi", 4, _metrics(96.0, 152), _metrics(80.0, 152))
    cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    assert cells[:6] == ["cpi", "4", "80", "**96.0**", "41", f"{coverage_p_value(96, 80, 41):.2g}"]
    assert checks["sampled"] == [("cpi", 4, "80", 96.0, 41), ("cpi", 4, "95", 96.0, 41)]


def test_a_band_that_was_not_finite_is_written_n_a_and_counts_as_infinitely_worse():
    plain = _metrics(91.3, 23)
    plain["intervals"]["pipeline"]["95"] = {"coverage": 91.3, "mean_width": None,
                                            "interval_score": None, "n": 23}
    rows, checks = case_rows("lynx", 1, plain, _metrics(80.0, 23))
    cells = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert cells[6:8] == ["n/a", "n/a"]
    assert checks["ratio"] == [1.0, float("inf")]
