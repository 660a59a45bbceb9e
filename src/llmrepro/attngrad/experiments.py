"""The experiments: runtime scaling (a), the threshold (b1, b2), a training demo (c),
and where real LLM heads sit in the scaling variable c = B^2 / ln n."""

from __future__ import annotations

import math
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


class Clock:
    """Process CPU time (every thread's work, what the algorithm costs) and wall time (what
    a user waits, which on a shared machine also counts the neighbours' load)."""

    def __init__(self):
        _sync()
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def read(self) -> tuple[float, float]:
        _sync()
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def _timed(fns: dict[Any, Any], repeats: int, warmup: bool = True) -> dict[Any, tuple[Any, dict[str, Any]]]:
    """Per call: its result and the least CPU and wall time of `repeats` runs.

    Every call runs once untimed first (first-call allocations and lazy initialisation would
    otherwise land in the first repeat). The repeats go round-robin over the calls, so a slow
    spell of a shared host hits every call alike instead of one n; noise only ever adds time,
    so the least is the best estimate of the cost (as timeit advises). Medians of three, taken
    one n after the other, moved a slope by 0.4 between two runs on one machine."""
    if warmup:
        for fn in fns.values():
            fn()
    runs: dict[Any, dict[str, list[float]]] = {k: {"cpu": [], "wall": []} for k in fns}
    out: dict[Any, Any] = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            clock = Clock()
            out[k] = fn()
            c, w = clock.read()
            runs[k]["cpu"].append(c)
            runs[k]["wall"].append(w)
    return {k: (out[k], {"cpu_s": min(r["cpu"]), "wall_s": min(r["wall"]), "cpu_runs": r["cpu"],
                         "wall_runs": r["wall"]}) for k, r in runs.items()}


def crossover(rows: list[dict], key: str = "cpu_s") -> int | None:
    """The smallest n from which the fast gradient is cheaper at every larger n measured."""
    wins = [r["fast"][key] < r["exact"][key] for r in rows]
    return next((rows[i]["n"] for i in range(len(rows)) if all(wins[i:])), None)


def loglog_slope(rows: list[dict], kind: str, n_from: int, key: str = "cpu_s") -> dict:
    """OLS slope of ln(time) on ln(n) over the rows with n >= n_from (None + why if undefined)."""
    fit = [r for r in rows if r["n"] >= n_from]
    f = ols(np.log([r["n"] for r in fit]), np.log([r[kind][key] for r in fit]))
    return {"value": f["slope"], **({"why": f["why"]} if f["slope"] is None else {})}


def runtime(cfg, seed: int, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(a) Exact O(n^2 d) against fast O(n k d^2) over n, at a fixed small B."""
    degree = G.taylor_degree(cfg.B**2, cfg.eps)
    width = max(G.rank(cfg.d, degree), cfg.d * cfg.d)  # the fast gradient's widest n-row intermediate

    fast_block = cfg.block_elems and max(1, cfg.block_elems // width)

    def exact(n):
        block = {"block": max(1, cfg.block_elems // n)} if cfg.block_elems else {}  # else exact_grad's default
        return G.exact_grad(*insts[n].args(), **block)

    ns = list(cfg.ns)
    insts = {n: make(cfg.family, n, cfg.d, cfg.B, seed, device) for n in dict.fromkeys([*ns, *cfg.fast_ns])}
    calls = {**{("exact", n): (lambda n=n: exact(n)) for n in ns},
             **{("fast", n): (lambda n=n: G.fast_grad(*insts[n].args(), degree, block_rows=fast_block))
                for n in insts}}
    timed = _timed(calls, cfg.repeats)
    rows = [{"n": n, "exact": timed["exact", n][1], "fast": timed["fast", n][1],
             "rel_err": G.rel_err(timed["fast", n][0], timed["exact", n][0])} for n in ns]
    fast_rows = [{"n": n, "fast": timed["fast", n][1]} for n in cfg.fast_ns if n not in ns]
    cross = crossover(rows)
    row = rows[ns.index(cfg.target_n)]
    t_exact, t_fast = row["exact"], row["fast"]
    target = {"n": cfg.target_n, "exact_s": t_exact["wall_s"], "fast_s": t_fast["wall_s"],
              "speedup": t_exact["wall_s"] / t_fast["wall_s"], "exact_cpu_s": t_exact["cpu_s"],
              "fast_cpu_s": t_fast["cpu_s"], "speedup_cpu": t_exact["cpu_s"] / t_fast["cpu_s"],
              "max_rel_err": row["rel_err"], "target": cfg.target_speedup}
    timed_fast = rows + fast_rows
    return {"degree": degree, "rank": G.rank(cfg.d, degree), "d": cfg.d, "B": cfg.B, "family": cfg.family,
            "c_max": cfg.B**2 / math.log(min(ns)), "rows": rows, "fast_rows": fast_rows,
            "slope_exact": loglog_slope(rows, "exact", cfg.slope_from),
            "slope_fast": loglog_slope(timed_fast, "fast", cfg.slope_from), "crossover_n": cross,
            "slope_exact_wall": loglog_slope(rows, "exact", cfg.slope_from, "wall_s"),
            "slope_fast_wall": loglog_slope(timed_fast, "fast", cfg.slope_from, "wall_s"),
            "crossover_n_wall": crossover(rows, "wall_s"),
            "max_rel_err": max(r["rel_err"] for r in rows), "fast_wins_from_crossover": cross is not None,
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
    return {"n": cfg.n, "d": cfg.d, "family": cfg.family, "sqrt_ln_n": math.sqrt(math.log(cfg.n)), "rows": out}


def head_dim(n: int) -> int:
    """d grows like log n, as the theorem requires: d = round(log2(n) / 2)."""
    return max(2, round(math.log2(n) / 2))


def break_even(n: int, d: int) -> float:
    """The rank exponent at which the fast gradient's n k d^2 flops equal the exact
    gradient's n^2 d: k = n / d, i.e. alpha* = 1 - ln d / ln n."""
    return 1.0 - math.log(d) / math.log(n)


def smallest_rank(inst, exact, n: int, d: int, poly: str, max_rank: int) -> dict[str, Any]:
    """The smallest degree (and rank) whose fast gradient reaches error 1/n, searching
    upwards while the rank stays <= max_rank; None where none does."""
    g = 0
    while G.rank(d, g) <= max_rank:
        err = G.rel_err(G.fast_grad(*inst.args(), g, poly), exact)
        if err <= 1.0 / n:
            r = G.rank(d, g)
            return {"degree": g, "rank": r, "rel_err": err, "alpha": math.log(r) / math.log(n), "feasible": True}
        g += 1
    return {"degree": None, "rank": None, "rel_err": None, "alpha": None, "feasible": False}


def threshold_alpha(cfg, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(b2) With d growing like log n and target error 1/n, the smallest rank that
    reaches the target, as an exponent alpha = ln(rank) / ln(n), against c = B^2/ln n,
    for Taylor and Chebyshev features."""
    rows = []
    grid = [(s, n, c) for s in cfg.seeds for n in cfg.ns for c in cfg.cs]
    for seed, n, c in progress(grid, desc="alpha(c)") if progress else grid:
        d = head_dim(n)
        B = math.sqrt(c * math.log(n))
        inst = make(cfg.family, n, d, B, seed, device)
        exact = G.exact_grad(*inst.args())
        for poly in cfg.polys:
            rows.append({"seed": seed, "n": n, "d": d, "c": c, "B": B, "poly": poly,
                         **smallest_rank(inst, exact, n, d, poly, int(cfg.max_rank_factor * n))})
    return {"rows": rows, "max_rank_factor": cfg.max_rank_factor, "summary": alpha_summary(rows, cfg)}


def _crossing(cs: list[float], alphas: list[float], a_star: float) -> dict[str, Any]:
    """Where alpha(c) first reaches alpha*: the grid bracket (lo, hi] and, where alpha is
    finite at hi, the linear interpolation inside it. Infeasible counts as alpha = inf."""
    i = next((i for i, a in enumerate(alphas) if a >= a_star), None)
    if i is None:
        return {"lo": cs[-1], "hi": None, "c_star": None, "why": "alpha stays below alpha* on the whole grid"}
    if i == 0:
        return {"lo": None, "hi": cs[0], "c_star": None, "why": "alpha is above alpha* already at the smallest c"}
    a0, a1 = alphas[i - 1], alphas[i]
    interp = cs[i - 1] + (a_star - a0) / (a1 - a0) * (cs[i] - cs[i - 1]) if math.isfinite(a1) else None
    return {"lo": cs[i - 1], "hi": cs[i], "c_star": interp,
            **({"why": "no rank <= max_rank_factor * n at hi: only the bracket is known"} if interp is None else {})}


def alpha_summary(rows: list[dict], cfg) -> dict[str, Any]:
    """Per method and (n, c): alpha over seeds (mean, and the worst seed on each side);
    the break-even alpha* per n; where alpha crosses it; and the checks' margins.
    An infeasible run (no rank <= max_rank_factor * n reaches 1/n) has alpha > ln(max_rank_factor n)/ln n."""
    ns, cs = list(cfg.ns), list(cfg.cs)
    polys = sorted({r["poly"] for r in rows}, key=lambda p: list(cfg.polys).index(p) if p in cfg.polys else 99)
    a_star = {n: break_even(n, head_dim(n)) for n in ns}
    ceil = {n: math.log(cfg.max_rank_factor * n) / math.log(n) for n in ns}  # an infeasible alpha exceeds this
    out: dict[str, Any] = {"alpha_star": {str(n): a_star[n] for n in ns}, "d": {str(n): head_dim(n) for n in ns},
                           "polys": {}}
    mono, easy, hard = True, [], []
    for poly in polys:
        table, crossing = {}, {}
        for n in ns:
            means = []
            for c in cs:
                rs = [r for r in rows if r["n"] == n and r["c"] == c and r["poly"] == poly]
                al = [r["alpha"] if r["feasible"] else math.inf for r in rs]
                m = float(np.mean(al)) if al else math.nan
                means.append(m)
                table.setdefault(str(c), {})[str(n)] = {
                    "alpha": m if math.isfinite(m) else None, "infeasible_runs": sum(not r["feasible"] for r in rs),
                    "runs": len(rs), "worst_low": max(al) if al else None, "worst_high": min(al) if al else None}
            mono &= all(a <= b for a, b in zip(means, means[1:]))
            crossing[str(n)] = _crossing(cs, means, a_star[n])
            lo = table[str(cfg.easy_c)][str(n)]["worst_low"]  # the largest alpha over seeds at the easy end
            hi = table[str(cfg.hard_c)][str(n)]["worst_high"]  # the smallest alpha over seeds at the hard end
            easy.append((lo if math.isfinite(lo) else ceil[n]) - a_star[n])
            hard.append((hi if math.isfinite(hi) else ceil[n]) - a_star[n])
        for entry in table.values():
            for v in entry.values():
                v["worst_low"] = v["worst_low"] if v["worst_low"] is None or math.isfinite(v["worst_low"]) else None
                v["worst_high"] = v["worst_high"] if v["worst_high"] is None or math.isfinite(v["worst_high"]) else None
        out["polys"][poly] = {"table": table, "crossing": crossing}
    out |= {"monotone_in_c": mono, "easy_margin": max(easy), "hard_margin": min(hard),
            "easy_c": cfg.easy_c, "hard_c": cfg.hard_c}
    return out


def training(cfg, seed: int, device: str = "cpu", progress=None) -> dict[str, Any]:
    """(c) Gradient descent on L(X) towards a planted X*, with the fast and the exact
    gradient, timing the gradient and update (and, for the fast one, choosing its Taylor
    degree from the current X) in CPU time, with wall time beside it; the loss is logged
    untimed. The comparison is the time each needs to reach 1.01x the exact run's final loss."""
    inst = make("gaussian", cfg.n, cfg.d, cfg.B, seed, device)
    g = torch.Generator().manual_seed(seed + 1)
    X_star = torch.eye(cfg.d, dtype=torch.float64) + cfg.target_scale * torch.randn(cfg.d, cfg.d, generator=g,
                                                                                      dtype=torch.float64).to(device)
    with torch.no_grad():
        f = torch.softmax(inst.A1 @ X_star @ inst.A2.T / cfg.d, dim=1)
        E = f @ inst.A3 @ inst.Y
    args = (inst.A1, inst.A2, inst.A3, inst.Y, E)
    runs, degrees = {}, []
    G.exact_grad(torch.zeros(cfg.d, cfg.d, dtype=torch.float64, device=device), *args)  # warm-up, untimed
    for kind in ("exact", "fast"):
        X = torch.zeros(cfg.d, cfg.d, dtype=torch.float64, device=device)
        cpu = wall = 0.0
        curve = [{"t": 0.0, "t_wall": 0.0, "step": 0, "loss": float(G.loss(X, *args))}]
        steps = range(1, cfg.steps + 1)
        for step in progress(steps, desc=f"descent {kind}") if progress else steps:
            clock = Clock()
            if kind == "exact":
                grad = G.exact_grad(X, *args)
            else:
                deg = G.taylor_degree(G.exponent_radius(inst.A1 @ X, inst.A2), cfg.eps)
                grad = G.fast_grad(X, *args, deg)
                degrees.append(deg)
            X = X - cfg.lr * grad
            c, w = clock.read()
            cpu, wall = cpu + c, wall + w
            curve.append({"t": cpu, "t_wall": wall, "step": step, "loss": float(G.loss(X, *args))})
        runs[kind] = curve
    return {"n": cfg.n, "d": cfg.d, "degrees": degrees, "max_rank": G.rank(cfg.d, max(degrees)), "runs": runs,
            **reach(runs, cfg.target_factor)}


def reach(runs: dict[str, list[dict]], factor: float) -> dict[str, Any]:
    """Time (CPU; wall beside it) for each run to reach `factor` x the exact run's final loss,
    and their ratio."""
    target = factor * runs["exact"][-1]["loss"]
    first = {k: next((p for p in c if p["loss"] <= target), None) for k, c in runs.items()}
    t = {k: p["t"] if p else None for k, p in first.items()}
    tw = {k: p.get("t_wall") if p else None for k, p in first.items()}
    ratio = t["fast"] / t["exact"] if t["fast"] is not None and t["exact"] else None
    return {"target_factor": factor, "target_loss": target, "exact_time_to_target_s": t["exact"],
            "fast_time_to_target_s": t["fast"],
            "time_ratio": ratio if ratio is not None else {"value": None, "why": "a run never reached the target"},
            "time_ratio_wall": tw["fast"] / tw["exact"] if tw["fast"] is not None and tw["exact"] else None,
            "step_exact_reaches": next(p["step"] for p in runs["exact"] if p["loss"] <= target),
            "step_fast_reaches": next((p["step"] for p in runs["fast"] if p["loss"] <= target), None),
            "loss_start": runs["exact"][0]["loss"], "loss_exact_final": runs["exact"][-1]["loss"],
            "loss_fast_final": runs["fast"][-1]["loss"], "exact_total_s": runs["exact"][-1]["t"],
            "fast_total_s": runs["fast"][-1]["t"], "exact_total_wall_s": runs["exact"][-1].get("t_wall"),
            "fast_total_wall_s": runs["fast"][-1].get("t_wall")}


def _qk_hooks(model):
    """(layer, attention module, projection, split) per hooked projection; split maps the
    projection's output to (q, k), each [..., heads, d_head] or None: Llama-style separate
    projections, GPT-2's fused c_attn, and GPT-NeoX's per-head interleaved query_key_value."""
    cfg = model.config
    H = cfg.num_attention_heads
    d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    if hasattr(model, "model") and hasattr(model.model, "layers"):  # Llama family
        kv = getattr(cfg, "num_key_value_heads", None) or H
        for i, layer in enumerate(model.model.layers):
            yield i, layer.self_attn, layer.self_attn.q_proj, lambda o: (o.unflatten(-1, (H, d)), None)
            yield i, layer.self_attn, layer.self_attn.k_proj, lambda o: (None, o.unflatten(-1, (kv, d)))
    elif hasattr(model, "transformer") and hasattr(model.transformer, "h"):  # GPT-2
        for i, block in enumerate(model.transformer.h):
            yield i, block.attn, block.attn.c_attn, lambda o: tuple(t.unflatten(-1, (H, d))
                                                                    for t in o.split(H * d, -1)[:2])
    elif hasattr(model, "gpt_neox"):  # Pythia
        for i, layer in enumerate(model.gpt_neox.layers):
            att = layer.attention
            yield i, att, att.query_key_value, lambda o: (o.unflatten(-1, (H, 3 * d))[..., :d],
                                                          o.unflatten(-1, (H, 3 * d))[..., d:2 * d])
    else:
        raise ValueError(f"no q/k hooks for {type(model).__name__}; supported: Llama family, GPT-2, GPT-NeoX")


def causal_logits(att, q: torch.Tensor, k: torch.Tensor, rope) -> torch.Tensor:
    """The attention logits the model softmaxes, [heads, n, n], with -inf above the diagonal:
    q, k ([n, heads, d]) rotated by the model's own RoPE where it has one (`rope` is the
    (cos, sin) the attention module received), scaled by its own factor."""
    import sys

    q, k = q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0)  # [1, heads, n, d]
    if rope is not None:
        q, k = sys.modules[type(att).__module__].apply_rotary_pos_emb(q, k, *rope)
    q, k = q[0].float(), k[0].float()
    k = k.repeat_interleave(q.shape[0] // k.shape[0], dim=0)  # grouped-query attention
    scale = getattr(att, "scaling", q.shape[-1] ** -0.5)
    s = q @ k.transpose(-1, -2) * scale
    n = s.shape[-1]
    return s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), -math.inf)


def attention_inputs(model, ids: torch.Tensor) -> dict[int, tuple[Any, torch.Tensor, torch.Tensor, Any]]:
    """One forward pass of the base model over one window `ids` [n]: per layer, its attention
    module, q [n, heads, d] and k [n, kv heads, d] as the projections give them (before
    RoPE), and the (cos, sin) the module received (None without RoPE)."""
    cur: dict[tuple[int, str], Any] = {}
    atts: dict[int, Any] = {}

    def hook(i, split):
        def fn(_mod, _inp, out):
            q, k = split(out)
            if q is not None:
                cur[i, "q"] = q[0].detach()
            if k is not None:
                cur[i, "k"] = k[0].detach()
        return fn

    def rope_of(i):
        def fn(_mod, _args, kwargs):
            cur[i, "rope"] = kwargs.get("position_embeddings")
        return fn

    handles = []
    for i, att, proj, split in _qk_hooks(model):
        handles.append(proj.register_forward_hook(hook(i, split)))
        if i not in atts:
            atts[i] = att
            handles.append(att.register_forward_pre_hook(rope_of(i), with_kwargs=True))
    try:
        with torch.no_grad():  # the base model only: q and k are all we need, not the LM head's logits
            model.base_model(input_ids=ids.unsqueeze(0))
    finally:
        for h in handles:
            h.remove()
    return {i: (att, cur[i, "q"], cur[i, "k"], cur.get((i, "rope"))) for i, att in atts.items()}


def head_scales(model, token_windows: torch.Tensor) -> dict[str, Any]:
    """Per layer and head of a real LM, three measures of the exponent's size, each as
    c = (.)/ln n:
    - entry bound: B = max(|q|, |k|) * d_head^(1/4), so that <q', k'>/d_head =
      <q, k>/sqrt(d_head) as in the paper's exp(<a, b>/d) form, and c = B^2/ln n;
    - balanced: max|q| * max|k| * sqrt(d_head), the entry bound after the rescaling
      q -> lambda q, k -> k/lambda that leaves attention unchanged;
    - logit: the largest causal logit the model actually softmaxes, after RoPE.
    The first two read q and k straight from the projections, before RoPE: RoPE rotates
    pairs of coordinates, so it preserves each vector's norm but not its largest entry."""
    cfg = model.config
    H = cfg.num_attention_heads
    d_head = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
    n = token_windows.shape[1]
    qmax: dict[int, torch.Tensor] = {}
    kmax: dict[int, torch.Tensor] = {}
    lmax: dict[int, torch.Tensor] = {}

    def keep(store: dict, i: int, m: torch.Tensor) -> None:
        store[i] = torch.maximum(store[i], m) if i in store else m

    for w in token_windows:
        for i, (att, q, k, rope) in attention_inputs(model, w).items():
            keep(qmax, i, q.abs().float().amax(dim=(0, 2)))  # per head
            keep(kmax, i, k.abs().float().amax(dim=(0, 2)))
            keep(lmax, i, causal_logits(att, q, k, rope).flatten(1).amax(1))
    heads = []
    ln_n = math.log(n)
    for i in sorted(qmax):
        group = H // kmax[i].numel()  # grouped-query attention: a KV head serves `group` query heads
        for h in range(H):
            q, k = float(qmax[i][h]), float(kmax[i][h // group])
            B = max(q, k) * d_head**0.25
            heads.append({"layer": i, "head": h, "B": B, "c": B**2 / ln_n,
                          "c_balanced": q * k * math.sqrt(d_head) / ln_n, "c_logit": float(lmax[i][h]) / ln_n})
    out: dict[str, Any] = {"n": n, "d_head": d_head, "ln_n": ln_n, "heads": heads}
    for key in ("c", "c_balanced", "c_logit"):
        cs = np.array([x[key] for x in heads])
        out |= {f"{key}_median": float(np.median(cs)), f"{key}_min": float(cs.min()), f"{key}_max": float(cs.max())}
    return out
