"""The walk replay: a recording replayed under the product's rule gives the run's figures."""

import numpy as np
import pytest

from benchmarks import interval_walk
from spline_lstm.evaluation.intervals import intervals_report
from spline_lstm.models.conformal import ONLINE_RATE, ConformalCalibrator, WalkRule
from spline_lstm.transforms.power import PowerTransform


def _recorded(tmp_path, name: str, drift: float, native: float):
    rng = np.random.default_rng(len(name))
    truth = np.full((200, 2), 100.0)
    calibrator = ConformalCalibrator.fit(
        power=PowerTransform(), y_true=truth, y_pred=truth - rng.normal(0, 1, (200, 2)),
        scored=np.ones((200, 2), bool), step_scale=np.ones(2), levels=[80, 95], source="t")
    y_pred, scored, origins = np.zeros((50, 2)), np.ones((50, 2), bool), np.arange(50)
    y_true = rng.normal(0, drift, (50, 2))
    bounds, _ = calibrator.adapt(y_true, y_pred, scored, origins)
    pipeline = intervals_report(y_true, bounds, scored)
    interval_walk.save(tmp_path / name, (calibrator, y_true, y_pred, scored, origins), {
        "name": name, "horizon": 2, "best_classical": "auto_arima", "pipeline": pipeline,
        "native": {level: {"interval_score": native} for level in ("80", "95")}})
    return pipeline


def test_the_products_rule_replays_the_recorded_run_and_others_differ(tmp_path):
    pipeline = _recorded(tmp_path, "calm", drift=1.0, native=3.0)
    rows = interval_walk.replay_case(tmp_path / "calm", ONLINE_RATE, WalkRule())
    assert [r["as_recorded"] for r in rows] == [True, True]
    assert rows[0]["interval_score"] == pipeline["80"]["interval_score"]
    assert rows[0]["native"] == 3.0
    pooling = interval_walk.replay_case(tmp_path / "calm", 0.0, WalkRule())
    assert not any(r["as_recorded"] for r in pooling)


def test_the_table_sums_each_rule_over_every_recorded_set(tmp_path):
    for name, drift in (("calm", 1.0), ("wild", 3.0)):
        (tmp_path / name).mkdir()
        _recorded(tmp_path / name, name, drift=drift, native=4.0)
    table = interval_walk.replay([tmp_path / "calm", tmp_path / "wild"])
    lines = table.splitlines()
    assert len([line for line in lines if line.startswith("| ") and "recorded set" not in
                line]) == 3 * (len(interval_walk.RULES) + len(interval_walk.SPACES))
    product = [line for line in lines if line.startswith("| the product's")]
    assert product[0].endswith("| 2/2 |") and product[2].split("|")[2].strip() == "**all**"
    within, ratio = product[2].split("|")[3:5]
    assert within.strip().endswith("/4") and float(ratio) == pytest.approx(
        np.mean([r["interval_score"] / 4.0 for d in ("calm", "wild") for r in
                 interval_walk.replay_case(tmp_path / d / d, ONLINE_RATE, WalkRule())]),
        abs=5e-4)


def test_a_run_calibrated_on_its_blocks_replays_in_each_space(tmp_path):
    """Blocks on a level that swings from ~50 to ~5,000 with errors of one size: the
    product's space replays the run; the log (the space before) gives other bands."""
    from spline_lstm.evaluation.intervals import calibrate_on_blocks

    rng = np.random.default_rng(9)
    level = np.exp(np.log(500) + 2.3 * np.sin(np.arange(120) * 2 * np.pi / 10))[:, None]
    truth = level + rng.normal(0, 40, (120, 1))
    blocks, test = slice(0, 80), slice(80, 120)
    log = PowerTransform(kind="log", lam=0.0)
    scored = np.ones((120, 1), bool)
    calibrator = calibrate_on_blocks(truth[blocks], level[blocks], scored[blocks], [80, 95],
                                     "blocks", log)
    assert calibrator.power.kind != "log"
    walk = (calibrator, truth[test], level[test], scored[test], np.arange(40))
    bounds, _ = calibrator.adapt(*walk[1:])
    pipeline = intervals_report(truth[test], bounds, scored[test])
    interval_walk.save(tmp_path / "swing", walk, {
        "name": "swing", "horizon": 1, "best_classical": "auto_arima", "pipeline": pipeline,
        "native": {level: {"interval_score": 200.0} for level in ("80", "95")}},
        (truth[blocks], level[blocks], scored[blocks], log))
    product = interval_walk.replay_space(tmp_path / "swing", interval_walk.PRIOR_SD)
    assert [r["as_recorded"] for r in product] == [True, True]
    before = interval_walk.replay_space(tmp_path / "swing", 0.0)
    assert not any(r["as_recorded"] for r in before)
    assert before[1]["mean_width"] > product[1]["mean_width"]
    # a recording without the blocks (the network's) is walked as recorded in every space
    _recorded(tmp_path, "network", drift=1.0, native=3.0)
    assert all(r["as_recorded"] for r in interval_walk.replay_space(tmp_path / "network", 0.0))


def test_a_folder_without_recordings_is_named_with_the_fix(tmp_path):
    with pytest.raises(SystemExit, match=r"no recordings in .*empty: write them with"):
        interval_walk.replay([tmp_path / "empty"])
