"""hwgpt: the report's metrics on hand-built inputs, the machine fingerprint, memory by hand, and the
claims' verdict logic on hand-built metrics."""

from __future__ import annotations

import os

import numpy as np
import pytest

from llmrepro.hwgpt import analysis as A
from llmrepro.hwgpt import hardware as H
from llmrepro.hwgpt import machine as M
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
    margin = m["pareto"]["jaccard_margin"]
    assert margin["value"] == pytest.approx(1 - 1 / n)
    # every resample keeps device 2's front at its single fastest-and-best architecture: far above 0
    assert 0 < margin["ci"][0] <= margin["ci"][1] <= 1


def test_jaccard_margin_interval_covers_another_draw_of_the_same_machine():
    """Two devices with the same true latencies: their Pareto sets differ only by measurement noise,
    so a draw can show any margin near 0. The old check read the point and flipped with the draw; the
    interval (architectures and repeats resampled) must reach below 0 in every draw and cover the
    other draw's value."""
    n, R = 30, 10
    keys, ppl, base = [f"a{i}" for i in range(n)], np.linspace(50, 20, n), np.linspace(1, 2, n)

    def draw(seed):
        rng = np.random.default_rng(seed)
        walls = {d: base[:, None] * (1 + 0.05 * rng.standard_normal((n, R))) for d in ("d1", "d2")}
        return A.jaccard_margin_ci(keys, ppl, walls, 200, 0)

    a, b = draw(0), draw(4)
    assert a["value"] != b["value"]
    for x, y in ((a, b), (b, a)):
        assert x["ci"][0] < 0 < x["ci"][1]
        assert x["ci"][0] <= y["value"] <= x["ci"][1]


def test_jaccard_margin_degenerate_inputs():
    walls = {"d1": np.ones((2, 4)), "d2": np.ones((2, 4))}
    out = A.jaccard_margin_ci(["a", "b"], [1.0, 2.0], walls, 20, 0)
    assert out["ci"] is None and out["why"]


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
    here = M.fingerprint()
    assert here == M.fingerprint() and f"| {os.cpu_count()} cpus | torch " in here
    assert set(H.load_reading()) <= {"loadavg1", "procs_running"}


def test_the_fingerprint_imports_no_torch_and_names_the_torch_build():
    """`dvc repro` runs the machine stage every time: it must stay cheap (no torch import), and the
    version it reads from the package metadata must be torch's own (else every latency reruns)."""
    import subprocess
    import sys

    code = ("import sys, llmrepro.hwgpt.machine as m; fp = m.fingerprint(); "
            "print(fp); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "False"
    import torch

    assert out[0].endswith(f"| torch {torch.__version__}")


def _ci(v, lo, hi):
    return {"value": v, "ci": [lo, hi]}


def _claim_metrics() -> dict:
    """Hand-built metrics on which every claim passes."""
    dev = {"split_half_tau": _ci(0.9, 0.85, 0.95), "tau_flops": _ci(0.6, 0.5, 0.7),
           "ceiling_gap_flops": _ci(0.3, 0.2, 0.4), "heteroscedasticity": _ci(0.8, 0.7, 0.9)}
    sur = {m: {"coverage90": _ci(0.9, 0.87, 0.93)} for m in ("mlp", "ensemble", "quantile")}
    sur["area_gain_over_gp"] = {m: _ci(0.05, 0.01, 0.1) for m in ("mlp", "ensemble", "quantile")}
    return {"hardware": {"devices": {"t1_b1": dev, "t2_b8": dict(dev)}, "quiet": True,
                         "pareto": {"jaccard_between": 0.3, "jaccard_margin": _ci(0.4, 0.1, 0.6)}},
            "surrogates": {"latency_t1_b1": sur, "latency_t2_b8": dict(sur)},
            "supernet": {"learned_margin": 1.0, "standalone_resolution": 3.0,
                         "tau_inherited_standalone": _ci(0.7, 0.3, 1.0)},
            "search": {d: {"rs_regret_small_rel": 0.1, "best_guided_margin_small": 0.01} for d in ("t1_b1", "t2_b8")}}


def test_claims_verdicts_on_hand_built_metrics():
    from llmrepro.hwgpt.claims import CLAIMS

    metrics = _claim_metrics()
    doc = CLAIMS.evaluate(metrics, "mini")
    assert [c["verdict"] for c in doc["claims"]] == ["reproduced"] * 4
    metrics["hardware"]["quiet"] = False  # a loaded machine: C2 cannot be judged
    dev = metrics["hardware"]["devices"]["t1_b1"]
    metrics["hardware"]["devices"]["t1_b1"] = {**dev, "split_half_tau": _ci(0.5, 0.4, 0.6)}
    metrics["search"]["t1_b1"]["best_guided_margin_small"] = -0.01
    doc = CLAIMS.evaluate(metrics, "mini")
    assert [c["verdict"] for c in doc["claims"]] == ["inconclusive", "inconclusive", "reproduced", "not reproduced"]


def test_interval_checks_straddling_their_thresholds_are_inconclusive():
    from llmrepro.hwgpt.claims import CLAIMS

    metrics = _claim_metrics()
    sur = metrics["surrogates"]["latency_t1_b1"]
    metrics["hardware"]["pareto"]["jaccard_margin"] = _ci(-0.1, -0.26, 0.22)  # the committed data's interval
    metrics["surrogates"]["latency_t1_b1"] = {**sur, "mlp": {"coverage90": _ci(0.88, 0.80, 0.93)}}
    doc = {c["id"]: c["verdict"] for c in CLAIMS.evaluate(metrics, "mini")["claims"]}
    assert doc["C1"] == doc["C2"] == "inconclusive"
    metrics["surrogates"]["latency_t1_b1"] = {**sur, "mlp": {"coverage90": _ci(0.8, 0.75, 0.84)}}
    assert CLAIMS.evaluate(metrics, "mini")["claims"][1]["verdict"] == "not reproduced"


def test_reliability_gate_reads_the_split_half_interval():
    from llmrepro.hwgpt.claims import CLAIMS

    metrics = _claim_metrics()
    dev = metrics["hardware"]["devices"]["t1_b1"]
    metrics["hardware"]["devices"]["t1_b1"] = {**dev, "split_half_tau": _ci(0.82, 0.77, 0.87)}  # point above 0.8
    c1 = CLAIMS.evaluate(metrics, "mini")["claims"][0]
    assert c1["verdict"] == "inconclusive"
    assert c1["precondition"][0]["why"] == "interval straddles the threshold"
