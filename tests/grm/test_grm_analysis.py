"""Statistics over seeds and items, and the report's metrics and verdicts on hand-built runs."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.grm.analysis import decode, encode, ensemble_outcomes, over_worlds, peak_drop, within_var
from llmrepro.grm.claims import CHANGES, CLAIMS
from llmrepro.grm.report import metrics, table1
from llmrepro.grm.world import SETS
from scipy import stats

from llmrepro.stats import mean_ci


def test_over_worlds_degenerate_inputs_give_reasons_not_crashes():
    assert over_worlds([], [])["value"] is None
    assert over_worlds(np.zeros((2, 0)), [0, 1])["value"] is None
    assert over_worlds([1.0, 2.0], [0])["why"] == "values and worlds disagree"
    one = over_worlds([0.5, 1.0, 0.0], [3, 3, 3])
    assert one["value"] == 0.5 and one["ci"] is None and "one world" in one["why"]
    nan = over_worlds([np.nan, np.nan, 1.0, 0.0], [0, 0, 1, 1])  # world 0 has no finite value
    assert nan["value"] == 0.5 and nan["n_worlds"] == 1 and nan["ci"] is None
    assert over_worlds([np.nan], [0])["why"] == "no finite value in any run"
    flat = over_worlds(np.full((6, 7), 0.25), [0, 1, 2, 0, 1, 2])
    assert flat["value"] == 0.25 and flat["ci"] == [0.25, 0.25] and flat["n_seeds"] == 6
    rows = over_worlds(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.5, 0.5]]), [0, 0, 1, 1])
    assert rows["world_means"] == [0.75, 0.25] and rows["value"] == 0.5


def test_over_worlds_covers_a_between_world_shift_that_one_world_missed():
    """Seeds agree within a world, worlds disagree (as grm C3 did between its two seed blocks): an interval
    over the seeds of one world excludes the truth (0), the interval over world means covers it and is
    wider than one that pools the seeds of every world as if independent."""
    offsets = [0.1, -0.1, 0.08, -0.08]
    noise = np.random.default_rng(0).normal(0, 0.01, (4, 5))
    d = np.array([o + n for o, row in zip(offsets, noise) for n in row])
    worlds = [w for w in range(4) for _ in range(5)]
    one_world = mean_ci(d[:5].tolist())
    assert one_world["ci"][0] > 0
    new = over_worlds(d, worlds)
    assert new["ci"][0] < 0 < new["ci"][1] and new["n_worlds"] == 4
    assert all(new["ci"][0] < m < new["ci"][1] for m in (0.08, -0.08))
    pooled = mean_ci(d.tolist())
    assert new["ci"][1] - new["ci"][0] > 2 * (pooled["ci"][1] - pooled["ci"][0])


def test_within_var_is_the_sampling_variance_of_a_crossed_world_mean():
    """Seeds x shared items with seed, item and residual effects: the ANOVA estimate averages to the
    variance of the block mean, sigma_s^2/s + sigma_i^2/i + sigma_r^2/(s i) (Monte Carlo, 4000 blocks)."""
    rng = np.random.default_rng(1)
    s, i, (ss, si, sr) = 3, 20, (0.05, 0.1, 0.2)
    truth = ss ** 2 / s + si ** 2 / i + sr ** 2 / (s * i)
    blocks = (rng.normal(0, ss, (4000, s, 1)) + rng.normal(0, si, (4000, 1, i))
              + rng.normal(0, sr, (4000, s, i)))
    est = np.mean([within_var(b) for b in blocks])
    assert abs(est / truth - 1) < 0.05
    assert abs(blocks.mean((1, 2)).var() / truth - 1) < 0.05  # the truth is right
    assert within_var(np.array([1.0, 2.0, 3.0])) == 1.0 / 3  # per-seed values: var / n
    assert within_var(np.zeros((3, 5))) == 0.0 and within_var(np.ones((1, 4))) == 0.0
    assert within_var(np.full((3, 20), 0.1)) == 0.0  # the sums would leave rounding noise (~1e-19)


def test_equal_world_means_keep_their_own_sampling_noise():
    """Quantized outcomes can give four equal world means: the plain t-interval over them has width 0
    (as grm C1's committed three-of-four equal means nearly did); the floor keeps each mean's noise."""
    world = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])  # mean 0.5: the seeds agree, items differ
    x, worlds = np.vstack([world] * 4), [w for w in range(4) for _ in range(2)]
    out = over_worlds(x, worlds)
    assert out["world_means"] == [0.5] * 4 and mean_ci(out["world_means"])["ci"] == [0.5, 0.5]
    half = stats.t.ppf(0.975, 3) * np.sqrt(within_var(world) / 4)
    assert out["floor"] and within_var(world) > 0 and np.allclose(out["ci"], [0.5 - half, 0.5 + half])


def _paired_world(rng, shift: float) -> np.ndarray:
    """One world of paired outcome differences: 3 seeds x 20 shared items, mostly ties, an item's sign
    usually shared by the seeds, plus a world effect `shift`."""
    flip = lambda size: rng.choice([-1.0, 0.0, 1.0], size=size, p=[0.05, 0.9, 0.05])
    base = flip(20)
    return np.array([np.where(rng.random(20) < 0.7, base, flip(20)) for _ in range(3)]) + shift


def test_floored_interval_is_conservative_without_world_effects_and_plain_with_them():
    """The price of the floor, measured: without a world effect the plain t-interval over 4 world means
    covers the truth (0) about 95 % of the time and the floored one more; with a world effect far
    above the items' noise the floor is inactive and the two intervals are the same."""
    rng = np.random.default_rng(2)
    worlds = [w for w in range(4) for _ in range(3)]
    plain = floored = 0
    for _ in range(1000):
        out = over_worlds(np.vstack([_paired_world(rng, 0.0) for _ in range(4)]), worlds)
        lo, hi = mean_ci(out["world_means"])["ci"]
        plain += lo <= 0 <= hi
        floored += out["ci"][0] <= 0 <= out["ci"][1]
    assert 0.93 <= plain / 1000 <= 0.98 and floored / 1000 >= 0.98
    out = over_worlds(np.vstack([_paired_world(rng, m) for m in (0.5, -0.5, 1.0, -1.0)]), worlds)
    assert not out["floor"] and out["ci"] == mean_ci(out["world_means"])["ci"]


def test_outcome_codes_round_trip():
    x = np.array([1.0, 0.0, 0.5, 1.0])
    assert encode(x) == "10h1" and (decode("10h1") == x).all()


def test_ensemble_averages_rewards_of_consecutive_seeds_of_one_world():
    r = {"0": {"s": [[1.0, 0.0], [0.0, 0.0]]}, "1": {"s": [[0.0, 0.0], [0.0, 3.0]]},
         "2": {"s": [[0.0, 0.0], [5.0, 0.0]]}, "9": {"s": [[9.0, 9.0], [0.0, 0.0]]}}
    out = ensemble_outcomes(r, [0, 1, 2, 9], 2, ("s",), [0, 0, 0, 1])
    # ensemble 0 = seeds 0,1: chosen [0.5, 0] vs rejected [0, 1.5] -> right, wrong; ensemble 2 = seeds 2,0:
    # chosen [0.5, 0] vs rejected [2.5, 0] -> wrong, tie; seed 9 is alone in its world (itself twice)
    assert out.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.5], [1.0, 1.0]]


def test_peak_drop():
    rising = np.array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]])
    assert peak_drop(rising, [0, 1])["value"] == 0 and not peak_drop(rising, [0, 1])["interior_peak"]
    hump = np.array([[0.1, 0.5, 0.2], [0.1, 0.6, 0.4], [0.1, 0.6, 0.4]])
    d = peak_drop(hump, [0, 1, 1])  # world means of the drops: 0.3 and 0.2
    assert d["interior_peak"] and d["peak_index"] == 1 and d["value"] == pytest.approx(0.25)
    assert d["n_worlds"] == 2 and d["ci"] is not None


def _doc(gain: float, n_items: int = 40):
    """BT right on half the primary items, GRM on half + gain; BT relies on the marker. One seed in each of
    four worlds: the gain's interval comes from the items alone (the world means agree)."""
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
                runs.append({"method": m, "size": size, "seed": s, "world": s, "acc": acc, "items": it,
                             "lm_nll": 1.0,
                             "bon": {"n": [1, 2, 4], "gold": [g + 0.01 * s for g in gold_curve],
                                     "proxy": [0.0, 0.5, 1.0]}, "cpu_s": 0.1})
    bt_rewards = {str(s): {k: [[1.0] * n_items, [0.0] * n_items] for k in SETS} for s in seeds}
    setup = {"main_size": main, "sizes": [small, main], "seeds": seeds, "world_seeds": [0, 1, 2, 3], "methods": methods,
             "size_methods": ["bt", "grm_sft"], "steps": {}}
    cache = {"shortlist": {"size": 3, "coverage_mean": 0.9, "coverage_min": 0.8, "positions": 5},
             "bon": [{"gold_sd": 0.2}]}
    return {"setup": setup, "runs": runs, "bt_rewards": bt_rewards, "cache": cache}


def test_metrics_and_verdicts_on_hand_built_runs():
    m = metrics(_doc(0.25), "ood_task", "grm_sft", ensemble=2)
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
    assert m["c1"]["gain_primary"]["n_worlds"] == 4 and m["pre"]["frozen_primary"]["n_worlds"] == 4


def test_c1_margin_is_judged_on_its_interval():
    """A gain below the 2-point margin whose interval holds the margin is no evidence against C1."""
    m = metrics(_doc(0.25), "ood_task", "grm_sft", ensemble=2)

    def c1(gain, gain_id=(0.0, [-0.005, 0.005])):
        m["c1"]["gain_primary"] = {"value": gain[0], "ci": gain[1]}
        m["c1"]["gain_id"] = {"value": gain_id[0], "ci": gain_id[1]}
        return next(c for c in CLAIMS.evaluate(m, "mini")["claims"] if c["id"] == "C1")["verdict"]

    assert c1((-0.034, [-0.131, 0.062])) == "inconclusive"  # the committed numbers before the revision
    assert c1((0.01, [0.0, 0.019])) == "not reproduced"  # the whole interval below the margin
    assert c1((0.05, [0.021, 0.08])) == "reproduced"
    assert c1((0.05, [0.021, 0.08]), gain_id=(0.0, [-0.03, 0.03])) == "inconclusive"  # ID loss not ruled out


def test_every_revised_claim_keeps_its_old_checks_at_both_seed_blocks():
    revised = {c.id for c in CLAIMS.claims if c.revised}
    assert revised == {"C1", "C2", "C3", "C4"} == {c.claim for c in CHANGES}
    for c in CHANGES:
        assert c.old_verdict.count(";") == 1 and c.old_measured.count(";") == 1 and c.reason and c.commit


def test_no_gain_is_not_reproduced_and_a_failed_precondition_is_inconclusive():
    doc = _doc(0.0)
    m = metrics(doc, "ood_task", "grm_sft", ensemble=2)
    c1 = next(c for c in CLAIMS.evaluate(m, "mini")["claims"] if c["id"] == "C1")
    assert c1["verdict"] == "not reproduced"
    for r in doc["runs"]:  # BT no longer relies on the marker: the precondition fails
        r["acc"]["anti"] = 1.0
    m = metrics(doc, "ood_task", "grm_sft", ensemble=2)
    c1 = next(c for c in CLAIMS.evaluate(m, "mini")["claims"] if c["id"] == "C1")
    assert c1["verdict"] == "inconclusive"
