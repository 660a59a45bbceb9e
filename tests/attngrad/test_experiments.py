"""Experiment bookkeeping: alpha summaries, head scales, the training demo."""

from __future__ import annotations

import math
from types import SimpleNamespace as NS

import pytest
import torch

from llmrepro.attngrad import experiments as X


def _row(n, c, alpha, poly="taylor", seed=0):
    return dict(n=n, c=c, poly=poly, seed=seed, alpha=alpha, feasible=alpha is not None)


def test_alpha_summary_margins_against_the_break_even():
    cfg = NS(cs=[0.05, 0.3, 1.0], ns=[16, 64], easy_c=0.05, hard_c=1.0, max_rank_factor=1.0, polys=["taylor"])
    # d = round(log2 n / 2): 2 at n=16, 3 at n=64; alpha* = 1 - ln d / ln n
    a16, a64 = 1 - math.log(2) / math.log(16), 1 - math.log(3) / math.log(64)
    rows = [_row(16, 0.05, 0.5), _row(16, 0.3, 0.8), _row(16, 1.0, None),
            _row(64, 0.05, 0.4, seed=0), _row(64, 0.05, 0.6, seed=1), _row(64, 0.3, 0.9), _row(64, 0.3, 0.9, seed=1),
            _row(64, 1.0, 0.95), _row(64, 1.0, None, seed=1)]
    s = X.alpha_summary(rows, cfg)
    assert s["alpha_star"] == {"16": pytest.approx(a16), "64": pytest.approx(a64)}
    t = s["polys"]["taylor"]["table"]
    assert t["0.05"]["64"]["alpha"] == pytest.approx(0.5) and t["0.05"]["64"]["worst_low"] == 0.6
    assert t["1.0"]["64"]["alpha"] is None and t["1.0"]["64"]["infeasible_runs"] == 1
    assert t["1.0"]["64"]["worst_high"] == 0.95
    # easy: the worst seed's alpha minus alpha*, the largest over n; hard: the smallest, with an
    # infeasible run counted at its lower bound ln(factor n)/ln n = 1
    assert s["easy_margin"] == pytest.approx(max(0.5 - a16, 0.6 - a64))
    assert s["hard_margin"] == pytest.approx(min(1.0 - a16, 0.95 - a64))
    assert s["monotone_in_c"] is True
    # n=16 crosses alpha* = 0.75 between c=0.05 (0.5) and 0.3 (0.8): linear interpolation
    x16 = s["polys"]["taylor"]["crossing"]["16"]
    assert (x16["lo"], x16["hi"]) == (0.05, 0.3)
    assert x16["c_star"] == pytest.approx(0.05 + (a16 - 0.5) / 0.3 * 0.25)
    x64 = s["polys"]["taylor"]["crossing"]["64"]  # 0.5, 0.9, inf: crosses alpha* = 0.736 in (0.05, 0.3]
    assert (x64["lo"], x64["hi"]) == (0.05, 0.3)
    rows[1]["alpha"] = 0.45  # alpha now falls with c at n=16
    assert X.alpha_summary(rows, cfg)["monotone_in_c"] is False


@pytest.mark.parametrize("alphas,expect", [
    ([0.2, 0.4, 0.9], {"lo": 0.1, "hi": 1.0, "c_star": pytest.approx(0.1 + 0.3 / 0.5 * 0.9)}),
    ([0.2, 0.4, math.inf], {"lo": 0.1, "hi": 1.0, "c_star": None}),
    ([0.8, 0.9, 1.0], {"lo": None, "hi": 0.05, "c_star": None}),
    ([0.2, 0.3, 0.4], {"lo": 1.0, "hi": None, "c_star": None}),
])
def test_crossing_bracket_and_interpolation(alphas, expect):
    got = X._crossing([0.05, 0.1, 1.0], alphas, 0.7)
    assert {k: got[k] for k in expect} == expect
    assert ("why" in got) == (got["c_star"] is None)


def test_threshold_alpha_matches_a_brute_force_search_on_a_tiny_grid():
    from llmrepro.attngrad import gradient as G
    from llmrepro.attngrad.instances import make

    cfg = NS(ns=[16, 64], cs=[0.05, 0.5, 2.0], seeds=[0], polys=["taylor", "chebyshev"], max_rank_factor=1.0,
             family="uniform", easy_c=0.05, hard_c=2.0)
    out = X.threshold_alpha(cfg)
    assert len(out["rows"]) == 2 * 3 * 2
    for r in out["rows"]:
        d = X.head_dim(r["n"])
        inst = make("uniform", r["n"], d, math.sqrt(r["c"] * math.log(r["n"])), r["seed"])
        exact = G.exact_grad(*inst.args())
        errs = [G.rel_err(G.fast_grad(*inst.args(), g, r["poly"]), exact)
                for g in range(12) if G.rank(d, g) <= r["n"]]
        first = next((g for g, e in enumerate(errs) if e <= 1 / r["n"]), None)
        assert r["degree"] == first
        if first is not None:
            assert r["alpha"] == pytest.approx(math.log(G.rank(d, first)) / math.log(r["n"]))


def test_runtime_crossover_on_a_tiny_grid():
    rows = lambda wins: [{"n": 2**i, "fast": {"cpu_s": 1.0 if w else 2.0, "wall_s": 3.0}, "exact": {"cpu_s": 1.5,
                                                                                                  "wall_s": 2.0}}
                         for i, w in enumerate(wins, 4)]
    assert X.crossover(rows([False, True, False, True, True])) == 2**7
    assert X.crossover(rows([True, True])) == 16
    assert X.crossover(rows([True, False])) is None
    assert X.crossover(rows([True, True]), "wall_s") is None  # wall time: fast 3.0 s against 2.0 s
    # log-log slope over n >= n_from; one point has no slope
    t = [{"n": n, "exact": {"cpu_s": 3e-9 * n**2, "wall_s": 1e-6 * n}} for n in (64, 128, 256, 512)]
    assert X.loglog_slope(t, "exact", 128)["value"] == pytest.approx(2.0)
    assert X.loglog_slope(t, "exact", 128, "wall_s")["value"] == pytest.approx(1.0)
    one = X.loglog_slope(t, "exact", 512)
    assert one["value"] is None and "a line needs 2" in one["why"]


def test_runtime_stage_on_a_tiny_grid():
    cfg = NS(ns=[32, 64], fast_ns=[128, 256], block_elems=1000, d=3, B=0.5, eps=1e-3, family="uniform", repeats=2,
             slope_from=64, target_n=64, target_speedup=1.0)
    r = X.runtime(cfg, 0)
    assert [row["n"] for row in r["rows"]] == [32, 64]
    assert all(len(row[k]["cpu_runs"]) == len(row[k]["wall_runs"]) == 2 for row in r["rows"] for k in ("exact", "fast"))
    assert r["max_rel_err"] < 1e-2 and r["fast_wins_from_crossover"] == (r["crossover_n"] is not None)
    # fast-only sizes extend the fast slope's fit (n >= 64: three points), never the exact one's (one point)
    assert [(row["n"], set(row)) for row in r["fast_rows"]] == [(128, {"n", "fast"}), (256, {"n", "fast"})]
    fit = X.loglog_slope(r["rows"][1:] + r["fast_rows"], "fast", 64)["value"]
    assert r["slope_fast"]["value"] == pytest.approx(fit)
    assert r["slope_exact"]["value"] is None
    # a target size inside the sweep reuses its row instead of timing it again
    assert r["performance_target"]["exact_cpu_s"] == r["rows"][1]["exact"]["cpu_s"]


def test_runtime_config_needs_its_target_inside_the_sweep():
    from pydantic import ValidationError

    from llmrepro.attngrad.config import Runtime

    Runtime(ns=[64, 128], target_n=128)
    with pytest.raises(ValidationError, match=r"target_n=512 must be one of ns=\[64, 128\]"):
        Runtime(ns=[64, 128], target_n=512)


def test_timer_warms_up_once_goes_round_robin_and_takes_the_least():
    calls = []
    t = X._timed({"a": lambda: calls.append("a") or len(calls), "b": lambda: calls.append("b") or len(calls)}, 3)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-up, then rounds over every call
    assert t["a"][0] == 7 and t["b"][0] == 8  # the last round's results
    assert all(len(t[k][1]["cpu_runs"]) == len(t[k][1]["wall_runs"]) == 3 for k in "ab")
    assert t["a"][1]["cpu_s"] == min(t["a"][1]["cpu_runs"]) and t["b"][1]["wall_s"] == min(t["b"][1]["wall_runs"])
    X._timed({0: lambda: calls.append(1)}, 2, warmup=False)
    assert len(calls) == 10


def test_clock_counts_cpu_work_not_waiting():
    import time

    clock = X.Clock()
    time.sleep(0.05)
    cpu, wall = clock.read()
    assert wall >= 0.05 and cpu < 0.02


def _tiny(kind: str):
    from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, \
        LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "llama":
        return LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                                            num_key_value_heads=2, intermediate_size=32))
    if kind == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=2, n_head=4, n_positions=32))
    return GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
                                            num_attention_heads=4, intermediate_size=32))


@pytest.mark.parametrize("kind", ["llama", "gpt2", "neox"])
def test_head_scales_match_a_manual_q_k_readout(kind):
    model = _tiny(kind).eval()
    ids = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(1))
    res = X.head_scales(model, ids)
    assert len(res["heads"]) == 2 * 4 and res["d_head"] == 4
    # manual: capture layer 1's projection input and recompute q, k for head 3
    grabbed = {}
    if kind == "llama":
        att = model.model.layers[1].self_attn
        h = att.q_proj.register_forward_hook(lambda m, i, o: grabbed.setdefault("x", i[0]))
    elif kind == "gpt2":
        att = model.transformer.h[1].attn
        h = att.c_attn.register_forward_hook(lambda m, i, o: grabbed.setdefault("qkv", []).append(o))
    else:
        att = model.gpt_neox.layers[1].attention
        h = att.query_key_value.register_forward_hook(lambda m, i, o: grabbed.setdefault("qkv", []).append(o))
    with torch.no_grad():
        for w in ids:
            grabbed.pop("x", None)
            model(input_ids=w.unsqueeze(0))
            if kind == "llama":
                grabbed.setdefault("xs", []).append(grabbed["x"])
    h.remove()
    with torch.no_grad():
        if kind == "llama":
            x = torch.cat(grabbed["xs"], dim=1)
            q, k = att.q_proj(x)[..., 12:16], att.k_proj(x)[..., 4:8]  # head 3 uses KV head 1 (GQA)
        elif kind == "gpt2":
            o = torch.cat(grabbed["qkv"], dim=1)
            q, k = o[..., 12:16], o[..., 16 + 12:16 + 16]
        else:
            o = torch.cat(grabbed["qkv"], dim=1).unflatten(-1, (4, 12))
            q, k = o[..., 3, 0:4], o[..., 3, 4:8]
    B = max(q.abs().max().item(), k.abs().max().item()) * 4**0.25
    head = next(r for r in res["heads"] if r["layer"] == 1 and r["head"] == 3)
    assert head["B"] == pytest.approx(B, rel=1e-6)
    assert head["c"] == pytest.approx(B**2 / math.log(12), rel=1e-6)


@pytest.mark.parametrize("kind", ["llama", "gpt2", "neox"])
def test_causal_logits_are_what_the_model_softmaxes(kind):
    """softmax of our post-RoPE logits equals the model's own attention probabilities."""
    model = _tiny(kind).eval()
    model.config._attn_implementation = "eager"
    ids = torch.randint(0, 50, (10,), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        probs = model(input_ids=ids.unsqueeze(0), output_attentions=True).attentions
    inputs = X.attention_inputs(model, ids)
    assert sorted(inputs) == [0, 1]
    for i, (att, q, k, rope) in inputs.items():
        assert (rope is None) == (kind == "gpt2")
        s = X.causal_logits(att, q, k, rope)
        assert s.shape == (4, 10, 10) and torch.isinf(s[:, 0, 1:]).all()
        assert torch.allclose(torch.softmax(s, -1), probs[i][0], atol=1e-6)
    res = X.head_scales(model, ids.unsqueeze(0))
    att, q, k, rope = inputs[1]
    assert next(h for h in res["heads"] if h["layer"] == 1 and h["head"] == 2)["c_logit"] == pytest.approx(
        float(X.causal_logits(att, q, k, rope)[2].max()) / math.log(10), rel=1e-6)
    assert res["c_logit_max"] <= res["c_balanced_max"] + 1e-9  # |<Rq,Rk>| <= ||q|| ||k|| <= d max|q| max|k|


def test_training_demo_descends_and_times_both():
    cfg = NS(n=96, d=3, B=0.5, target_scale=1.0, eps=1e-3, steps=4, lr=50.0, target_factor=1.01)
    r = X.training(cfg, 0)
    for kind in ("exact", "fast"):
        losses = [p["loss"] for p in r["runs"][kind]]
        assert losses[-1] < losses[0]
        assert [p["step"] for p in r["runs"][kind]] == list(range(5))
    assert r["loss_fast_final"] == pytest.approx(r["loss_exact_final"], rel=1e-2)
    # the degree follows the current X: none is needed at X = 0, more as X grows
    assert r["degrees"][0] == 0 and max(r["degrees"]) > 0


def test_reach_is_the_first_time_below_the_target():
    curve = lambda ts, walls, losses: [{"t": t, "t_wall": w, "step": i, "loss": v}
                                       for i, (t, w, v) in enumerate(zip(ts, walls, losses))]
    runs = {"exact": curve([0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 4.0, 6.0], [10.0, 2.0, 1.005, 1.0]),
            "fast": curve([0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3], [10.0, 1.2, 1.01, 1.0])}
    r = X.reach(runs, 1.01)
    assert r["target_loss"] == pytest.approx(1.01)
    assert (r["exact_time_to_target_s"], r["fast_time_to_target_s"]) == (2.0, 0.2)
    assert r["time_ratio"] == pytest.approx(0.1) and (r["step_exact_reaches"], r["step_fast_reaches"]) == (2, 2)
    assert r["time_ratio_wall"] == pytest.approx(0.05)
    runs["fast"] = runs["fast"][:2]
    r = X.reach(runs, 1.01)
    assert r["time_ratio"]["value"] is None and r["step_fast_reaches"] is None


def test_page_rows_take_their_numbers_from_the_metrics():
    from llmrepro.attngrad.report import alpha_table, rows

    cfg = NS(cs=[0.05, 1.0], ns=[16, 64], easy_c=0.05, hard_c=1.0, max_rank_factor=1.0, polys=["taylor"])
    al = X.alpha_summary([_row(16, 0.05, 0.5), _row(16, 1.0, None), _row(64, 0.05, 0.4), _row(64, 1.0, 0.9)], cfg)
    m = {"performance_target": {"n": 512, "speedup": 13.2, "speedup_cpu": 15.0, "target": 20.0,
                                "max_rel_err": 1e-6},
         "runtime": {"slope_exact": {"value": 1.9}, "slope_fast": {"value": 1.1}, "slope_exact_wall": {"value": 2.1},
                     "slope_fast_wall": {"value": 1.2}, "rank": 165, "degree": 3, "d": 8, "B": 0.5,
                     "family": "uniform"},
         "alpha": al | {"max_rank_factor": 1.0},
         "training": {"time_ratio": 0.25, "time_ratio_wall": 0.3, "step_fast_reaches": 3, "step_exact_reaches": 3,
                      "degrees": [0, 2, 3]},
         "heads": {"tiny/x": {"n": 32, "d_head": 4, **{f"{k}_{s}": 1.5 for k in ("c", "c_balanced", "c_logit")
                                                       for s in ("min", "max", "median")}}}}
    text = "\n".join(" ".join(r) for r in rows(m))
    assert "real heads (tiny/x, n=32, d_head=4)" in text and "speed-up at n=512" in text
    assert "n=16: c > 0.05" not in text and "n=64: c in (0.05, 1]" in text
    assert "fast / exact CPU time 0.25 (wall 0.3)" in text and "Taylor degree 0–3" in text
    assert "log-log slope 1.9 in CPU time (2.1 in wall time)" in text and "15× in CPU time, 13× in wall time" in text
    table = alpha_table(m["alpha"])
    assert "| 1.0 | none (1/1 seeds: no rank ≤ 1·n) | 0.9 |" in table
    assert table.index("n=16") < table.index("n=64")
