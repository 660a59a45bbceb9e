"""mspoe report metrics on hand-built results, with hand-computed values, and the claims they feed."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.mspoe.claims import CLAIMS
from llmrepro.mspoe.metrics import boot, dip, position_ci, recency, table
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


def test_dip_and_recency_by_hand():
    t = np.array([[1, 0, 0, 1], [1, 1, 0, 0]], dtype=float)
    # ends: (1 + 1 + 1 + 0) / 4 = 0.75; middle: (0 + 0 + 1 + 0) / 4 = 0.25; last: 0.5
    assert dip(t) == pytest.approx(0.5) and recency(t) == pytest.approx(0.25)
    assert dip(1 - t) == pytest.approx(-0.5)  # the sign: middle above ends gives a negative dip


def test_dip_ci_by_hand_two_contexts():
    # ctx 0: [1, 0, 1] (dip 1), ctx 1: [1, 1, 0] (ends 0.5, middle 1: dip -0.5); both: ends 0.75, middle 0.5
    res = {"kv": _res([[1, 0, 1], [1, 1, 0]])}
    out = dip_ci(res, ("kv",), n_boot=4000)
    assert out["value"] == pytest.approx(0.25)
    # resamples: both ctx 0 (p = 1/4) -> 1, both ctx 1 (1/4) -> -0.5, one of each -> 0.25
    assert out["ci"] == pytest.approx([-0.5, 1.0])


def test_dip_ci_pools_tasks_as_the_mean_of_their_dips():
    res = {"kv": _res([[1, 0, 1], [1, 0, 1]]), "mdqa": _res([[0, 0, 1, 1, 0], [0, 1, 0, 0, 0]])}
    # kv: 1 - 0 = 1; mdqa: ends 0, middle 3/6 = 0.5 -> -0.5; mean 0.25
    out = dip_ci(res, ("kv", "mdqa"), n_boot=200)
    assert out["value"] == pytest.approx(0.25)
    assert out["ci"][0] <= 0.25 <= out["ci"][1]


def test_recency_ci_by_hand():
    res = {"long": _res([[1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 1, 0]])}
    # last: 2/3; middle: 1/6 -> 0.5
    assert recency_ci(res, "long", 200)["value"] == pytest.approx(0.5)


def test_paired_gain_by_hand_and_its_interval_resamples_contexts_together():
    a = _res([[1, 1, 1], [0, 1, 0]])
    b = _res([[1, 0, 1], [0, 0, 0]])
    # a - b per context: ctx 0 +1/3, ctx 1 +1/3: every resample gives 1/3
    g = paired_gain(a, b, 500)
    assert g["value"] == pytest.approx(1 / 3) and g["ci"] == pytest.approx([1 / 3, 1 / 3])
    assert paired_gain(a, b, 500, middle=True)["value"] == pytest.approx(1.0)
    assert paired_gain(b, a, 500)["value"] == pytest.approx(-1 / 3)
    assert paired_gain(a, b, 500, key="cand_logprob")["value"] == pytest.approx(-1 / 3)


def test_minus_best_picks_the_best_comparator_and_reselects_it_in_resamples():
    a = _res([[1, 1, 1], [1, 0, 1]])  # mean 5/6
    u1 = _res([[1, 0, 1], [0, 0, 0]])  # 2/6
    u2 = _res([[0, 0, 0], [1, 1, 1]])  # 3/6
    out = minus_best(a, {"uniform_1.1": u1, "uniform_1.2": u2}, 4000)
    assert out["best"] == "uniform_1.2" and out["value"] == pytest.approx(5 / 6 - 3 / 6)
    # resample (ctx 0, ctx 0): 1 - max(2/3, 0) = 1/3; (ctx 1, ctx 1): 2/3 - max(0, 1) = -1/3
    assert out["ci"] == pytest.approx([-1 / 3, 1 / 3])
    assert minus_best(a, {}, 10)["value"] is None


def test_boot_degenerate_inputs_give_a_reason_not_a_crash():
    assert boot([], lambda ts: 0.0, 10)["why"] == "no contexts"
    assert boot([np.zeros((0, 3))], lambda ts: ts[0].mean(), 10)["value"] is None
    one = boot([np.ones((1, 3))], lambda ts: ts[0].mean(), 10)
    assert one["value"] == 1.0 and one["ci"] is None and "fewer than 2" in one["why"]
    nan = boot([np.ones((3, 3))], lambda ts: float("nan"), 10)
    assert nan["value"] is None and "undefined" in nan["why"]
    flat = boot([np.ones((4, 3))], lambda ts: ts[0].mean(), 50)
    assert flat["ci"] == [1.0, 1.0]
    huge = boot([np.full((3, 2), 1e308)], lambda ts: ts[0].sum(), 20)  # overflows to inf
    assert huge["value"] is None
    assert position_ci(np.array([[1.0, 0.0], [1.0, 1.0]]), 100)[0] == {"value": 1.0, "ci": [1.0, 1.0], "n": [2]}


def _results(base_long, msp_long, uniform_long, seq_long=None):
    short = _res([[1, 0, 0, 1, 1], [1, 0, 1, 0, 1]])
    mk = lambda long: {"kv": short, "mdqa": short, "long": long}
    res = {"baseline": mk(_res(base_long)), "ms_poe_outlier": mk(_res(msp_long)),
           "ms_poe_sequential": mk(_res(seq_long or base_long)),
           **{f"uniform_{r}": {"long": _res(g)} for r, g in uniform_long.items()},
           "_prompt_tokens": {"kv": [10, 12], "mdqa": [20, 22], "long": [2000, 2010]}, "_window": 8192,
           "_model": {"layers": 30, "heads": 9, "kv_heads": 3, "rope_theta": 1e5}}
    return res


def _verdicts(m):
    return {c["id"]: c["verdict"] for c in CLAIMS.evaluate(m, "mini")["claims"]}


def test_metrics_and_verdicts_when_ms_poe_lifts_the_middle():
    base = [[1, 0, 0, 0, 1]] * 4  # a distance-driven dip: both ends above the middle
    msp = [[1, 1, 1, 1, 1]] * 4
    m = metrics(_results(base, msp, {1.1: base, 1.5: [[1, 1, 0, 0, 1]] * 4}), 200)
    assert m["baseline"]["dip"]["value"] == pytest.approx(2 / 3)  # short tasks: ends 1, middle 2/6
    assert m["long"]["dip"]["value"] == 1.0 and m["long"]["recency"]["value"] == 1.0
    assert m["ms_poe"]["mean_gain"]["value"] == pytest.approx(0.6)
    assert m["ms_poe"]["middle_gain"]["value"] == pytest.approx(1.0)
    assert m["ms_poe"]["minus_best_uniform"]["value"] == pytest.approx(1 - 0.6)
    assert m["ms_poe"]["minus_best_uniform"]["best"] == "uniform_1.5"
    assert m["contexts"] == {"kv": 2, "mdqa": 2, "long": 4}
    assert _verdicts(m) == {"C1": "reproduced", "C2": "reproduced", "C3": "reproduced"}


def test_verdicts_when_ms_poe_hurts_and_when_the_dip_is_primacy_alone():
    base = [[1, 0, 0, 0, 1], [1, 0, 1, 0, 1], [1, 0, 0, 0, 1]]
    worse = [[0, 0, 0, 0, 0]] * 3
    v = _verdicts(metrics(_results(base, worse, {1.1: base}), 200))
    assert v["C2"] == "not reproduced" and v["C3"] == "not reproduced"
    primacy = [[1, 0, 0, 0, 0]] * 3  # the last position no better than the middle: the precondition fails
    v = _verdicts(metrics(_results(primacy, worse, {1.1: primacy}), 200))
    assert v["C2"] == "inconclusive" and v["C3"] == "inconclusive"
