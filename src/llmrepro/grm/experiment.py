"""Every reward model of a run list, trained on the cache and scored on the test sets and best-of-n.

A run is (method, preference-set size, seed). The seed fixes the training subset drawn from the
pool, the head and LoRA initialisation, dropout and the data order; every method at a given
(size, seed) gets the same subset and the same initial head, so comparisons between methods are
paired by seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from llmrepro.grm.analysis import encode
from llmrepro.grm.bon import bon_curve, powers_of_two
from llmrepro.grm.world import SETS
from llmrepro.models.device import device


def subset(pool_size: int, size: int, seed: int) -> np.ndarray:
    """The seed's training pairs: `size` distinct pairs of the pool (the same for every method)."""
    if size > pool_size:
        raise ValueError(f"preference-set size {size} exceeds the pool of {pool_size} pairs (grm.world.train_pool)")
    return np.sort(np.random.default_rng([seed, size]).choice(pool_size, size, replace=False))


def runs(rm_cfg, which: str = "all") -> list[tuple[str, int, int]]:
    """(method, size, seed): every method at the main size; the size-axis methods at every size."""
    out = [(m.name, rm_cfg.main_size, s) for m in rm_cfg.methods for s in rm_cfg.seeds[:m.n_seeds]]
    out += [(m, n, s) for m in rm_cfg.size_methods for n in rm_cfg.sizes if n != rm_cfg.main_size
            for s in rm_cfg.seeds]
    return out if which == "all" else [r for r in out if r[0] == which]


def accuracy(r_c: np.ndarray, r_r: np.ndarray) -> float:
    """Pairwise accuracy; a tie counts one half."""
    return float(np.mean((r_c > r_r) + 0.5 * (r_c == r_r)))


class Cache:
    """The cache stage's states as one Table with Responses per group, with the world's pairs and
    markers."""

    def __init__(self, cache_dir: Path, world: dict, top, targets, device: str = "cpu", precompute: bool = True):
        from safetensors.torch import load_file

        from llmrepro import io
        from llmrepro.grm.rm import Table, tabulate

        self.meta = io.read_json(cache_dir / "meta.json")
        tensors = load_file(str(cache_dir / "states.safetensors"))
        names = ["pool", *world["pairs"], *(f"bon{i}" for i in range(len(self.meta["bon"])))]
        h, groups = tabulate(tensors, names, self.meta["marker_id"], self.meta["end_id"],
                             self.meta["shortlist"]["ids"])
        self.table = Table(h, top, targets, device, precompute)
        self.world = world
        self.pool = groups["pool"]
        self.groups = {g: groups[g] for g in world["pairs"]}
        self.bon = [groups[f"bon{i}"] for i in range(len(self.meta["bon"]))]


def evaluate(model, cache: Cache) -> dict:
    """Accuracy on every test set, the LM's NLL per answer digit of the correct ID responses, and
    best-of-n."""
    import torch

    from llmrepro.grm.rm import rewards

    out: dict = {"acc": {}, "rewards": {}}
    for name in SETS:
        t = cache.world["tests"][name]
        resp = cache.groups[t["pairs"]]
        mk = torch.tensor(t["markers"], dtype=torch.bool)
        n = len(mk)
        rc = rewards(model, cache.table, resp, torch.arange(n) * 2, mk[:, 0])
        rr = rewards(model, cache.table, resp, torch.arange(n) * 2 + 1, mk[:, 1])
        out["acc"][name] = accuracy(rc, rr)
        out["rewards"][name] = (rc, rr)
    idr = cache.groups["id"]
    rows = torch.arange(len(cache.world["pairs"]["id"])) * 2
    unmarked = torch.zeros(len(rows), dtype=torch.bool)
    with torch.no_grad():
        lp = idr.seq_logprob(model, cache.table, rows, unmarked, digits_only=True)
    out["lm_nll"] = float(-lp.sum() / idr.digit[0, rows].sum())
    out["bon"] = bon(model, cache)
    return out


def bon(model, cache: Cache) -> dict:
    """Gold and proxy reward of the proxy's best of n, per prompt, for n = 1, 2, 4, ... pool size.
    The proxy is standardised per prompt over the pool, so reward models on different scales share
    one axis."""
    import torch

    from llmrepro.grm.rm import rewards

    gold, proxy = [], []
    for resp, meta in zip(cache.bon, cache.meta["bon"]):
        u = len(meta["responses"])
        r = np.stack([rewards(model, cache.table, resp, torch.arange(u), torch.zeros(u, dtype=torch.bool)),
                      rewards(model, cache.table, resp, torch.arange(u), torch.ones(u, dtype=torch.bool))], 1)
        sample, marked = np.asarray(meta["sample"]), np.asarray(meta["marked"], dtype=int)
        p, g = r[sample, marked], np.asarray(meta["gold"])[sample]
        ns = powers_of_two(len(sample))
        sd = p.std() or 1.0
        gold.append(bon_curve(p, g, ns))
        proxy.append([(v - p.mean()) / sd for v in bon_curve(p, p, ns)])
    return {"n": ns, "gold": np.mean(gold, 0).tolist(), "proxy": np.mean(proxy, 0).tolist()}


def run_all(cfg, world: dict, cache_dir: Path, model_dir: Path, which: str = "all",
            progress: Callable | None = None) -> dict:
    """Train and score every run of `which` (a method name, or all); per-run results plus raw test
    rewards of BT at the main size (for ensembles)."""
    from llmrepro.grm.rm import load_top, train_one
    from llmrepro.models.factory import load_source

    from llmrepro import io

    model, _ = load_source(cfg.backbone.model, model_dir)
    top = load_top(model, io.read_json(cache_dir / "meta.json")["shortlist"]["ids"], str(device()))
    del model
    cache = Cache(cache_dir, world, top, cfg.rm.lora.targets, str(device()), cfg.rm.precompute)
    methods = {m.name: m for m in cfg.rm.methods}
    todo = runs(cfg.rm, which)
    results, raw = [], {}
    for name, size, seed in (progress(todo, total=len(todo), desc="reward models") if progress else todo):
        t0 = time.process_time()
        idx = subset(len(world["pool"]), size, seed)
        rm, hist = train_one(methods[name], top, cache.table, cache.pool, world["pool"], world["pool_markers"], idx,
                             cfg.rm, seed)
        ev = evaluate(rm, cache)
        if name == "bt" and size == cfg.rm.main_size:
            raw[str(seed)] = {k: [v[0].tolist(), v[1].tolist()] for k, v in ev["rewards"].items()}
        items = {k: encode((rc > rr) + 0.5 * (rc == rr)) for k, (rc, rr) in ev["rewards"].items()}
        results.append({"method": name, "size": size, "seed": seed, "acc": ev["acc"], "items": items,
                        "lm_nll": ev["lm_nll"],
                        "bon": ev["bon"], "steps": len(hist["loss"]),
                        "final_loss": float(np.mean(hist["loss"][-5:])), "cpu_s": time.process_time() - t0})
    meta = {k: cache.meta.get(k) for k in ("prefix_tokens", "hidden", "vectors", "natural_tokenization")}
    meta["shortlist"] = {k: v for k, v in cache.meta["shortlist"].items() if k != "ids"} | {
        "size": len(cache.meta["shortlist"]["ids"])}
    meta["bon"] = [{k: b[k] for k in ("task", "x", "answer")} | {"distinct": len(b["responses"]),
                   "mean_gold": float(np.mean(np.asarray(b["gold"])[b["sample"]])),
                   "gold_sd": float(np.std(np.asarray(b["gold"])[b["sample"]]))} for b in cache.meta["bon"]]
    setup = {"main_size": cfg.rm.main_size, "sizes": sorted(cfg.rm.sizes), "seeds": list(cfg.rm.seeds),
             "methods": [m.name for m in cfg.rm.methods], "size_methods": list(cfg.rm.size_methods),
             "steps": {str(n): cfg.rm.train.steps(n) for n in cfg.rm.sizes}}
    return {"setup": setup, "runs": results, "bt_rewards": raw, "cache": meta}
