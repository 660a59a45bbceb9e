"""mspoe report metrics on hand-built results, with hand-computed values, and the claims they feed."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.mspoe.claims import CLAIMS
from llmrepro.mspoe.metrics import dip, recency, signflip_ci, table
from llmrepro.mspoe.report import dip_ci, metrics, minus_best, paired_gain, recency_ci


def _res(grid: list[list[float]], key: str = "correct") -> dict:
    """One task's result from a (contexts, positions) grid; positions 0, 5, 9, ..."""
    pos = [0, 5, 9, 14, 19][: len(grid[0])]
    return {"rows": [{"context": c, "position": p, key: v, "cand_logprob": -float(v)}
                     for c, row in enumerate(grid) for p, v in zip(pos, row)]}


def test_table_orders_contexts_and_positions_and_refuses_missing_cells():
    rows = [{"context": 7, "position": 3, "correct": 1}, {"context": 7, "position": 0, "correct": 0},
            {"context": 2, "position": 0, "correct": 1}, {"context": 2, "position": 3, "correct": 1}]
    pos, t = table(rows)
    assert pos == [0, 3] and t.tolist() == [[0, 1], [1, 1]]
    with pytest.raises(ValueError, match="every position"):
        table(rows[:3])


def test_dip_and_recency_per_context_by_hand():
    t = np.array([[1, 0, 0, 1], [1, 1, 0, 0]], dtype=float)
    # ctx 0: ends 1, middle 0 -> 1; ctx 1: ends 0.5, middle 0.5 -> 0. Recency: 1 - 0 and 0 - 0.5
    assert dip(t).tolist() == [1.0, 0.0] and recency(t).tolist() == [1.0, -0.5]
    assert dip(1 - t).tolist() == [-1.0, 0.0]  # the sign: middle above ends gives a negative dip


def test_signflip_interval_by_hand():
    # three contexts can never reject: the smallest two-sided p is 2 / 8 = 0.25, so the interval is the whole range
    assert signflip_ci([1.0, 1.0, 1.0])["ci"] == [-1.0, 1.0]
    # six agreeing contexts: p = 2 / 64 < 0.05 for every shift but the value itself
    six = signflip_ci([1.0] * 6)
    assert six["value"] == 1.0 and six["ci"] == [1.0, 1.0]
    # five of six at 1, one at 0: at shift 0, |sum of flipped values| >= 5 only when the five agree: p = 4 / 64 > 0.05
    mixed = signflip_ci([1.0, 1, 1, 1, 1, 0])
    assert mixed["value"] == pytest.approx(5 / 6) and mixed["ci"][0] <= 0 < mixed["ci"][1]
    # ... while shifting down to -0.5 is rejected: every flip pattern but the two all-equal ones gives less
    assert mixed["ci"][0] > -0.5
    # weights: a weighted mean, and the interval of the same test on the weighted sum
    w = signflip_ci([1.0, 0.0], weights=[0.75, 0.25])
    assert w["value"] == 0.75 and w["ci"] == [-1.0, 1.0]


def test_signflip_degenerate_inputs_give_a_reason_not_a_crash():
    assert signflip_ci([])["why"] == "no contexts"
    assert signflip_ci([1.0, float("nan")])["value"] is None
    one = signflip_ci([0.5])
    assert one["value"] == 0.5 and one["ci"] == [-1.0, 1.0]
    flat = signflip_ci([0.0] * 8)
    assert flat["ci"] == [0.0, 0.0]
    wide = signflip_ci([1e300, -1e300, 3.0], bounds=None)  # overflowing spreads give no finite interval
    assert wide["ci"] is None or np.isfinite(wide["ci"]).all()
    unb = signflip_ci([-0.7, -0.9, -0.8], bounds=None)
    assert unb["ci"] is None and "unbounded" in unb["why"]
    many = signflip_ci(np.linspace(0.5, 1.0, 30), n_flips=2000, seed=3)  # random sign patterns beyond 14
    assert many["ci"][0] > 0 and many == signflip_ci(np.linspace(0.5, 1.0, 30), n_flips=2000, seed=3)


def test_dip_ci_pools_tasks_as_the_mean_of_their_mean_dips():
    kv, mdqa = [[1, 0, 1], [1, 0, 1]], [[0, 0, 1, 1, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 1]]
    out = dip_ci({"kv": _res(kv), "mdqa": _res(mdqa)}, ("kv", "mdqa"))
    # kv dips 1, 1 -> 1; mdqa dips -2/3, -1/3, 1 -> 0; mean of the two tasks 0.5
    assert out["value"] == pytest.approx(0.5) and out["n"] == 5
    assert out["ci"][0] <= 0.5 <= out["ci"][1]
    flip = lambda g: (1 - np.array(g)).tolist()
    assert dip_ci({"kv": _res(flip(kv)), "mdqa": _res(flip(mdqa))}, ("kv", "mdqa"))["value"] == pytest.approx(-0.5)


def test_recency_ci_by_hand():
    res = {"long": _res([[1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 1, 0]])}
    # per context: 1 - 0, 1 - 0, 0 - 0.5 -> mean 0.5
    assert recency_ci(res, "long")["value"] == pytest.approx(0.5)


def test_paired_gain_by_hand():
    a = _res([[1, 1, 1], [0, 1, 0]] * 3)
    b = _res([[1, 0, 1], [0, 0, 0]] * 3)
    # a - b per context: +1/3 in all six: every shift but 1/3 is rejected (p = 2 / 64)
    g = paired_gain(a, b)
    assert g["value"] == pytest.approx(1 / 3) and g["ci"] == pytest.approx([1 / 3, 1 / 3], abs=1e-9)
    assert paired_gain(a, b, middle=True)["value"] == pytest.approx(1.0)
    assert paired_gain(b, a)["value"] == pytest.approx(-1 / 3)
    assert paired_gain(a, b, key="cand_logprob")["value"] == pytest.approx(-1 / 3)


def test_minus_best_is_an_intersection_union_over_the_comparators():
    a = _res([[1, 1, 1], [1, 0, 1]] * 3)  # mean 5/6
    u1 = _res([[1, 0, 1], [0, 0, 0]] * 3)  # 2/6
    u2 = _res([[0, 0, 0], [1, 1, 1]] * 3)  # 3/6
    out = minus_best(a, {"uniform_1.1": u1, "uniform_1.2": u2})
    assert out["best"] == "uniform_1.2" and out["value"] == pytest.approx(5 / 6 - 3 / 6)
    each = out["each"]
    assert out["ci"] == [min(g["ci"][0] for g in each.values()), min(g["ci"][1] for g in each.values())]
    assert each["uniform_1.1"]["value"] == pytest.approx(0.5)
    assert minus_best(a, {})["value"] is None


def _results(base_long, msp_long, uniform_long, seq_long=None):
    short = _res([[1, 0, 0, 1, 1], [1, 0, 1, 0, 1]] * 3)
    mk = lambda long: {"kv": short, "mdqa": short, "long": long}
    return {"baseline": mk(_res(base_long)), "ms_poe_outlier": mk(_res(msp_long)),
            "ms_poe_sequential": mk(_res(seq_long or base_long)),
            **{f"uniform_{r}": {"long": _res(g)} for r, g in uniform_long.items()},
            "_prompt_tokens": {"kv": [10, 12], "mdqa": [20, 22], "long": [2000, 2010]}, "_window": 8192,
            "_model": {"layers": 30, "heads": 9, "kv_heads": 3, "rope_theta": 1e5}}


def _verdicts(m):
    return {c["id"]: c["verdict"] for c in CLAIMS.evaluate(m, "mini")["claims"]}


def test_metrics_and_verdicts_when_ms_poe_lifts_the_middle():
    base = [[1, 0, 0, 0, 1]] * 6  # a distance-driven dip: both ends above the middle
    msp = [[1, 1, 1, 1, 1]] * 6
    m = metrics(_results(base, msp, {1.1: base, 1.5: [[1, 1, 0, 0, 1]] * 6}))
    assert m["baseline"]["dip"]["value"] == pytest.approx(2 / 3)  # short tasks: ends 1, middle 2/6
    assert m["long"]["dip"]["value"] == 1.0 and m["long"]["recency"]["value"] == 1.0
    assert m["ms_poe"]["mean_gain"]["value"] == pytest.approx(0.6)
    assert m["ms_poe"]["middle_gain"]["value"] == pytest.approx(1.0)
    assert m["ms_poe"]["minus_best_uniform"]["value"] == pytest.approx(1 - 0.6)
    assert m["ms_poe"]["minus_best_uniform"]["best"] == "uniform_1.5"
    assert m["contexts"] == {"kv": 6, "mdqa": 6, "long": 6}
    assert _verdicts(m) == {"C1": "reproduced", "C2": "reproduced", "C3": "reproduced"}


def test_verdicts_when_ms_poe_hurts_when_the_dip_is_primacy_alone_and_with_too_few_contexts():
    base = [[1, 0, 0, 0, 1], [1, 0, 1, 0, 1]] * 3
    worse = [[0, 0, 0, 0, 0]] * 6
    v = _verdicts(metrics(_results(base, worse, {1.1: base})))
    assert v["C2"] == "not reproduced" and v["C3"] == "not reproduced"
    primacy = [[1, 0, 0, 0, 0]] * 6  # the last position no better than the middle: the precondition fails
    v = _verdicts(metrics(_results(primacy, worse, {1.1: primacy})))
    assert v["C2"] == "inconclusive" and v["C3"] == "inconclusive"
    v = _verdicts(metrics(_results(base[:3], worse[:3], {1.1: base[:3]})))  # 3 contexts decide nothing
    assert v["C2"] == "inconclusive" and v["C3"] == "inconclusive"
