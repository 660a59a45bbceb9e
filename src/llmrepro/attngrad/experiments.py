"""The experiments: runtime scaling (a), the threshold (b1, b2), a training demo (c),
and where real LLM heads sit in the scaling variable c = B^2 / ln n."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import numpy as np
import torch

from llmrepro.attngrad import gradient as G
from llmrepro.attngrad.instances import make
from llmrepro.stats import ols


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _timed(fn, repeats: int) -> tuple[Any, float, list[float]]:
    times, out = [], None
    for _ in range(repeats):
        _sync()
        t0 = time.perf_counter()
        out = fn()
        _sync()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times), times


def runtime(cfg, seed: int, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(a) Exact O(n^2 d) against fast O(n k d^2) over n, at a fixed small B."""
    degree = G.taylor_degree(cfg.B**2, cfg.eps)
    rows = []
    ns = list(cfg.ns)
    for n in progress(ns, desc="runtime") if progress else ns:
        inst = make(cfg.family, n, cfg.d, cfg.B, seed, device)
        exact, t_exact, te = _timed(lambda: G.exact_grad(*inst.args()), cfg.repeats)
        fast, t_fast, tf = _timed(lambda: G.fast_grad(*inst.args(), degree), cfg.repeats)
        rows.append({"n": n, "exact_s": t_exact, "fast_s": t_fast, "exact_runs": te, "fast_runs": tf,
                     "rel_err": G.rel_err(fast, exact)})
    fit = [r for r in rows if r["n"] >= cfg.slope_from]
    slope = lambda key: ols(np.log([r["n"] for r in fit]), np.log([r[key] for r in fit]))["slope"]
    wins = [r["fast_s"] < r["exact_s"] for r in rows]
    crossover = next((rows[i]["n"] for i in range(len(rows)) if all(wins[i:])), None)
    # The performance target: one large n, exact once (it is the slow side).
    inst = make(cfg.family, cfg.target_n, cfg.d, cfg.B, seed, device)
    exact, t_exact, _ = _timed(lambda: G.exact_grad(*inst.args()), 1)
    fast, t_fast, _ = _timed(lambda: G.fast_grad(*inst.args(), degree), cfg.repeats)
    target = {"n": cfg.target_n, "exact_s": t_exact, "fast_s": t_fast, "speedup": t_exact / t_fast,
              "max_rel_err": G.rel_err(fast, exact), "target": cfg.target_speedup}
    return {"degree": degree, "rank": G.rank(cfg.d, degree), "d": cfg.d, "B": cfg.B, "family": cfg.family,
            "c_max": cfg.B**2 / math.log(min(ns)), "rows": rows, "slope_exact": slope("exact_s"),
            "slope_fast": slope("fast_s"), "crossover_n": crossover,
            "max_rel_err": max(r["rel_err"] for r in rows), "fast_wins_from_crossover": crossover is not None,
            "performance_target": target}


def threshold_error(cfg, seed: int, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(b1) Relative error against B at fixed rank budgets (Taylor and Chebyshev)."""
    out = []
    Bs = list(cfg.Bs)
    for B in progress(Bs, desc="error vs B") if progress else Bs:
        inst = make(cfg.family, cfg.n, cfg.d, B, seed, device)
        exact = G.exact_grad(*inst.args())
        for g in cfg.degrees:
            for poly in cfg.polys:
                out.append({"B": B, "degree": g, "rank": G.rank(cfg.d, g), "poly": poly,
                            "rel_err": G.rel_err(G.fast_grad(*inst.args(), g, poly), exact)})
    return {"n": cfg.n, "d": cfg.d, "sqrt_ln_n": math.sqrt(math.log(cfg.n)), "rows": out}


def threshold_alpha(cfg, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(b2) With d growing like log n and target error 1/n, the smallest rank that
    reaches the target, as an exponent alpha = ln(rank) / ln(n), against c = B^2/ln n."""
    rows = []
    grid = [(s, n, c) for s in cfg.seeds for n in cfg.ns for c in cfg.cs]
    for seed, n, c in progress(grid, desc="alpha(c)") if progress else grid:
        d = max(2, round(math.log2(n) / 2))
        B = math.sqrt(c * math.log(n))
        inst = make(cfg.family, n, d, B, seed, device)
        exact = G.exact_grad(*inst.args())
        found = None
        g = 0
        while G.rank(d, g) <= cfg.max_rank_factor * n:
            err = G.rel_err(G.fast_grad(*inst.args(), g), exact)
            if err <= 1.0 / n:
                found = (g, err)
                break
            g += 1
        r = G.rank(d, found[0]) if found else None
        rows.append({"seed": seed, "n": n, "d": d, "c": c, "B": B, "degree": found[0] if found else None,
                     "rank": r, "rel_err": found[1] if found else None,
                     "alpha": math.log(r) / math.log(n) if r else None, "feasible": found is not None})
    return {"rows": rows, "max_rank_factor": cfg.max_rank_factor, "summary": alpha_summary(rows, cfg)}


def alpha_summary(rows: list[dict], cfg) -> dict[str, Any]:
    """Mean alpha per (n, c) over seeds; infeasible counts as alpha >= 1."""
    table: dict[str, dict[str, Any]] = {}
    for c in cfg.cs:
        per_n = {}
        for n in cfg.ns:
            rs = [r for r in rows if r["n"] == n and r["c"] == c]
            feas = [r["alpha"] for r in rs if r["feasible"]]
            per_n[str(n)] = {"alpha": float(np.mean(feas)) if len(feas) == len(rs) else None,
                             "infeasible_runs": len(rs) - len(feas)}
        vals = [v["alpha"] for v in per_n.values() if v["alpha"] is not None]
        table[str(c)] = {"per_n": per_n, "spread": (max(vals) - min(vals)) if len(vals) == len(per_n) else None,
                         "all_infeasible": all(v["alpha"] is None for v in per_n.values()),
                         "min_alpha_or_inf": min(vals) if len(vals) == len(per_n) else
                         (min(vals) if vals else None)}
    cs = [str(c) for c in cfg.cs]
    # alpha(c) rises with c: each n's alpha is non-decreasing in c (infeasible = +inf)
    mono = all(
        all((_a(table[cs[i]], n) <= _a(table[cs[i + 1]], n)) for i in range(len(cs) - 1)) for n in map(str, cfg.ns))
    spreads = [t["spread"] for t in table.values() if t["spread"] is not None]
    hard = [t for c, t in table.items() if float(c) >= cfg.hard_c]
    return {"table": table, "monotone_in_c": mono, "max_spread_over_n": max(spreads) if spreads else None,
            "alpha_easy_max_over_n": max(_a(table[str(cfg.easy_c)], str(n)) for n in cfg.ns),
            "hard_all_at_least_1_or_infeasible": all(
                all(v["alpha"] is None or v["alpha"] >= 1 for v in t["per_n"].values()) for t in hard)}


def _a(entry: dict, n: str) -> float:
    a = entry["per_n"][n]["alpha"]
    return math.inf if a is None else a


def training(cfg, seed: int, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(c) Gradient descent on L(X) towards a planted X*, with the fast and the exact
    gradient, timing only the gradient and update (the loss is logged untimed)."""
    inst = make("gaussian", cfg.n, cfg.d, cfg.B, seed, device)
    g = torch.Generator().manual_seed(seed + 1)
    X_star = torch.eye(cfg.d, dtype=torch.float64) + cfg.target_scale * torch.randn(cfg.d, cfg.d, generator=g,
                                                                                      dtype=torch.float64).to(device)
    with torch.no_grad():
        f = torch.softmax(inst.A1 @ X_star @ inst.A2.T / cfg.d, dim=1)
        E = f @ inst.A3 @ inst.Y
    bound = float((inst.A1 @ X_star).abs().max() * inst.A2.abs().max()) * cfg.bound_margin
    degree = G.taylor_degree(bound, cfg.eps)
    runs = {}
    for kind in ("exact", "fast"):
        X = torch.zeros(cfg.d, cfg.d, dtype=torch.float64, device=device)
        clock, curve = 0.0, []
        curve.append({"t": 0.0, "step": 0, "loss": float(G.loss(X, inst.A1, inst.A2, inst.A3, inst.Y, E))})
        steps = range(1, cfg.steps + 1)
        for step in progress(steps, desc=f"descent {kind}") if progress else steps:
            _sync()
            t0 = time.perf_counter()
            grad = (G.exact_grad(X, inst.A1, inst.A2, inst.A3, inst.Y, E) if kind == "exact"
                    else G.fast_grad(X, inst.A1, inst.A2, inst.A3, inst.Y, E, degree))
            X = X - cfg.lr * grad
            _sync()
            clock += time.perf_counter() - t0
            curve.append({"t": clock, "step": step, "loss": float(G.loss(X, inst.A1, inst.A2, inst.A3, inst.Y, E))})
        runs[kind] = curve
    final_exact = runs["exact"][-1]["loss"]
    reach = next((p["t"] for p in runs["fast"] if p["loss"] <= final_exact), None)
    return {"n": cfg.n, "d": cfg.d, "degree": degree, "rank": G.rank(cfg.d, degree), "bound": bound,
            "runs": runs, "exact_total_s": runs["exact"][-1]["t"], "fast_time_to_exact_loss_s": reach,
            "time_ratio": reach / runs["exact"][-1]["t"] if reach is not None else None,
            "loss_start": runs["exact"][0]["loss"], "loss_exact_final": final_exact,
            "loss_fast_final": runs["fast"][-1]["loss"]}


def _qk_hooks(model):
    """(layer, module, split) triples; split maps the module's output to (q, k), each
    [..., heads, d_head] or None: Llama-style separate projections, GPT-2's fused
    c_attn, and GPT-NeoX's per-head interleaved query_key_value."""
    cfg = model.config
    H = cfg.num_attention_heads
    d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    if hasattr(model, "model") and hasattr(model.model, "layers"):  # Llama family
        kv = getattr(cfg, "num_key_value_heads", None) or H
        for i, layer in enumerate(model.model.layers):
            yield i, layer.self_attn.q_proj, lambda o: (o.unflatten(-1, (H, d)), None)
            yield i, layer.self_attn.k_proj, lambda o: (None, o.unflatten(-1, (kv, d)))
    elif hasattr(model, "transformer") and hasattr(model.transformer, "h"):  # GPT-2
        for i, block in enumerate(model.transformer.h):
            yield i, block.attn.c_attn, lambda o: tuple(t.unflatten(-1, (H, d)) for t in o.split(H * d, -1)[:2])
    elif hasattr(model, "gpt_neox"):  # Pythia
        for i, layer in enumerate(model.gpt_neox.layers):
            yield i, layer.attention.query_key_value, lambda o: (o.unflatten(-1, (H, 3 * d))[..., :d],
                                                                 o.unflatten(-1, (H, 3 * d))[..., d:2 * d])
    else:
        raise ValueError(f"no q/k hooks for {type(model).__name__}; supported: Llama family, GPT-2, GPT-NeoX")


def head_scales(model, token_windows: torch.Tensor) -> dict[str, Any]:
    """Per layer and head of a real LM: B = max(|q|, |k|) * d_head^(1/4), so that
    <q', k'>/d_head = <q, k>/sqrt(d_head) as in the paper's exp(<a, b>/d) form; then
    c = B^2 / ln n. q and k are the projections' outputs, before any rotary embedding
    (RoPE preserves <q, k> but not the entries' maximum)."""
    cfg = model.config
    H = cfg.num_attention_heads
    d_head = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    n = token_windows.shape[1]
    qmax: dict[int, torch.Tensor] = {}
    kmax: dict[int, torch.Tensor] = {}

    def keep(store: dict, i: int, t: torch.Tensor) -> None:
        m = t.detach().abs().float().flatten(0, -3).amax(dim=(0, 2))  # per head
        store[i] = torch.maximum(store[i], m) if i in store else m

    def hook(i, split):
        def fn(_mod, _inp, out):
            q, k = split(out)
            if q is not None:
                keep(qmax, i, q)
            if k is not None:
                keep(kmax, i, k)
        return fn

    handles = [m.register_forward_hook(hook(i, split)) for i, m, split in _qk_hooks(model)]
    try:
        with torch.no_grad():  # the base model only: q and k are all we need, not the LM head's logits
            for w in token_windows:
                model.base_model(input_ids=w.unsqueeze(0))
    finally:
        for h in handles:
            h.remove()
    heads = []
    for i in sorted(qmax):
        group = H // kmax[i].numel()  # grouped-query attention: a KV head serves `group` query heads
        for h in range(H):
            B = float(max(qmax[i][h], kmax[i][h // group])) * d_head**0.25
            heads.append({"layer": i, "head": h, "B": B, "c": B**2 / math.log(n)})
    cs = np.array([x["c"] for x in heads])
    return {"n": n, "d_head": d_head, "ln_n": math.log(n), "heads": heads, "c_median": float(np.median(cs)),
            "c_min": float(cs.min()), "c_max": float(cs.max()), "frac_heads_below_0_3": float((cs < 0.3).mean())}
