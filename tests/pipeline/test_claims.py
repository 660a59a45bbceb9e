"""Verdicts follow the declared tests and the intervals, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.pipeline.claims import Check, Claim, ClaimSet
from llmrepro.stats import mean_ci, paired_bootstrap

M = {"gap": {"value": 0.3, "ci": [0.1, 0.5]}, "wide": {"value": 0.3, "ci": [-0.1, 0.7]},
     "neg": {"value": -0.3, "ci": [-0.5, -0.1]}, "r": 0.62, "flag": True, "none": None}


@pytest.mark.parametrize("check,outcome", [
    (Check("gap", ">", 0, on="ci"), "pass"),
    (Check("wide", ">", 0, on="ci"), "inconclusive"),
    (Check("neg", ">", 0, on="ci"), "fail"),
    (Check("r", ">=", 0.5), "pass"),
    (Check("r", "in", (0.7, 0.9)), "fail"),
    (Check("flag", "==", True), "pass"),
    (Check("none", ">", 0), "inconclusive"),
    (Check("missing.key", ">", 0), "inconclusive"),
    (Check("r", ">", 0, on="ci"), "inconclusive"),  # no interval to judge
])
def test_check_outcomes(check, outcome):
    assert check.evaluate(M)["outcome"] == outcome


def test_verdict_aggregation():
    ok, bad, unsure = Check("r", ">", 0.5), Check("r", ">", 0.9), Check("wide", ">", 0, on="ci")
    ev = lambda *checks, pre=(): Claim("C", "s", checks, precondition=pre).evaluate(M, "mini")["verdict"]
    assert ev(ok) == "reproduced"
    assert ev(ok, bad) == "not reproduced"
    assert ev(ok, unsure) == "inconclusive"
    assert ev(ok, bad, unsure) == "not reproduced"
    assert ev(ok, pre=(bad,)) == "inconclusive"  # a failed precondition makes the comparison vacuous


def test_claim_ids_are_unique():
    c = Claim("C1", "s", (Check("r", ">", 0),))
    with pytest.raises(ValueError, match="claim id 'C1' is declared twice"):
        ClaimSet("toy", (c, c))


def test_bad_check_declaration():
    with pytest.raises(ValueError, match="op '=>' is not one of"):
        Check("r", "=>", 0)


def test_mean_ci_matches_t_interval():
    out = mean_ci([1.0, 2.0, 3.0])
    # mean 2, sd 1, t(0.975, 2) = 4.3027: half-width 4.3027/sqrt(3) = 2.4841
    assert out["value"] == 2.0
    assert out["ci"] == pytest.approx([2 - 2.48414, 2 + 2.48414], abs=1e-4)
    assert mean_ci([5.0])["ci"] is None


def test_paired_bootstrap_is_seeded():
    a, b = [1, 3, 2, 5, 4, 6, 9, 8], [0, 1, 2, 3, 4, 5, 6, 7]
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    assert paired_bootstrap(a, b, seed=3)["ci"] != paired_bootstrap(a, b, seed=4)["ci"]


# ---- every branch of Check.evaluate and Claim.evaluate

BRANCHES = {"in_ci": {"value": 0.5, "ci": [0.4, 0.6]}, "below": {"value": 0.1, "ci": [0.05, 0.15]},
            "straddle_in": {"value": 0.3, "ci": [0.15, 0.45]}, "nan": float("nan"), "np_true": np.bool_(True),
            "np_val": np.float64(0.7), "half_ci": {"value": 0.5, "ci": [None, 0.6]},
            "why": {"value": None, "why": "no decay: a <= 0"}}


@pytest.mark.parametrize("check,outcome,why", [
    (Check("in_ci", "in", (0.3, 0.7), on="ci"), "pass", None),
    (Check("below", "in", (0.3, 0.7), on="ci"), "fail", None),          # wholly outside the range: a failure
    (Check("straddle_in", "in", (0.3, 0.7), on="ci"), "inconclusive", "interval straddles the threshold"),
    (Check("below", "<", 0.3, on="ci"), "pass", None),
    (Check("below", ">", 0.3, on="ci"), "fail", None),
    (Check("nan", ">", 0), "inconclusive", "no value (NaN)"),
    (Check("np_true", "==", True, on="ci"), "pass", None),               # a numpy bool is a bool, even on="ci"
    (Check("np_val", ">", 0.5), "pass", None),
    (Check("half_ci", ">", 0, on="ci"), "inconclusive", "no interval (fewer than 2 runs)"),
    (Check("why", ">", 0), "inconclusive", "no decay: a <= 0"),
    (Check("absent", ">", 0), "inconclusive", "not measured"),
])
def test_check_branches(check, outcome, why):
    out = check.evaluate(BRANCHES)
    assert out["outcome"] == outcome
    assert out.get("why") == why


def test_preconditions_are_reported_whether_they_pass_or_fail():
    ok, bad, unsure = Check("r", ">", 0.5), Check("r", ">", 0.9), Check("wide", ">", 0, on="ci")
    passing = Claim("C", "s", (ok,), precondition=(ok,)).evaluate(M, "mini")
    assert passing["verdict"] == "reproduced" and [p["outcome"] for p in passing["precondition"]] == ["pass"]
    failing = Claim("C", "s", (ok,), precondition=(bad,)).evaluate(M, "mini")
    assert failing["verdict"] == "inconclusive" and [p["outcome"] for p in failing["precondition"]] == ["fail"]
    unsure_pre = Claim("C", "s", (ok,), precondition=(unsure,)).evaluate(M, "mini")
    assert unsure_pre["verdict"] == "inconclusive"


def test_a_claim_outside_its_scales_is_not_applicable():
    c = Claim("C", "s", (Check("r", ">", 0.5),), scales=("mini", "full"))
    assert c.evaluate(M, "smoke")["verdict"] == "not applicable at this scale"
    assert c.evaluate(M, "mini")["verdict"] == "reproduced"


def test_revised_claims_say_so():
    c = Claim("C", "s", (Check("r", ">", 0.5),), revised="tested the wrong thing")
    assert c.evaluate(M, "mini")["revised"] == "tested the wrong thing"
    assert "revised" not in Claim("C", "s", (Check("r", ">", 0.5),)).evaluate(M, "mini")


def test_mean_ci_level_is_95_percent():
    # a 90 % interval would be narrower: t(0.95, 3) = 2.3534 against t(0.975, 3) = 3.1824
    out = mean_ci([1.0, 2.0, 3.0, 4.0])
    half = (out["ci"][1] - out["ci"][0]) / 2
    assert half == pytest.approx(3.18245 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-4)


def test_paired_bootstrap_against_a_brute_force_resample():
    a = np.array([0.3, 0.1, 0.4, 0.1, 0.5, 0.9, 0.2, 0.6])
    b = np.array([0.2, 0.2, 0.1, 0.0, 0.4, 0.5, 0.3, 0.1])
    out = paired_bootstrap(a, b, n_boot=500, seed=1)
    rng = np.random.default_rng(1)
    d = a - b
    boots = [d[rng.integers(0, 8, 8)].mean() for _ in range(500)]
    assert out["value"] == pytest.approx(d.mean())
    assert out["ci"] == pytest.approx(list(np.percentile(boots, [2.5, 97.5])))


# ---- Tol, every branch (mutation testing showed them unchecked)

from llmrepro.pipeline.claims import DETERMINISTIC, ESTIMATE, TIMING, Tol, counts, verdicts  # noqa: E402


@pytest.mark.parametrize("tol,old,new,agrees", [
    (ESTIMATE, {"value": 1.0, "ci": [0.5, 1.5]}, 1.4, True),
    (ESTIMATE, {"value": 1.0, "ci": [0.5, 1.5]}, {"value": 1.6, "ci": [1, 2]}, False),
    (ESTIMATE, 1.0, 1.0 + 5e-7, True),          # no interval committed: relative 1e-6
    (ESTIMATE, 1.0, 1.0 + 2e-6, False),
    (ESTIMATE, {"value": 1.0, "ci": [None, 2]}, 1.5, False),  # half an interval is none
    (DETERMINISTIC, None, None, True), (DETERMINISTIC, None, 0.0, False), (DETERMINISTIC, 0.0, None, False),
    (Tol(abs=1), True, True, True), (Tol(abs=1), True, False, False), (Tol(abs=1), 1.0, True, False),
    (Tol(abs=1), float("nan"), float("nan"), True), (Tol(abs=1), float("inf"), float("inf"), True),
    (Tol(abs=1), 1.0, float("nan"), False), (Tol(abs=1), float("inf"), 1.0, False),
    (Tol(abs=0.1), 1.0, 1.09, True), (Tol(abs=0.1), 1.0, 1.11, False),
    (Tol(rel=0.1), 10.0, 11.0, True), (Tol(rel=0.1), -10.0, -11.1, False),
    (Tol(abs=0.1, rel=0.1), 1.0, 1.19, True), (Tol(abs=0.1, rel=0.1), 1.0, 1.21, False),
    (TIMING, 2.0, 9.9, True), (TIMING, 2.0, 10.1, False), (TIMING, 2.0, 0.41, True), (TIMING, 2.0, 0.39, False),
    (TIMING, 2.0, -2.0, False), (TIMING, 0.0, 0.0, True), (TIMING, 0.0, 1e-9, False),
    (Tol(abs=0.0), 3.0, 3.0, True), (Tol(abs=0.0), 3.0, 3.0000001, False),
])
def test_tolerance_branches(tol, old, new, agrees):
    assert tol.agrees(old, new) is agrees


def test_tolerance_declarations_and_texts():
    for bad in ({"abs": -1}, {"rel": -0.1}, {"ratio": 0.5}):
        with pytest.raises(ValueError, match="bounds must be >= 0, ratio >= 1"):
            Tol(**bad)
    assert Tol(ratio=1.0).ratio == 1.0 and Tol(abs=0, rel=0).text == "exact"
    assert (TIMING.text, ESTIMATE.text, Tol(abs=0.5, rel=0.1).text) == (
        "ratio within 5x", "inside the committed 95% CI", "abs 0.5 + rel 0.1")
    assert ESTIMATE.effective(1.0) is DETERMINISTIC and ESTIMATE.effective({"value": 1, "ci": [0, 2]}) is ESTIMATE
    assert Tol(abs=1).effective(1.0) == Tol(abs=1)


def test_timing_fields_and_tolerances_of_a_claim_set():
    cs = ClaimSet("t", (Claim("C1", "s", (Check("speed.ratio", "<", 1), Check("r", ">", 0, tol=Tol(abs=1)),
                                          Check("gap", ">", 0))),), timings=("speed", "a.*.secs"))
    assert cs.is_timing("speed") and cs.is_timing("speed.ratio") and cs.is_timing("a.x.secs")
    assert not cs.is_timing("spee") and not cs.is_timing("a.x") and not cs.is_timing("r")
    checks = [k for _, k in cs.checks()]
    assert [cs.tolerance(k) for k in checks] == [TIMING, Tol(abs=1), ESTIMATE]


def test_counts_and_verdicts():
    doc = ClaimSet("t", (Claim("C1", "s", (Check("r", ">", 0.5),)), Claim("C2", "s", (Check("r", ">", 0.9),)),
                         Claim("C3", "s", (Check("r", ">", 0.1),)))).evaluate(M, "mini")
    assert counts(doc) == {"reproduced": 2, "not reproduced": 1}
    assert verdicts([doc]) == [("t", "C1", "reproduced"), ("t", "C2", "not reproduced"), ("t", "C3", "reproduced")]


def test_lookup_metric_walks_mappings_and_lists():
    from llmrepro.pipeline.claims import lookup_metric

    m = {"a": {"b": [10, {"c": 3}]}}
    assert lookup_metric(m, "a.b.1.c") == 3 and lookup_metric(m, "a.b.0") == 10
    assert lookup_metric(m, "a.b.2") is None and lookup_metric(m, "a.x") is None and lookup_metric(m, "a.b.c") is None


def test_check_declarations_are_validated():
    with pytest.raises(ValueError, match="on='both' must be 'value' or 'ci'"):
        Check("r", ">", 0, on="both")
    assert Check("r", "in", (1, 2), label="L").test == "L in [1, 2]"
    assert Check("r", ">=", 0.5, on="ci").test == "r >= 0.5 (whole 95% CI)"
    assert Check("r", "in", (0.6, 0.62)).evaluate(M)["outcome"] == "pass"   # bounds are inclusive
    assert Check("r", "in", (0.62, 0.7)).evaluate(M)["outcome"] == "pass"


def test_every_revised_claim_keeps_its_old_check_on_the_page():
    """A paper that lists its claim changes (CHANGES in its claims module) lists exactly its
    revised claims, and the page shows each old check and verdict."""
    import importlib

    from llmrepro import SECTIONS
    from llmrepro.report.pages import Report, render_page

    checked = 0
    for paper in SECTIONS:
        try:
            mod = importlib.import_module(f"llmrepro.{paper}.claims")
        except ModuleNotFoundError:
            continue
        if not hasattr(mod, "CHANGES"):
            continue
        revised = {c.id for c in mod.CLAIMS.claims if c.revised}
        assert revised == {ch.claim for ch in mod.CHANGES}, paper
        doc = mod.CLAIMS.evaluate({}, "mini")
        page = render_page(Report(paper=paper, metrics={}, claims=mod.CLAIMS, scale="mini", narrative="",
                                  changes=mod.CHANGES), doc)
        section = page.split("## Claim changes")[1]
        for ch in mod.CHANGES:
            assert f"| {ch.claim} | " in section and ch.old_verdict in section
        checked += 1
    assert checked >= 2  # attngrad and freq at least


@pytest.mark.parametrize("tol,old,new,agrees", [
    (TIMING, 2.0, 10.0, True), (TIMING, 2.0, 0.4, True), (TIMING, 2.0, 0.0, False),  # bounds inclusive; 0 is no ratio
    (ESTIMATE, {"value": 1.0, "ci": [0.5, 1.5]}, 0.5, True), (ESTIMATE, {"value": 1.0, "ci": [0.5, 1.5]}, 1.5, True),
])
def test_tolerance_bounds_are_inclusive(tol, old, new, agrees):
    assert tol.agrees(old, new) is agrees
