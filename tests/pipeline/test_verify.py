"""`llmrepro verify`: verdicts must be equal and checked metrics within tolerance; fragile
claims warn; seeds are found by name and shifted to disjoint blocks."""

from __future__ import annotations

import copy

import pytest

from llmrepro.pipeline.claims import Check, Claim, ClaimSet, Tol
from llmrepro.report.verify import VerifyError, compare, deterministic_view, shift_seeds

CLAIMS = ClaimSet("toy", (
    Claim("C1", "gap", (Check("gap", ">", 0, on="ci"),)),
    Claim("C2", "r", (Check("r", ">=", 0.5, tol=Tol(abs=0.05)),)),
    Claim("C3", "exact", (Check("count", "==", 7),)),
    Claim("C4", "fast", (Check("speed.ratio", "<", 1.0),)),
), timings=("speed",))
METRICS = {"gap": {"value": 0.3, "ci": [0.1, 0.5]}, "r": 0.62, "count": 7, "speed": {"ratio": 0.5, "secs": 3.0}}


def _claims(metrics, fragile=()):
    doc = CLAIMS.evaluate(metrics, "mini")
    for c in doc["claims"]:
        c["fragile"] = "not reproduced" if c["id"] in fragile else False
    return doc


def _rows(new_metrics, fragile=()):
    rows = compare(CLAIMS, _claims(METRICS, fragile), _claims(new_metrics), METRICS, new_metrics)
    return {r.id: r for r in rows}


def test_identical_results_agree():
    assert {r.status for r in _rows(copy.deepcopy(METRICS)).values()} == {"ok"}


@pytest.mark.parametrize("change,claim,expect", [
    ({"gap": {"value": 0.45, "ci": [0.2, 0.7]}}, "C1", "ok"),      # inside the committed interval
    ({"gap": {"value": 0.55, "ci": [0.3, 0.8]}}, "C1", "fail"),    # outside it, verdict unchanged
    ({"gap": {"value": 0.1, "ci": [-0.1, 0.3]}}, "C1", "fail"),    # the verdict flips
    ({"r": 0.66}, "C2", "ok"), ({"r": 0.68}, "C2", "fail"),       # declared abs 0.05
    ({"count": 7.0000001}, "C3", "fail"),                          # no interval: relative 1e-6
    ({"speed": {"ratio": 0.9, "secs": 9.0}}, "C4", "ok"),          # a timing: a ratio within 5x
    ({"speed": {"ratio": 0.09, "secs": 0.1}}, "C4", "fail"),
])
def test_tolerances(change, claim, expect):
    assert _rows({**copy.deepcopy(METRICS), **change})[claim].status == expect


def test_a_flip_of_a_fragile_claim_only_warns():
    flipped = {**METRICS, "r": 0.3}
    assert _rows(flipped)["C2"].status == "fail"
    assert _rows(flipped, fragile=("C2",))["C2"].status == "warning"


def test_a_verdict_that_moved_in_the_seed_shift_run_stays_fragile():
    from llmrepro.report.verify import moved_on_record

    on_record = {"papers": {"toy": {"C1": {"committed": "reproduced", "shifted": "reproduced"},
                                    "C2": {"committed": "not reproduced", "shifted": "reproduced"}}}}
    assert moved_on_record(on_record, "toy") == {"C2"} and moved_on_record(on_record, "other") == set()
    flipped = {**METRICS, "r": 0.3}
    rows = {r.id: r for r in compare(CLAIMS, _claims(METRICS), _claims(flipped), METRICS, flipped, {"C2"})}
    assert rows["C2"].status == "warning"  # unmarked on the page (now = shifted), still fragile here


def test_results_at_another_scale_are_not_compared():
    other = _claims(METRICS)
    other["scale"] = "smoke"
    with pytest.raises(VerifyError, match="scale 'mini', these at 'smoke'"):
        compare(CLAIMS, _claims(METRICS), other, METRICS, METRICS)


def test_the_deterministic_view_drops_timings_and_the_verdicts_on_them():
    metrics, doc = deterministic_view(CLAIMS, METRICS, _claims(METRICS))
    assert "speed" not in metrics and metrics["r"] == 0.62
    by_id = {c["id"]: c for c in doc["claims"]}
    assert by_id["C4"]["verdict"] is None and by_id["C1"]["verdict"] == "reproduced"
    assert all("why" not in k and k["measured"] is None for k in by_id["C4"]["checks"])


def test_the_deterministic_view_drops_timings_inside_lists():
    cs = ClaimSet("x", (Claim("C1", "r", (Check("r", ">", 0),)),), timings=("rows.*.secs",))
    metrics, _ = deterministic_view(cs, {"r": 1, "rows": [{"n": 1, "secs": 0.3}, {"n": 2, "secs": 0.5}]},
                                    cs.evaluate({"r": 1}, "mini"))
    assert metrics == {"r": 1, "rows": [{"n": 1}, {"n": 2}]}


def test_shift_seeds_moves_every_seed_to_a_disjoint_block():
    params = {"common": {"scale": "mini", "seed": 0, "tinylm": {"seed": 3, "steps": 10}},
              "freq": {"mini": {"seeds": [1, 2, 3]}, "world_seed": 7, "control_seeds": [0, 1],
                       "seedling": 5, "flag": True, "seeds_note": "x"}}
    out, moved = shift_seeds(params, 1)
    assert out["freq"]["mini"]["seeds"] == [4, 5, 6] and out["freq"]["control_seeds"] == [2, 3]
    assert out["common"]["seed"] == 1 and out["common"]["tinylm"] == {"seed": 4, "steps": 10}
    assert out["freq"]["world_seed"] == 8 and out["freq"]["seedling"] == 5 and out["freq"]["seeds_note"] == "x"
    assert sorted(moved) == ["common.seed", "common.tinylm.seed", "freq.control_seeds", "freq.mini.seeds",
                             "freq.world_seed"]
    assert params["freq"]["mini"]["seeds"] == [1, 2, 3]  # the input is untouched
    assert shift_seeds(params, 2)[0]["freq"]["mini"]["seeds"] == [7, 8, 9]


def test_every_seed_param_in_the_project_is_an_int_or_a_list_of_ints():
    from pathlib import Path

    import yaml

    from llmrepro.report.verify import is_seed_key

    root = Path(__file__).resolve().parents[2]
    bad = []

    def walk(node, path):
        for k, v in (node or {}).items():
            p = f"{path}.{k}" if path else k
            if isinstance(v, dict):
                walk(v, p)
            elif is_seed_key(k) and not (isinstance(v, int) or (isinstance(v, list) and v and
                                                                all(isinstance(x, int) for x in v))):
                bad.append(p)

    for f in ("configs/mini.yaml", "configs/smoke.yaml", "configs/full.yaml"):
        walk(yaml.safe_load((root / f).read_text()), "")
    assert not bad, f"seed params the seed shift cannot move: {bad}"


def test_a_device_bound_claim_only_warns_on_another_cpu():
    bound = ClaimSet("toy", CLAIMS.claims, timings=CLAIMS.timings, device_bound=("C2",))
    flipped = {**METRICS, "r": 0.3}
    same = {r.id: r for r in compare(bound, _claims(METRICS), _claims(flipped), METRICS, flipped)}
    other = {r.id: r for r in compare(bound, _claims(METRICS), _claims(flipped), METRICS, flipped, other_device=True)}
    assert same["C2"].status == "fail"  # the same CPU: compared strictly
    assert other["C2"].status == "warning" and other["C2"].other_device
    moved = {**METRICS, "count": 8}
    assert {r.id: r for r in compare(bound, _claims(METRICS), _claims(moved), METRICS, moved,
                                     other_device=True)}["C3"].status == "fail"  # not device-bound: still fails
    remeasured = {**METRICS, "r": 0.9}  # out of abs 0.05, verdict unchanged: a machine measured again
    row = {r.id: r for r in compare(bound, _claims(METRICS), _claims(remeasured), METRICS, remeasured)}["C2"]
    assert row.status == "warning" and row.warning == "machine measured again" and not row.metrics_agree


def test_device_bound_must_name_declared_claims():
    with pytest.raises(ValueError, match=r"device_bound names C9, which are not claims \(claims: C1, C2"):
        ClaimSet("toy", CLAIMS.claims, device_bound=("C9",))


def test_a_verdict_seen_moving_elsewhere_marks_the_claim_fragile_while_it_stands():
    from llmrepro.report.pages import judge, verdict_cell

    seen = ClaimSet("toy", CLAIMS.claims, seen_moving=(("C2", "reproduced", "inconclusive", "CI recompute"),))
    c2 = {c["id"]: c for c in judge(seen, METRICS, "mini", {})["claims"]}["C2"]
    assert c2["fragile"] == "inconclusive" and "(CI recompute: inconclusive)" in verdict_cell(c2)
    later = judge(seen, {**METRICS, "r": 0.3}, "mini", {})  # another verdict now
    c2_later = {c["id"]: c for c in later["claims"]}["C2"]
    assert c2_later["fragile"] is False
    # seen moving both ways (CI one way, a second measurement the other): fragile at either verdict
    both_ways = ClaimSet("toy", CLAIMS.claims, seen_moving=(
        ("C2", "reproduced", "inconclusive", "CI recompute"),
        ("C2", c2_later["verdict"], "reproduced", "a second measurement")))
    again = {c["id"]: c for c in judge(both_ways, {**METRICS, "r": 0.3}, "mini", {})["claims"]}["C2"]
    assert again["fragile"] == "reproduced" and again["fragile_where"] == "a second measurement"
    assert {c["id"]: c for c in judge(both_ways, METRICS, "mini", {})["claims"]}["C2"]["fragile"] == "inconclusive"
    shifted = {"papers": {"toy": {"C2": {"committed": "reproduced", "shifted": "not reproduced"}}}}
    both = {c["id"]: c for c in judge(seen, METRICS, "mini", shifted)["claims"]}["C2"]
    assert both["fragile"] == "not reproduced" and "fragile_where" not in both  # the seed shift is named first
    with pytest.raises(ValueError, match="is no move"):
        ClaimSet("toy", CLAIMS.claims, seen_moving=(("C2", "reproduced", "reproduced", "CI"),))


def test_robustness_page_says_when_papers_were_rerun_at_different_times():
    from llmrepro.report.verify import render_robustness

    doc = {"shift": 1, "scale": "mini", "made": "t2", "seed_keys": ["toy.seed"],
           "papers": {"toy": {"C1": {"committed": "reproduced", "shifted": "reproduced"}},
                      "other": {"C1": {"committed": "reproduced", "shifted": "inconclusive"}}}}
    page = render_robustness(doc)
    assert "1 of 2 verdicts hold; 1 fragile." in page and "different times" not in page
    page = render_robustness({**doc, "papers": {**doc["papers"], "third": {}},
                              "made_by_paper": {"toy": "t1", "other": "t2", "third": "t1"}})
    assert "Rows made at different times: third, toy at t1; other at t2." in page
