"""Conformal intervals: calibrated, asymmetric after a log transform, causal when adaptive."""

import numpy as np
import pytest

from spline_lstm.evaluation.intervals import interval_metrics
from spline_lstm.models.conformal import ConformalCalibrator, WalkRule, step_scale
from spline_lstm.transforms.power import PowerTransform

ONES = np.ones((4000, 3), dtype=bool)


def _calibrated(errors: np.ndarray, levels=(80, 95), power=PowerTransform()) -> ConformalCalibrator:
    n, h = errors.shape
    truth = np.full((n, h), 100.0)
    return ConformalCalibrator.fit(power=power, y_true=truth, y_pred=truth - errors,
                                   scored=np.ones((n, h), bool), step_scale=np.ones(h),
                                   levels=list(levels), source="test")


def test_exchangeable_errors_are_covered_at_the_nominal_level():
    rng = np.random.default_rng(0)
    calibrator = _calibrated(rng.standard_t(4, (1000, 3)))
    truth = 50 + rng.standard_t(4, (4000, 3))
    bounds = calibrator.bounds(np.full((4000, 3), 50.0))
    for level in (80, 95):
        assert interval_metrics(truth, *bounds[level], level)["coverage"] == pytest.approx(
            level, abs=2)
        assert calibrator.methods[str(level)] == "signed"


def test_a_log_scale_series_gets_intervals_wider_above_than_below():
    rng = np.random.default_rng(1)
    truth = np.exp(rng.normal(np.log(100), 0.2, (400, 2)))
    calibrator = ConformalCalibrator.fit(
        power=PowerTransform(kind="log", lam=0.0), y_true=truth, y_pred=np.full((400, 2), 100.0),
        scored=np.ones((400, 2), bool), step_scale=np.ones(2), levels=[90], source="t")
    lo, hi = calibrator.bounds(np.full((1, 2), 100.0))[90.0]
    assert (hi - 100 > 100 - lo).all() and (lo > 0).all()


def test_few_calibration_errors_fall_back_to_wider_symmetric_or_t_intervals():
    calibrator = _calibrated(np.random.default_rng(2).normal(0, 1, (6, 1)), levels=(50, 95))
    assert calibrator.methods == {"50": "signed", "95": "t"}
    lo, hi = calibrator.bounds(np.zeros((1, 1)))[95.0]
    assert hi[0, 0] == pytest.approx(-lo[0, 0]) and hi[0, 0] > 2


def test_a_smaller_miscoverage_never_gives_a_narrower_width():
    from spline_lstm.models.conformal import _absolute_quantile

    # heavy tails: one score far out, so the t-based width from the scores' RMS would
    # fall below it where the scores can no longer resolve the miscoverage
    scores = np.sort(np.abs(np.r_[np.random.default_rng(4).normal(0, 1, 39), 12.0]))
    alphas = [0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005]
    widths = [_absolute_quantile(scores, a)[0] for a in alphas]
    assert [_absolute_quantile(scores, a)[1] for a in alphas][-1] == "t"
    assert widths == sorted(widths)
    assert widths[-1] >= scores[-1]


def test_a_higher_level_always_holds_the_lower_levels_band():
    # an adaptive 80 % level pushed down by misses can end up wider than the 95 % one
    calibrator = ConformalCalibrator(
        power=PowerTransform(), step_scale=(1.0,),
        quantiles={"80": (-3.0, 3.0), "95": (-2.0, 2.5)}, methods={"80": "t", "95": "t"},
        n_scores=10, source="t")
    bounds = calibrator.bounds(np.zeros((1, 1)))
    assert bounds[80.0][0][0, 0] == -3.0 and bounds[80.0][1][0, 0] == 3.0
    assert bounds[95.0][0][0, 0] == -3.0 and bounds[95.0][1][0, 0] == 3.0
    # errors between the 80 % and 95 % quantiles: misses at 80 % push that level's working
    # miscoverage down while hits at 95 % push its up, until the walks cross
    calibrator = _calibrated(np.random.default_rng(0).normal(0, 1, (200, 1)))
    adaptive, _ = calibrator.adapt(np.full((60, 1), 101.5), np.full((60, 1), 100.0),
                                   ONES[:60, :1], np.arange(60))
    assert (adaptive[95.0][0] <= adaptive[80.0][0]).all()
    assert (adaptive[95.0][1] >= adaptive[80.0][1]).all()


def test_step_spreads_never_shrink_with_the_horizon():
    errors = np.array([[1.0, 3.0, 2.0, 5.0]] * 10)
    scale = step_scale(PowerTransform(), errors, np.zeros_like(errors), np.ones_like(errors, bool))
    assert scale.tolist() == [1.0, 3.0, 3.0, 5.0]


def test_adaptive_intervals_recover_coverage_when_the_error_level_drifts():
    rng = np.random.default_rng(3)
    calibrator = _calibrated(rng.normal(0, 1, (300, 3)))
    truth, forecast = rng.normal(0, 2.5, (3000, 3)), np.zeros((3000, 3))
    static = calibrator.bounds(forecast)
    adaptive, final = calibrator.adapt(truth, forecast, ONES[:3000], np.arange(3000))
    for level in (80, 95):
        fixed = interval_metrics(truth, *static[level], level)["coverage"]
        online = interval_metrics(truth, *adaptive[level], level)["coverage"]
        lo, hi = (b[2000:] for b in adaptive[level])  # once the drifted errors dominate
        assert fixed < level - 15 and online > fixed + 10
        assert interval_metrics(truth[2000:], lo, hi, level)["coverage"] == pytest.approx(
            level, abs=4)
    assert final.methods["80"] == "online absolute" and final.n_scores == 900 + 9000
    # the final working level now covers the drifted errors for the forecasts to come
    lo, hi = final.bounds(np.zeros((1, 3)))[80.0]
    assert hi[0, 0] > calibrator.bounds(np.zeros((1, 3)))[80.0][1][0, 0] * 1.5


def test_a_signed_walk_keeps_the_asymmetry_of_the_calibration_errors():
    # a series that crashes now and then: one forecast in ten far above its target. A
    # signed walk's intervals start as the static ones, short above and long below; the
    # product's walk (|score|) puts the largest |error| on both sides
    # (benchmarks/interval_walk.py compares the two)
    rng = np.random.default_rng(9)

    def errors(n):
        return rng.normal(0, 1, (n, 1)) - np.where(rng.random((n, 1)) < 0.1, 6.0, 0.0)

    calibrator = _calibrated(errors(300))
    forecast = np.zeros((200, 1))
    truth = errors(200)  # the same errors as the calibration's
    static = calibrator.bounds(forecast)
    adaptive, final = calibrator.adapt(truth, forecast, ONES[:200], np.arange(200),
                                       rule=WalkRule(signed=True))
    for level in (80.0, 95.0):
        lo, hi = adaptive[level]
        assert lo[0, 0] == static[level][0][0, 0] and hi[0, 0] == static[level][1][0, 0]
        assert (hi <= -lo).all() and np.median(hi) < 0.75 * np.median(-lo)
        assert interval_metrics(truth, lo, hi, level)["coverage"] == pytest.approx(level, abs=5)
    assert final.methods["95"] == "online signed"
    assert final.quantiles["95"][1] < -0.5 * final.quantiles["95"][0]


def test_a_clamped_walk_comes_back_from_a_miss_sooner():
    from spline_lstm.models.conformal import ONLINE_FLOOR, _walk

    # one big miss at 95 %, then hits: unclamped, the working miscoverage sinks to
    # 0.05 + 0.1 x (0.05 - 1) = -0.045 and climbs 0.005 a hit back through the floor
    scores = np.r_[100.0, np.zeros(30)][:, None]
    calibration = np.linspace(-1, 1, 200)

    def working(rule):
        return _walk(scores, np.ones_like(scores, bool), np.arange(31), calibration,
                     [0.05], 0.1, rule)[2][0]

    one_step = WalkRule(relative_step=False)
    assert working(one_step) == pytest.approx(-0.045 + 29 * 0.005)
    assert working(WalkRule(relative_step=False, clamp=True)) == pytest.approx(
        0.05 * ONLINE_FLOOR + 29 * 0.005)


def test_each_level_moves_in_proportion_to_its_miscoverage():
    from spline_lstm.models.conformal import ONLINE_FLOOR, _walk

    # the product's walk: a 95 % level moves a quarter as far as an 80 % one, so one
    # miss takes it from 0.05 to 0.05 - 0.025 x 0.95, inside its bound (0.005), where
    # one step for every level sank it to -0.045
    rule = WalkRule()
    assert rule.step(0.05, 0.1, 1) == pytest.approx(0.025)
    # an 80 % level (alpha = 1 - 0.8, 0.19999999999999996) steps exactly as it always did
    assert rule.step(1.0 - 80 / 100, 0.1, 1) == WalkRule(relative_step=False).step(
        1.0 - 80 / 100, 0.1, 1)
    assert rule.step(0.05, 0.1, 2) == pytest.approx(0.025 / 4)  # rate / H^2
    scores = np.r_[100.0, np.zeros(30)][:, None]
    after_miss = _walk(scores[:2], np.ones((2, 1), bool), np.arange(2),
                       np.linspace(-1, 1, 200), [0.05, 0.2], 0.1, rule)[2]
    # (the second outcome resolves after the last origin: only the miss has moved them)
    assert after_miss == pytest.approx([0.05 - 0.025 * 0.95, 0.2 - 0.1 * 0.8])
    assert after_miss[0] > 0.05 * ONLINE_FLOOR


def test_an_adaptive_interval_never_sees_an_outcome_after_its_origin():
    rng = np.random.default_rng(4)
    calibrator = _calibrated(rng.normal(0, 1, (200, 3)))
    truth, forecast = rng.normal(0, 1.5, (300, 3)), np.zeros((300, 3))
    later = truth.copy()
    later[150:] += 40.0  # outcomes of origins 150.. (targets 151..) change
    before = calibrator.adapt(truth, forecast, ONES[:300], np.arange(300))[0]
    after = calibrator.adapt(later, forecast, ONES[:300], np.arange(300))[0]
    for level in before:  # every interval up to origin 150 uses only targets <= 150
        np.testing.assert_array_equal(before[level][0][:151], after[level][0][:151])
        assert not np.array_equal(before[level][0][152:], after[level][0][152:])


def test_the_calibration_round_trips_through_json():
    calibrator = _calibrated(np.random.default_rng(5).normal(0, 1, (100, 2)))
    again = ConformalCalibrator.from_dict(calibrator.to_dict())
    assert again == calibrator
    np.testing.assert_array_equal(again.bounds(np.ones((2, 2)))[95.0][1],
                                  calibrator.bounds(np.ones((2, 2)))[95.0][1])


def test_the_interval_score_matches_its_definition():
    m = interval_metrics(np.array([0.0, 5.0, -3.0]), np.array([-1.0, -1.0, -1.0]),
                         np.array([1.0, 1.0, 1.0]), 80)
    # widths 2 each; misses by 4 above and 2 below, each charged 2 / 0.2 = 10 times
    assert m["coverage"] == pytest.approx(100 / 3)
    assert m["mean_width"] == 2.0 and m["interval_score"] == pytest.approx((2 + 42 + 22) / 3)


def _drifted_walk(rate, scale_after=3.0, n=60, seed=6):
    """A short test period whose errors are ``scale_after`` times the calibration errors."""
    rng = np.random.default_rng(seed)
    calibrator = _calibrated(rng.normal(0, 1, (200, 1)))
    truth, forecast = rng.normal(0, scale_after, (n, 1)), np.zeros((n, 1))
    bounds, final = calibrator.adapt(truth, forecast, ONES[:n], np.arange(n), rate=rate)
    return calibrator, truth, bounds, final


def test_a_run_of_misses_widens_the_next_intervals_beyond_pooling_alone():
    # 60 one-step forecasts, errors three times the calibration errors: pooling the new
    # errors with 200 calibration ones moves slowly; the working miscoverage reacts.
    _, truth, pooled, _ = _drifted_walk(rate=0.0)
    _, _, online, final = _drifted_walk(rate=0.1)
    for level in (80, 95):
        slow = interval_metrics(truth, *pooled[level], level)["coverage"]
        fast = interval_metrics(truth, *online[level], level)["coverage"]
        assert fast >= slow + 10, (level, slow, fast)
        assert final.online_miscoverage[str(level)] < 1 - level / 100  # ends wider than asked


def test_a_run_of_hits_narrows_the_next_intervals():
    calibrator, truth, online, final = _drifted_walk(rate=0.1, scale_after=0.2)
    pooled = calibrator.adapt(truth, np.zeros_like(truth), ONES[:60], np.arange(60), rate=0)[0]
    width = {name: np.mean(b[80.0][1] - b[80.0][0]) for name, b in
             (("pooled", pooled), ("online", online))}
    assert width["online"] < 0.8 * width["pooled"]
    assert final.online_miscoverage["80"] > 0.2


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_a_calmer_period_than_the_calibration_comes_back_to_the_level(seed):
    # errors 0.4 x those calibrated on (a test period calmer than the blocks before it):
    # an 80 % interval must shrink below the 60 % quantile of the calibration errors,
    # where the walk's old ceiling (2 x the miscoverage) held it at 87-90 % coverage
    _, truth, online, final = _drifted_walk(rate=0.1, scale_after=0.4, n=120, seed=seed)
    later = slice(60, None)  # once the walk has had time to move
    coverage = interval_metrics(truth[later], online[80][0][later], online[80][1][later],
                                80)["coverage"]
    assert abs(coverage - 80) <= 5, coverage
    assert final.online_miscoverage["80"] > 0.4


def test_the_working_miscoverage_stays_within_its_bounds():
    from spline_lstm.models.conformal import (
        ONLINE_CEILING,
        ONLINE_FLOOR,
        _absolute_quantile,
    )

    # every outcome a miss: the intervals stop growing at the floor's quantile
    _, _, online, final = _drifted_walk(rate=0.5, scale_after=50.0, n=200)
    assert final.online_miscoverage["95"] == pytest.approx(0.05 * ONLINE_FLOOR)
    assert final.quantiles["95"][1] == _absolute_quantile(np.sort(np.abs(final.scores)),
                                                          0.05 * ONLINE_FLOOR)[0]
    assert np.isfinite(online[95.0][1]).all()
    # every outcome a hit: never narrower than at the ceiling's miscoverage
    _, _, _, calm = _drifted_walk(rate=0.5, scale_after=0.0, n=200)
    assert calm.online_miscoverage["80"] == pytest.approx(0.2 * ONLINE_CEILING)


def test_a_longer_horizon_walks_slower():
    from spline_lstm.models.conformal import _walk

    # every outcome a miss (each origin's errors beyond all earlier ones), 21 origins:
    # H=4 resolves four outcomes per time, H=1 one
    def drift(horizon):
        scores = np.repeat(100.0 + np.arange(21.0)[:, None], horizon, axis=1)
        *_, working = _walk(scores, np.ones_like(scores, bool), np.arange(21), np.ones(50),
                            [0.2], rate=0.1)
        return 0.2 - working[0]

    one, four = drift(1), drift(4)
    assert one == pytest.approx(0.1 * 0.8 * 20)  # twenty outcomes known by the last origin
    # the four outcomes of a time move it by rate / H together (the first times resolve
    # fewer), and feedback up to H steps late slows the walk by H again
    assert four == pytest.approx(0.1 / 4 / 4 * 0.8 * (4 * 20 - 6))


def test_an_old_calibration_without_a_working_miscoverage_still_loads():
    calibrator = _calibrated(np.random.default_rng(8).normal(0, 1, (100, 2)))
    payload = calibrator.to_dict()
    del payload["online_miscoverage"]
    assert ConformalCalibrator.from_dict(payload) == calibrator
    _, final = calibrator.adapt(np.ones((5, 2)), np.zeros((5, 2)), ONES[:5], np.arange(5))
    assert ConformalCalibrator.from_dict(final.to_dict()) == final


def test_classical_forecasts_of_a_positive_series_are_calibrated_on_relative_errors():
    from spline_lstm.evaluation.intervals import relative_error_power
    from spline_lstm.transforms.chain import TransformSpec
    from tests.helpers import make_processed

    level = 100 + np.arange(300, dtype=np.float64)
    positive = make_processed(level, horizon=1, seasons=[1])
    assert relative_error_power(positive).kind == "log"
    # a value at or below zero before the test split: absolute errors, as the run's chain
    crossing = make_processed(level - 150, horizon=1, seasons=[1])
    assert relative_error_power(crossing).kind == "none"
    # only the test split below zero: it is never read for the decision
    late = level.copy()
    late[-10:] = -1.0
    assert relative_error_power(make_processed(late, horizon=1, seasons=[1])).kind == "log"
    # a run whose chain has its own power keeps it
    boxcox = make_processed(level, horizon=1, seasons=[1], transform=TransformSpec(power="boxcox"))
    assert relative_error_power(boxcox).kind == "boxcox"


def test_blocks_whose_errors_do_not_grow_with_the_level_are_calibrated_off_the_log():
    """A positive series is calibrated on log errors unless its blocks show otherwise: on
    levels that swing from ~50 to ~5,000, errors of one size give a space near original
    units, and the 95 % band above a high forecast is not stretched by the level."""
    from spline_lstm.evaluation.intervals import calibrate_blocks
    from tests.helpers import make_processed

    data = make_processed(100 + np.arange(300, dtype=np.float64), horizon=1, seasons=[1])
    rng = np.random.default_rng(6)
    level = np.exp(np.log(500) + 2.3 * np.sin(np.arange(90) * 2 * np.pi / 10))[:, None]
    absolute = (level + rng.normal(0, 40, (90, 1)), level, np.ones((90, 1), dtype=bool))
    calibrator = calibrate_blocks(data, [absolute], [95.0], source="blocks")
    assert calibrator.power.kind in ("none", "boxcox") and calibrator.power.lam > 0.7
    lo, hi = calibrator.bounds(np.array([[5000.0]]))[95.0]
    assert hi[0, 0] - 5000 < 200 and 5000 - lo[0, 0] < 200  # ~2 x 40 each side
    relative = (level * (1 + rng.normal(0, 0.08, (90, 1))), level, np.ones((90, 1), dtype=bool))
    near_log = calibrate_blocks(data, [relative], [95.0], source="blocks").power
    assert near_log.kind in ("log", "boxcox") and near_log.lam < 0.2


def test_a_forecast_outside_the_log_space_still_gets_a_finite_band():
    rng = np.random.default_rng(3)
    truth = np.exp(rng.normal(np.log(100), 0.1, (200, 2)))
    calibrator = ConformalCalibrator.fit(
        power=PowerTransform(kind="log", lam=0.0), y_true=truth, y_pred=np.full((200, 2), 100.0),
        scored=np.ones((200, 2), bool), step_scale=np.ones(2), levels=[80, 95], source="t")
    forecasts = np.array([[100.0, -5.0]])
    for use in (calibrator.bounds(forecasts),
                calibrator.adapt(truth[:1], forecasts, np.ones((1, 2), bool), np.array([0]))[0]):
        for lo, hi in use.values():
            assert np.isfinite(lo).all() and np.isfinite(hi).all()
            assert lo[0, 1] == -5.0 and 0 < hi[0, 1] < 1e-300  # [forecast, ~0]


def test_a_forecast_outside_the_log_space_does_not_widen_the_bands_after_it():
    """A combination forecast below zero for a positive series (lynx, a crash year): its
    band is [forecast, ~0], its error undefined; the later bands stay as without it."""
    rng = np.random.default_rng(4)
    truth = np.exp(rng.normal(np.log(100), 0.2, (300, 1)))
    calibrator = ConformalCalibrator.fit(
        power=PowerTransform(kind="log", lam=0.0), y_true=truth[:100],
        y_pred=np.full((100, 1), 100.0), scored=np.ones((100, 1), bool),
        step_scale=np.ones(1), levels=[80, 95], source="t")
    forecasts = np.full((200, 1), 100.0)
    origins, scored = np.arange(200), np.ones((200, 1), bool)
    plain, plain_after = calibrator.adapt(truth[100:], forecasts, scored, origins)
    forecasts[50, 0] = -30.0
    bounds, after = calibrator.adapt(truth[100:], forecasts, scored, origins)
    for level in (80, 95):
        lo, hi = bounds[level]
        assert np.isfinite(hi).all() and hi[51:].max() < 1000  # was inf at 95 % after it
        # one miss more than without it moves the walk a little, never by orders
        assert np.allclose(hi[51:], plain[level][1][51:], rtol=0.25)
    assert after.n_scores == plain_after.n_scores - 1  # its undefined score joins no pool
    assert max(abs(q) for pair in after.quantiles.values() for q in pair) < 10
