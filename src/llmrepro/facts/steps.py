"""What each facts stage computes. Each world seed's world is built once (`make_world`) and read
back from its world.json by every later stage; each world has its own pretrained models, and
injection seed i runs in world i, so an interval over seeds spans worlds (issue 19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.data.tokenizer import load, word_level
from llmrepro.facts import training as TR
from llmrepro.facts import world as W
from llmrepro.pipeline import pool

VARIANTS = {  # stage -> (model, batch scale key)
    "base": ("base", False),
    "large_batch": ("base", True),
    "small_model": ("small", False),
}


def world_dir(root: Path, world_seed: int) -> Path:
    """The folder of one world under a stage's output (its world, or a model pretrained on it)."""
    return root / f"world{world_seed}"


def make_world(p, out: Path) -> None:
    for seed in p.world_seeds:
        world, d = W.build(p.world, seed), world_dir(out, seed)
        word_level(world.words(), d / "tokenizer")
        io.write_json(d / "world.json", {"seed": seed, "vocab": len(world.words()), "world": world.to_json()})


def load_world(world_dir: Path) -> W.World:
    return W.World.from_json(io.read_json(world_dir / "world.json")["world"])


def pretrain(p, size: str, worlds: Path, out: Path, progress=None) -> dict:
    """One model per world, each from the same init seed."""
    runs = pool.run(_pretrain_one, [(p, size, world_dir(worlds, s), world_dir(out, s)) for s in p.world_seeds],
                    progress=progress, desc="worlds")
    return dict(zip((f"world{s}" for s in p.world_seeds), runs))


def _pretrain_one(p, size: str, world: Path, out: Path) -> dict:
    import torch

    cfg = getattr(p.models, size)
    torch.manual_seed(cfg.seed)
    return TR.pretrain(load_world(world), p.world, load(world / "tokenizer"), cfg, out)


def inject(p, variant: str, worlds: Path, models: Path, out: Path, progress=None) -> dict:
    size, large = VARIANTS[variant]
    scale = p.large_batch_scale if large else 1
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(p, scale, worlds, models, w, out, seed) for seed, w in zip(p.inject.seeds, p.world_seeds, strict=True)]
    meta = pool.run(_inject_one, jobs, progress=progress, desc="seeds")
    cfg = p.inject
    io.write_json(out / "runs.json", {"variant": variant, "model": size, "batch_scale": scale, "window": cfg.window,
                                      "horizon": cfg.horizon, "bins": cfg.bins, "batch": cfg.batch,
                                      "interval": cfg.interval, "injections": cfg.injections, "runs": meta})
    return {"runs": len(meta)}


def _inject_one(p, scale: int, worlds: Path, models: Path, world_seed: int, out: Path, seed: int) -> dict:
    world = world_dir(worlds, world_seed)
    run = TR.inject(load_world(world), p.world, load(world / "tokenizer"), world_dir(models, world_seed), p.inject,
                    scale, seed)
    np.save(out / f"logprobs_seed{seed}.npy", run.pop("logprobs").astype(np.float32))
    return {**run, "world_seed": world_seed}
