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
