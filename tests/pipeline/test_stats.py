"""Every statistic answers for any input: degenerate ones give None and a reason."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmrepro.pipeline.claims import Check
from llmrepro.stats import bootstrap_ci, corr, mean_ci, ols, paired_bootstrap


def test_ols_against_hand_computed_values():
    f = ols([0, 1, 2], [1, 3, 5.5])
    assert f["slope"] == pytest.approx(2.25) and f["intercept"] == pytest.approx(0.9166667, abs=1e-6)
    assert f["r2"] == pytest.approx(1 - 1 / 244)  # ss_res 1/24, ss_tot 61/6


@pytest.mark.parametrize("x,y,why", [([], [], "0 finite point"), ([1.0], [2.0], "1 finite point"),
                                     ([2, 2, 2], [1, 2, 3], "x is constant"),
                                     ([1, np.nan, 3], [np.inf, 2, 1], "1 finite point")])
def test_ols_degenerate(x, y, why):
    f = ols(x, y)
    assert f["slope"] is None and why in f["why"]


def test_ols_flat_y_has_a_zero_slope_and_no_r2():
    f = ols([1, 2, 3], [4, 4, 4])
    assert f["slope"] == 0 and f["r2"] is None


def test_corr_degenerate_and_regular():
    assert corr([1, 2], [1, 2])["value"] is None
    assert "constant" in corr([1, 2, 3], [5, 5, 5])["why"]
    assert corr([1, 2, 3, 4], [2, 4, 6, 9])["value"] == pytest.approx(11.5 / np.sqrt(5 * 26.75))
    assert corr([1, 2, 3, 4], [1, 3, 2, 4], "spearman")["value"] == pytest.approx(0.8)


def test_mean_ci_leaves_out_and_counts_missing_runs():
    out = mean_ci([1.0, None, float("nan"), 3.0])
    assert out["value"] == 2.0 and out["n"] == 2 and out["dropped"] == 2 and out["ci"] is not None
    empty = mean_ci([None, float("nan")])
    assert empty["value"] is None and empty["ci"] is None and "no finite value" in empty["why"]


def test_bootstrap_of_nothing_or_of_an_undefined_statistic():
    assert bootstrap_ci([], np.mean)["why"] == "no data"
    out = bootstrap_ci(np.ones(5), lambda d: float("nan"))
    assert out["value"] is None and out["ci"] is None
    assert paired_bootstrap([1, 2, 3], [0, 1, 2])["ci"] == [1.0, 1.0]


def test_a_check_on_an_undefined_statistic_is_inconclusive_with_its_reason():
    m = {"slope": {"value": None, "why": "x is constant: no slope"}, "nan": math.nan}
    out = Check("slope", ">", 0).evaluate(m)
    assert out["outcome"] == "inconclusive" and out["why"] == "x is constant: no slope"
    assert Check("nan", ">", 0).evaluate(m)["outcome"] == "inconclusive"


# ---- exact outputs (mutation testing showed the dict keys and bounds went unchecked)

def test_exact_degenerate_outputs():
    assert bootstrap_ci([], np.mean) == {"value": None, "ci": None, "n": 0, "why": "no data"}
    assert bootstrap_ci(np.ones(4), lambda d: float("nan"), n_boot=10) == {
        "value": None, "ci": None, "n": 4, "why": "the statistic is undefined on this data or on most resamples"}
    assert mean_ci([2.0]) == {"value": 2.0, "n": 1, "values": [2.0], "sd": None, "ci": None}
    assert ols([1.0], [1.0]) == {"slope": None, "intercept": None, "r2": None, "n": 1,
                                 "why": "1 finite point(s): a line needs 2"}
    assert corr([1, 2], [3, 4]) == {"value": None, "n": 2, "why": "2 finite pair(s): a correlation needs 3"}


def test_bootstrap_level_seed_and_the_half_defined_rule():
    d = np.array([0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8, 0.6])
    wide, narrow = bootstrap_ci(d, np.mean, seed=0, level=0.95), bootstrap_ci(d, np.mean, seed=0, level=0.5)
    assert wide["ci"][0] < narrow["ci"][0] < narrow["ci"][1] < wide["ci"][1]
    rng = np.random.default_rng(0)
    boots = [d[rng.integers(0, 8, 8)].mean() for _ in range(2000)]
    assert wide == {"value": d.mean(), "ci": list(np.percentile(boots, [2.5, 97.5])), "n": 8}
    assert bootstrap_ci(d, np.mean, seed=1) != wide  # the seed is used
    # a statistic undefined on exactly half the resamples still has an interval; on more, none
    flip = iter([1.0, float("nan")] * 20 + [1.0])
    half = bootstrap_ci(d, lambda x: next(flip), n_boot=40)
    assert half["ci"] == [1.0, 1.0]
    flip = iter([float("nan")] * 21 + [1.0] * 19 + [1.0])
    assert bootstrap_ci(d, lambda x: next(flip), n_boot=40)["ci"] is None


def test_paired_bootstrap_takes_integers_and_passes_its_level():
    out = paired_bootstrap([3, 1, 4, 1, 5], [1, 1, 1, 1, 1], level=0.5, seed=2)
    assert out == bootstrap_ci(np.array([2.0, 0, 3, 0, 4]), np.mean, seed=2, level=0.5)


def test_corr_drops_non_finite_pairs_and_picks_its_method():
    x, y = [1, 2, 3, 4, np.nan, 6], [1, 4, 9, 16, 5, np.inf]
    assert corr(x, y)["n"] == 4 and corr(x, y)["value"] == pytest.approx(0.9843740, abs=1e-6)
    assert corr(x, y, "spearman")["value"] == 1.0
    assert "constant" in corr([1, 2, 3], [1, 1, 1])["why"] and "constant" in corr([1, 1, 1], [1, 2, 3])["why"]


def test_mean_ci_drops_nothing_it_can_use():
    out = mean_ci([1, 2, 3])
    assert out["values"] == [1.0, 2.0, 3.0] and "dropped" not in out and "why" not in out


def test_ols_with_two_points_an_offset_x_and_a_small_spread():
    f = ols([2.0, 4.0], [1.0, 2.0])  # two points are enough; the mean of x is not 1
    assert (f["slope"], f["intercept"], f["r2"], f["n"]) == (0.5, 0.0, 1.0, 2)
    f = ols([10.0, 11.0, 12.0], [0.1, 0.3, 0.2])  # ss_tot = 0.02 < 1 still gives an R^2
    assert f["slope"] == pytest.approx(0.05) and f["intercept"] == pytest.approx(-0.35)
    assert f["r2"] == pytest.approx(1 - 0.015 / 0.02)
