"""hwgpt: the report's metrics on hand-built inputs, the machine fingerprint, memory by hand, and the
claims' verdict logic on hand-built metrics."""

from __future__ import annotations

import os

import numpy as np
import pytest

from llmrepro.hwgpt import analysis as A
from llmrepro.hwgpt import hardware as H
from llmrepro.hwgpt.space import Arch, Space


@pytest.fixture
def space():
    return Space([16, 32], [1, 2], [1, 2], [1, 2], 8, 16, 50)


def _hw(space, walls: dict, cpu_scale=1.0, load=1.0):
    archs = space.all[:len(next(iter(walls.values())))]
    return {"machine": "m | 2 cpus | torch x", "archs": [a.as_dict() for a in archs], "measure_s": 1.0,
            "load_before": {}, "load_after": {}, "energy": H.energy_status(),
            "memory": {"batch": 2, "seq_len": 8, "rss": [], "analytic": []},
            "rounds": [{"round": 0, "device": d, "loadavg1": load} for d in walls],
            "devices": {d: {"threads": i + 1, "batch": 1, "seq_len": 8, "wall_ms": W.tolist(),
                            "cpu_ms": (W * cpu_scale).tolist(), "procs_running": np.ones_like(W, int).tolist()}
                        for i, (d, W) in enumerate(walls.items())}}


def test_hardware_metrics_on_a_noiseless_machine(space):
    n, R = 12, 6
    rng = np.random.default_rng(0)
    base1 = np.linspace(1, 12, n)  # device 1 follows the index ...
    base2 = base1[::-1].copy()  # ... device 2 the reverse: the fronts must differ
    walls = {"t1_b1": base1[:, None] * (1 + 0.001 * rng.random((n, R))),
             "t2_b8": base2[:, None] * (1 + 0.001 * rng.random((n, R)))}
    nll = np.log(np.linspace(50, 20, n)).tolist()  # later architectures have lower perplexity
    m = A.hardware_metrics(_hw(space, walls), nll, space, 50, 0)
    d1 = m["devices"]["t1_b1"]
    assert d1["split_half_tau"]["value"] == pytest.approx(1.0)
    assert d1["preempted_fraction"] == 0.0 and m["devices"]["t2_b8"]["preempted_fraction"] is None
    assert m["quiet"] is True
    # device 1: latency rises as perplexity falls, so every architecture is Pareto-optimal;
    # device 2: the last architecture is fastest and best, it alone is the front
    keys = [a.key for a in space.all[:n]]
    assert m["pareto"]["fronts"]["t1_b1"] == sorted(keys)
    assert m["pareto"]["fronts"]["t2_b8"] == [keys[-1]]
    assert m["pareto"]["jaccard_between"] == pytest.approx(1 / n)
    assert m["pareto"]["jaccard_margin"] == pytest.approx(1 - 1 / n)


def test_a_loaded_machine_is_not_quiet(space):
    W = np.full((6, 4), 2.0)
    m = A.hardware_metrics(_hw(space, {"t1_b1": W, "t2_b8": W}, cpu_scale=0.5), [3.0] * 6, space, 20, 0)
    assert m["devices"]["t1_b1"]["preempted_fraction"] == 1.0 and m["quiet"] is False
    # constant latencies: no rank correlation, a reason instead of a number
    assert m["devices"]["t1_b1"]["split_half_tau"]["value"] is None
    m2 = A.hardware_metrics(_hw(space, {"t1_b1": W * np.arange(1, 7)[:, None], "t2_b8": W}, load=6.0),
                            [3.0] * 6, space, 20, 0)
    assert m2["quiet"] is False  # CPU time equals wall time, but the load average was high


def test_jaccard_and_search_metrics_by_hand():
    assert A.jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3) and A.jaccard([], []) is None
    hv = {"rs": [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]], "ls": [[0.1, 0.5, 0.6], [0.1, 0.6, 0.7]]}
    doc = {"devices": {"d": {"hv_true": 1.0, "front_keys": ["x"], "runs": {
        m: [{"hv": h} for h in hs] for m, hs in hv.items()}}}}
    out = A.search_metrics(doc, small=2, budget=3)["d"]
    assert out["methods"]["rs"]["hv_small"]["value"] == pytest.approx(0.2)
    assert out["methods"]["ls"]["hv_small"]["value"] == pytest.approx(0.55)
    assert out["rs_regret_small_rel"] == pytest.approx(0.8)
    assert out["best_guided_small"] == "ls"
    # RS has zero spread: its interval is the point 0.2; LS's lower end is 0.55 - t(0.975,1)*0.05/sqrt(2)*sqrt(2)
    from scipy.stats import t
    lo = 0.55 - t.ppf(0.975, 1) * np.std([0.5, 0.6], ddof=1) / np.sqrt(2)
    assert out["best_guided_margin_small"] == pytest.approx(lo - 0.2)


def test_supernet_metrics_and_a_zero_noise_repeat():
    hist = {"final": {"largest": 5.0, "smallest": 5.5}, "unigram_nll": 6.0, "tokens_per_s": 1.0,
            "tokens_per_subnet": 10}
    runs = [{"nll": v, "key": f"a{i}", "params": 100 * (i + 1)} for i, v in enumerate([5.9, 5.6, 5.4, 5.2])]
    ppl = {"standalone_inherited_nll": [5.8, 5.7, 5.3, 5.1]}
    sa = {"runs": runs, "noise_repeat": {"nll": [5.6, 5.5]}}
    m = A.supernet_metrics(hist, sa, ppl, 50, 0)
    assert m["learned_margin"] == pytest.approx(1.0)
    assert m["standalone_resolution"] == pytest.approx(0.7 / 0.1)
    assert m["tau_inherited_standalone"]["value"] == pytest.approx(1.0)
    sa["noise_repeat"]["nll"] = [5.5, 5.5]
    assert A.supernet_metrics(hist, sa, ppl, 50, 0)["standalone_resolution"]["value"] is None


def test_memory_by_hand_and_the_machine_fingerprint(space):
    a = Arch(16, (2,), (2,))
    mem = H.memory_bytes(space, a, batch=2, seq=4)
    widest = max(3 * 2 * 8, 2 * 16)
    act = 2 * 4 * (2 * 16 + widest + 50) + 2 * 2 * 4 * 4
    assert mem == {"param_bytes": 4 * space.params(a), "activation_bytes": 4 * act,
                   "total_bytes": 4 * (space.params(a) + act)}
    here = H.fingerprint()
    assert here == H.fingerprint() and f"| {os.cpu_count()} cpus | torch " in here
    assert set(H.load_reading()) <= {"loadavg1", "procs_running"}


def test_claims_verdicts_on_hand_built_metrics():
    from llmrepro.hwgpt.claims import CLAIMS

    ci = lambda v, lo, hi: {"value": v, "ci": [lo, hi]}  # noqa: E731
    dev = {"split_half_tau": ci(0.9, 0.85, 0.95), "tau_flops": ci(0.6, 0.5, 0.7), "ceiling_gap_flops": ci(0.3, 0.2, 0.4),
           "heteroscedasticity": ci(0.8, 0.7, 0.9)}
    sur = {m: {"coverage90": 0.9} for m in ("mlp", "ensemble", "quantile")}
    sur["area_gain_over_gp"] = {m: ci(0.05, 0.01, 0.1) for m in ("mlp", "ensemble", "quantile")}
    metrics = {"hardware": {"devices": {"t1_b1": dev, "t2_b8": dev}, "quiet": True,
                            "pareto": {"jaccard_between": 0.3, "jaccard_margin": 0.4}},
               "surrogates": {"latency_t1_b1": sur, "latency_t2_b8": sur},
               "supernet": {"learned_margin": 1.0, "standalone_resolution": 3.0,
                            "tau_inherited_standalone": ci(0.7, 0.3, 1.0)},
               "search": {d: {"rs_regret_small_rel": 0.1, "best_guided_margin_small": 0.01} for d in ("t1_b1", "t2_b8")}}
    doc = CLAIMS.evaluate(metrics, "mini")
    assert [c["verdict"] for c in doc["claims"]] == ["reproduced"] * 4
    metrics["hardware"]["quiet"] = False  # a loaded machine: C2 cannot be judged
    metrics["hardware"]["devices"]["t1_b1"] = {**dev, "split_half_tau": ci(0.5, 0.4, 0.6)}
    metrics["search"]["t1_b1"]["best_guided_margin_small"] = -0.01
    doc = CLAIMS.evaluate(metrics, "mini")
    assert [c["verdict"] for c in doc["claims"]] == ["inconclusive", "inconclusive", "reproduced", "not reproduced"]
