"""Every reward model of a run list, trained on the cache and scored on the test sets and best-of-n.

A run is (method, preference-set size, seed). Seeds are dealt to the worlds in turn (`world_of`):
a seed trains on its world's pool and is scored on its world's test sets and BoN prompts. The seed
fixes the training subset drawn from that pool, the head and LoRA initialisation, dropout and the
data order; every method at a given (size, seed) gets the same world, subset and initial head, so
comparisons between methods are paired by seed.
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


def world_of(seeds: list[int], n_worlds: int) -> dict[int, int]:
    """Seed -> index of its world: dealt in turn, so the first k seeds span min(k, n_worlds) worlds."""
    return {s: i % n_worlds for i, s in enumerate(seeds)}


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
    """The cache stage's states as one Table with Responses per group; per world its pool, test groups
    and BoN pools, with the world's pairs and markers."""

    def __init__(self, cache_dir: Path, worlds: dict, top, targets, device: str = "cpu", precompute: bool = True):
        from safetensors.torch import load_file

        from llmrepro import io
        from llmrepro.grm.rm import Table, tabulate

        self.meta = io.read_json(cache_dir / "meta.json")
        tensors = load_file(str(cache_dir / "states.safetensors"))
        names = [f"w{k}.{g}" for k, (w, m) in enumerate(zip(worlds["worlds"], self.meta["worlds"]))
                 for g in ("pool", *w["pairs"], *(f"bon{i}" for i in range(len(m["bon"]))))]
        h, groups = tabulate(tensors, names, self.meta["marker_id"], self.meta["end_id"],
                             self.meta["shortlist"]["ids"])
        self.table = Table(h, top, targets, device, precompute)
        self.worlds = [World(w, groups[f"w{k}.pool"], {g: groups[f"w{k}.{g}"] for g in w["pairs"]},
                             [groups[f"w{k}.bon{i}"] for i in range(len(m["bon"]))], m["bon"])
                       for k, (w, m) in enumerate(zip(worlds["worlds"], self.meta["worlds"]))]


class World:
    """One world's data and its cached responses."""

    def __init__(self, world: dict, pool, groups: dict, bon: list, bon_meta: list[dict]):
        self.world, self.pool, self.groups, self.bon, self.bon_meta = world, pool, groups, bon, bon_meta


def evaluate(model, cache: Cache, k: int) -> dict:
    """Accuracy on every test set of world k, the LM's NLL per answer digit of its correct ID responses,
    and best-of-n on its prompts."""
    import torch

    from llmrepro.grm.rm import rewards

    w = cache.worlds[k]
    out: dict = {"acc": {}, "rewards": {}}
    for name in SETS:
        t = w.world["tests"][name]
        resp = w.groups[t["pairs"]]
        mk = torch.tensor(t["markers"], dtype=torch.bool)
        n = len(mk)
        rc = rewards(model, cache.table, resp, torch.arange(n) * 2, mk[:, 0])
        rr = rewards(model, cache.table, resp, torch.arange(n) * 2 + 1, mk[:, 1])
        out["acc"][name] = accuracy(rc, rr)
        out["rewards"][name] = (rc, rr)
    idr = w.groups["id"]
    rows = torch.arange(len(w.world["pairs"]["id"])) * 2
    unmarked = torch.zeros(len(rows), dtype=torch.bool)
    with torch.no_grad():
        lp = idr.seq_logprob(model, cache.table, rows, unmarked, digits_only=True)
    out["lm_nll"] = float(-lp.sum() / idr.digit[0, rows].sum())
    out["bon"] = bon(model, cache.table, w)
    return out


def bon(model, table, w: World) -> dict:
    """Gold and proxy reward of the proxy's best of n, per prompt of world w, for n = 1, 2, 4, ... pool
    size. The proxy is standardised per prompt over the pool, so reward models on different scales share
    one axis."""
    import torch

    from llmrepro.grm.rm import rewards

    gold, proxy = [], []
    for resp, meta in zip(w.bon, w.bon_meta):
        u = len(meta["responses"])
        r = np.stack([rewards(model, table, resp, torch.arange(u), torch.zeros(u, dtype=torch.bool)),
                      rewards(model, table, resp, torch.arange(u), torch.ones(u, dtype=torch.bool))], 1)
        sample, marked = np.asarray(meta["sample"]), np.asarray(meta["marked"], dtype=int)
        p, g = r[sample, marked], np.asarray(meta["gold"])[sample]
        ns = powers_of_two(len(sample))
        sd = p.std() or 1.0
        gold.append(bon_curve(p, g, ns))
        proxy.append([(v - p.mean()) / sd for v in bon_curve(p, p, ns)])
    return {"n": ns, "gold": np.mean(gold, 0).tolist(), "proxy": np.mean(proxy, 0).tolist()}


def run_all(cfg, worlds: dict, cache_dir: Path, model_dir: Path, which: str = "all",
            progress: Callable | None = None) -> dict:
    """Train and score every run of `which` (a method name, or all), each in its seed's world; per-run
    results plus raw test rewards of BT at the main size (for ensembles)."""
    from llmrepro import io
    from llmrepro.pipeline import pool

    where = world_of(list(cfg.rm.seeds), len(worlds["worlds"]))
    todo = runs(cfg.rm, which)
    done = pool.run(_train_score, [(cfg, name, size, seed, where[seed]) for name, size, seed in todo],
                    init=_setup, initargs=(cfg, worlds, cache_dir, model_dir), progress=progress,
                    desc="reward models")
    results = [row for row, _ in done]
    raw = {str(row["seed"]): r for row, r in done if r is not None}
    cm = io.read_json(cache_dir / "meta.json")
    meta = {k: cm.get(k) for k in ("prefix_tokens", "hidden", "vectors", "natural_tokenization")}
    meta["shortlist"] = {k: v for k, v in cm["shortlist"].items() if k != "ids"} | {"size": len(cm["shortlist"]["ids"])}
    meta["bon"] = [{k: b[k] for k in ("task", "x", "answer")} | {"world": i, "distinct": len(b["responses"]),
                   "mean_gold": float(np.mean(np.asarray(b["gold"])[b["sample"]])),
                   "gold_sd": float(np.std(np.asarray(b["gold"])[b["sample"]]))}
                   for i, m in enumerate(cm["worlds"]) for b in m["bon"]]
    setup = {"main_size": cfg.rm.main_size, "sizes": sorted(cfg.rm.sizes), "seeds": list(cfg.rm.seeds),
             "world_seeds": list(worlds["seeds"]), "world_of": {str(s): k for s, k in where.items()},
             "methods": [m.name for m in cfg.rm.methods], "size_methods": list(cfg.rm.size_methods),
             "steps": {str(n): cfg.rm.train.steps(n) for n in cfg.rm.sizes}}
    return {"setup": setup, "runs": results, "bt_rewards": raw, "cache": meta}


def _setup(cfg, worlds: dict, cache_dir: Path, model_dir: Path) -> tuple:
    """A worker's shared state: the trainable top layers and the cached trunk states."""
    from llmrepro import io
    from llmrepro.grm.rm import load_top
    from llmrepro.models.factory import load_source

    model, _ = load_source(cfg.backbone.model, model_dir)
    top = load_top(model, io.read_json(cache_dir / "meta.json")["shortlist"]["ids"], str(device()))
    del model
    return top, Cache(cache_dir, worlds, top, cfg.rm.lora.targets, str(device()), cfg.rm.precompute)


def _train_score(setup: tuple, cfg, name: str, size: int, seed: int, k: int) -> tuple[dict, dict | None]:
    """One reward model in world k, scored; with BT's raw test rewards at the main size (for ensembles)."""
    from llmrepro.grm.rm import train_one

    top, cache = setup
    t0 = time.process_time()
    w = cache.worlds[k]
    idx = subset(len(w.world["pool"]), size, seed)
    method = next(m for m in cfg.rm.methods if m.name == name)
    rm, hist = train_one(method, top, cache.table, w.pool, w.world["pool"], w.world["pool_markers"], idx, cfg.rm, seed)
    ev = evaluate(rm, cache, k)
    raw = ({k_: [v[0].tolist(), v[1].tolist()] for k_, v in ev["rewards"].items()}
           if name == "bt" and size == cfg.rm.main_size else None)
    items = {k_: encode((rc > rr) + 0.5 * (rc == rr)) for k_, (rc, rr) in ev["rewards"].items()}
    return ({"method": name, "size": size, "seed": seed, "world": k, "acc": ev["acc"], "items": items,
             "lm_nll": ev["lm_nll"], "bon": ev["bon"], "steps": len(hist["loss"]),
             "final_loss": float(np.mean(hist["loss"][-5:])), "cpu_s": time.process_time() - t0}, raw)
