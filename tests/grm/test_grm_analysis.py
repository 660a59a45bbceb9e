"""Statistics over seeds and items, and the report's metrics and verdicts on hand-built runs."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.grm.analysis import decode, encode, ensemble_outcomes, peak_drop, two_level
from llmrepro.grm.claims import CLAIMS
from llmrepro.grm.report import claim_changes, metrics, table1
from llmrepro.grm.world import SETS


def test_two_level_degenerate_inputs_give_reasons_not_crashes():
    assert two_level(np.zeros((0, 0)))["value"] is None
    one = two_level(np.array([[0.5, 1.0, 0.0]]))
    assert one["value"] == 0.5 and one["ci"] is None and "seed" in one["why"]
    assert two_level(np.array([[1.0], [0.0]]))["ci"] is None
    nan = two_level(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    assert nan["value"] is None and nan["why"]
    flat = two_level(np.full((5, 7), 0.25))
    assert flat["value"] == 0.25 and flat["ci"] == [0.25, 0.25]


def test_two_level_covers_the_mean_and_is_seeded():
    d = np.random.default_rng(0).normal(0.1, 0.3, (20, 50))
    a, b = two_level(d, n_boot=500, seed=3), two_level(d, n_boot=500, seed=3)
    assert a == b and a["ci"][0] < d.mean() < a["ci"][1]
    # resampling items as well as seeds widens the interval beyond seeds alone
    seeds_only = np.percentile([d[np.random.default_rng(i).integers(0, 20, 20)].mean() for i in range(500)],
                               [2.5, 97.5])
    assert a["ci"][1] - a["ci"][0] > seeds_only[1] - seeds_only[0]


def test_outcome_codes_round_trip():
    x = np.array([1.0, 0.0, 0.5, 1.0])
    assert encode(x) == "10h1" and (decode("10h1") == x).all()


def test_ensemble_averages_rewards_of_consecutive_seeds():
    r = {"0": {"s": [[1.0, 0.0], [0.0, 0.0]]}, "1": {"s": [[0.0, 0.0], [0.0, 3.0]]},
         "2": {"s": [[0.0, 0.0], [5.0, 0.0]]}}
    out = ensemble_outcomes(r, [0, 1, 2], 2, ("s",))
    # ensemble 0 = seeds 0,1: chosen [0.5, 0] vs rejected [0, 1.5] -> right, wrong; ensemble 2 = seeds 2,0:
    # chosen [0.5, 0] vs rejected [2.5, 0] -> wrong, tie
    assert out.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.5]]


def test_peak_drop():
    rising = np.array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]])
    assert peak_drop(rising)["value"] == 0 and not peak_drop(rising)["interior_peak"]
    hump = np.array([[0.1, 0.5, 0.2], [0.1, 0.6, 0.4]])
    d = peak_drop(hump)
    assert d["interior_peak"] and d["peak_index"] == 1 and d["value"] == pytest.approx(0.25)


def _doc(gain: float, n_items: int = 40):
    """BT right on half the primary items, GRM on half + gain; BT relies on the marker."""
    methods = ["frozen", "bt", "margin", "label_smoothing", "grm_sft"]
    seeds, main, small = [0, 1, 2, 3], 8, 4

    def items(method, seed):
        k = n_items // 2 + (int(gain * n_items) if method == "grm_sft" else 0)
        if method == "frozen":  # well above chance: the latent-signal precondition holds
            k = 3 * n_items // 4 + seed % 2
        prim = "1" * k + "0" * (n_items - k)
        return {"id": "1" * n_items, "anti": "0" * n_items, "neutral": "10" * (n_items // 2), "ood_task": prim, "ood_long": "1h" * (n_items // 2),
                "ood_corrupt": "10" * (n_items // 2)}

    runs = []
    for size in (small, main):
        for m in (methods if size == main else ["bt", "grm_sft"]):
            for s in seeds:
                it = items(m, s)
                acc = {k: float(decode(v).mean()) for k, v in it.items()}
                gold_curve = [0.3, 0.5, 0.4] if m == "bt" else [0.3, 0.45, 0.5]
                runs.append({"method": m, "size": size, "seed": s, "acc": acc, "items": it, "lm_nll": 1.0,
                             "bon": {"n": [1, 2, 4], "gold": [g + 0.01 * s for g in gold_curve],
                                     "proxy": [0.0, 0.5, 1.0]}, "cpu_s": 0.1})
    bt_rewards = {str(s): {k: [[1.0] * n_items, [0.0] * n_items] for k in SETS} for s in seeds}
    setup = {"main_size": main, "sizes": [small, main], "seeds": seeds, "methods": methods,
             "size_methods": ["bt", "grm_sft"], "steps": {}}
    cache = {"shortlist": {"size": 3, "coverage_mean": 0.9, "coverage_min": 0.8, "positions": 5},
             "bon": [{"gold_sd": 0.2}]}
    return {"setup": setup, "runs": runs, "bt_rewards": bt_rewards, "cache": cache}


def test_metrics_and_verdicts_on_hand_built_runs():
    m = metrics(_doc(0.25), "ood_task", "grm_sft", n_boot=200, ensemble=3)
    assert m["c1"]["gain_primary"]["value"] == pytest.approx(0.25)
    assert m["c1"]["gain_primary"]["ci"][0] > 0 and m["c1"]["gain_id"]["value"] == 0
    assert m["c3"]["vs_margin"]["value"] == pytest.approx(0.25)
    assert m["c2"]["diff"]["value"] == pytest.approx(0.0)
    assert m["pre"]["bt_anti"]["value"] == 0 and m["pre"]["bt_id"]["value"] == 1
    assert m["methods"]["bt"]["escape"] == 0.0
    assert m["ensemble"]["acc"]["id"]["value"] == 1.0
    assert m["c4"]["bt_drop"]["value"] == pytest.approx(0.1) and m["c4"]["final_gold_gain"]["value"] == \
        pytest.approx(0.1)
    verdicts = {c["id"]: c["verdict"] for c in CLAIMS.evaluate(m, "mini")["claims"]}
    assert verdicts["C1"] == "reproduced" and verdicts["C4"] == "reproduced"
    assert verdicts["C2"] == "not reproduced"  # the same gain at both sizes: a difference of exactly 0
    assert "| bt | 72.1 / 73.4 / 71.2 |" in table1(m, "ood_task")
    # a revised check keeps its original form and verdict on the page
    changes = claim_changes(m, "mini")
    assert "**C4**" in changes and "Original verdict: **reproduced**" in changes and ">= 0.0" in changes


def test_no_gain_is_not_reproduced_and_a_failed_precondition_is_inconclusive():
    doc = _doc(0.0)
    m = metrics(doc, "ood_task", "grm_sft", n_boot=200, ensemble=3)
    c1 = next(c for c in CLAIMS.evaluate(m, "mini")["claims"] if c["id"] == "C1")
    assert c1["verdict"] == "not reproduced"
    for r in doc["runs"]:  # BT no longer relies on the marker: the precondition fails
        r["acc"]["anti"] = 1.0
    m = metrics(doc, "ood_task", "grm_sft", n_boot=200, ensemble=3)
    c1 = next(c for c in CLAIMS.evaluate(m, "mini")["claims"] if c["id"] == "C1")
    assert c1["verdict"] == "inconclusive"
