"""hwgpt: calibration metrics on hand-built inputs, degenerate inputs for every fit, and the
surrogates on synthetic heteroscedastic data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from llmrepro.hwgpt import calibration as K
from llmrepro.hwgpt import surrogates as S


def test_levels_and_gaussian_intervals():
    lv = K.levels(9)
    assert lv.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    lo, hi = K.gaussian_intervals([0.0, 10.0], [1.0, 2.0], [0.9])
    assert hi[:, 0] == pytest.approx([1.6448536, 10 + 2 * 1.6448536])
    assert lo[:, 0] == pytest.approx([-1.6448536, 10 - 2 * 1.6448536])


def test_coverage_curve_and_area_by_hand():
    # four measurements, two levels; intervals built so the inside pattern is known
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lo = np.array([[-1, -1], [2, 0], [1, 1], [5, 5]], float)
    hi = np.array([[1, 1], [3, 3], [3, 3], [6, 6]], float)
    ind = K.inside(y, lo, hi)
    assert ind.tolist() == [[1, 1], [0, 1], [1, 1], [0, 0]]
    obs = K.curve(ind)
    assert obs.tolist() == [0.5, 0.75]
    assert K.miscalibration_area(obs, [0.5, 0.9]) == pytest.approx((0.0 + 0.15) / 2)
    # grouped: each architecture weighs the same, whatever its repeats
    groups = np.array([0, 0, 0, 1])
    assert K.curve(ind, groups).tolist() == pytest.approx([(2 / 3 + 0) / 2, (1 + 0) / 2])
    assert K.curve(ind, groups, weights=np.array([0, 1])).tolist() == [0.0, 0.0]
    cal = K.calibration(ind, [0.5, 0.9], groups, coverage_level=0.9)
    assert cal["coverage"] == pytest.approx(0.5) and cal["area"] == pytest.approx((abs(1 / 3 - 0.5) + 0.4) / 2)


def test_perfectly_calibrated_gaussian_has_near_zero_area_and_nominal_coverage():
    rng = np.random.default_rng(0)
    mu, sd = rng.normal(0, 5, 4000), rng.uniform(0.1, 3, 4000)
    y = rng.normal(mu, sd)
    lv = K.levels(9)
    lo, hi = K.gaussian_intervals(mu, sd, lv)
    cal = K.calibration(K.inside(y, lo, hi), lv)
    assert cal["area"] < 0.015 and abs(cal["coverage"] - 0.9) < 0.015
    # a homoscedastic std on the same data covers too much where sd is small and too little where large
    lo2, hi2 = K.gaussian_intervals(mu, np.full(4000, np.sqrt((sd ** 2).mean())), lv)
    assert K.calibration(K.inside(y, lo2, hi2), lv)["area"] > cal["area"] + 0.02


def test_degenerate_inputs_give_none_with_a_reason():
    assert K.calibration(None, [0.9])["why"] == "a point predictor has no intervals"
    assert K.calibration(np.empty((0, 1)), [0.9])["area"] is None
    assert K.r2([1.0], [1.0])["value"] is None
    assert K.r2([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])["why"] == "the target is constant"
    assert K.kendall([1, 2], [1, 2])["value"] is None
    assert K.kendall([1, 1, 1], [1, 2, 3])["why"].startswith("a constant")
    assert K.kendall([1, np.nan, 3, 4], [1, 2, np.inf, 4])["value"] is None  # two finite pairs left
    assert K.kendall_ci([1, 1, 1, 1], [1, 2, 3, 4])["ci"] is None
    ind = np.ones((4, 2))
    assert K.area_difference_ci(ind, ind, [0.5, 0.9], np.array([0, 0, 1, 1]), 10, 0)["value"] is None
    assert K.area_difference_ci(None, ind, [0.5, 0.9], np.array([0, 1, 2, 3]), 10, 0)["value"] is None
    # overflowing inputs give a reason, not a NaN
    assert K.r2([1e308, -1e308, 0.0], [0.0, 0.0, 0.0])["why"] == "overflow"


def test_kendall_ci_and_area_difference_on_known_data():
    x = np.arange(20.0)
    k = K.kendall_ci(x, x ** 3, n_boot=200)
    assert k["value"] == pytest.approx(1.0) and k["ci"] == pytest.approx([1.0, 1.0])
    k2 = K.kendall_ci(x, -x, n_boot=200)
    assert k2["value"] == pytest.approx(-1.0)
    # b covers everything at both levels (area |1-.5|+|1-.9| /2), a is exact on average
    groups = np.repeat(np.arange(10), 2)
    a = np.column_stack([np.tile([1.0, 0.0], 10), np.ones(20)])  # coverage 0.5 at level 0.5, 1.0 at 0.9
    b = np.ones((20, 2))
    d = K.area_difference_ci(a, b, [0.5, 0.9], groups, 200, 0)
    want = K.miscalibration_area([1, 1], [0.5, 0.9]) - K.miscalibration_area([0.5, 1.0], [0.5, 0.9])
    assert d["value"] == pytest.approx(want) and d["ci"][0] <= want <= d["ci"][1]


def _hetero_data(n, R, seed):
    """Latency-like: mean grows with x, and so does the noise (std proportional to the mean)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 3))
    mean = 1 + 9 * X[:, 0] + 2 * X[:, 1]
    Y = rng.normal(mean[:, None], 0.15 * mean[:, None], (n, R))
    return X, Y


CFG = SimpleNamespace(
    mlp=SimpleNamespace(hidden=[32, 32], max_iter=600, alpha=1e-3),
    ensemble=SimpleNamespace(members=3, hidden=32, epochs=300, lr=1e-2, seed=0),
    quantile=SimpleNamespace(max_iter=80, lr=0.1, max_leaf_nodes=8, calib_fraction=0.3),
    gp=SimpleNamespace(restarts=0))


@pytest.mark.slow
def test_heteroscedastic_surrogates_beat_the_homoscedastic_gp_on_heteroscedastic_data():
    lv = K.levels(9)
    X, Y = _hetero_data(160, 8, 0)
    Xt, Yt = _hetero_data(80, 8, 1)
    res = {}
    for m, fit in S.FIT.items():
        pred = fit(X, Y, getattr(CFG, m), lv, 0)(Xt)
        res[m], _, _ = S.evaluate(pred, Yt, lv, 0.9)
        assert res[m]["r2"]["value"] > 0.9, m
    for m in ("ensemble", "quantile"):
        assert res[m]["calibration"]["area"] < res["gp"]["calibration"]["area"], m
    # conformal calibration holds its coverage on exchangeable data
    assert abs(res["quantile"]["calibration"]["coverage"] - 0.9) < 0.07
    assert res["ensemble"]["log_std_r2"]["value"] > 0.3


def test_point_predictor_for_a_single_measurement_target():
    lv = K.levels(3)
    X, Y = _hetero_data(40, 1, 0)
    pred = S.fit_mlp(X, Y, CFG.mlp, lv, 0)(X)
    assert pred.lo is None and pred.mean.shape == (40,)
    out, ind, _ = S.evaluate(pred, Y, lv, 0.9)
    assert ind is None and out["calibration"]["why"] == "a point predictor has no intervals"
    gp = S.fit_gp(X, Y, CFG.gp, lv, 0)(X)
    assert gp.lo.shape == (40, 3) and np.all(gp.hi >= gp.lo)


def test_coverage_interval_covers_a_shift_between_surrogate_seeds():
    """Two splits whose surrogates cover 100 % and 80 % of their test architectures' measurements:
    within each split every architecture agrees, so an interval over test architectures alone is the
    point 1.0 (or 0.8) and misses the other seed. Pooled with the splits resampled, it spans both."""
    out = K.coverage_ci([np.ones(20), np.full(20, 0.8)], n_boot=400, seed=0)
    assert out["value"] == pytest.approx(0.9) and out["splits"] == pytest.approx([1.0, 0.8]) and out["n_test"] == [20, 20]
    assert out["ci"][0] == pytest.approx(0.8) and out["ci"][1] == pytest.approx(1.0)
    one = K.coverage_ci([np.ones(20)], n_boot=400, seed=0)
    assert one["value"] == 1.0 and one["ci"] is None and "one held-out split" in one["why"]


def test_coverage_interval_within_splits_and_degenerate_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.random(50), rng.random(50)
    out = K.coverage_ci([a, b], n_boot=400, seed=1)
    assert out["ci"][0] < out["value"] < out["ci"][1]
    assert out["value"] == pytest.approx((a.mean() + b.mean()) / 2)
    assert K.coverage_ci([], 10, 0)["value"] is None
    assert K.coverage_ci([None, None], 10, 0)["value"] is None
    assert K.coverage_ci([np.array([])], 10, 0)["value"] is None


def test_quantile_interval_at_one_level_equals_its_interval_among_all_levels():
    """The extra held-out splits of C2 ask for the 90 % level only: the conformal quantile model must
    give the same 90 % interval as when it fits every level."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    Y = X[:, :1] * 5 + (0.1 + X[:, 1:2]) * rng.standard_normal((40, 6))
    cfg = SimpleNamespace(max_iter=10, lr=0.1, max_leaf_nodes=7, calib_fraction=0.25)
    lv = K.levels(5)
    every = S.fit_quantile(X, Y, cfg, lv, 3)(X[:10])
    one = S.fit_quantile(X, Y, cfg, lv[-1:], 3)(X[:10])
    np.testing.assert_array_equal(one.lo[:, 0], every.lo[:, -1])
    np.testing.assert_array_equal(one.hi[:, 0], every.hi[:, -1])
