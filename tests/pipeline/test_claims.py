"""Verdicts follow the declared tests and the intervals, nothing else."""

from __future__ import annotations

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


def test_paired_bootstrap_is_seeded_and_centred():
    a, b = [1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 7]
    r1, r2 = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    assert r1 == r2
    assert r1["value"] == 1.0 and r1["ci"] == [1.0, 1.0]


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
