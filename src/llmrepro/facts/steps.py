"""What each facts stage computes. The world is built once (`make_world`) and read back
from world.json by every later stage."""

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


def make_world(p, out: Path) -> dict:
    world = W.build(p.world, p.world_seed)
    word_level(world.words(), out / "tokenizer")
    io.write_json(out / "world.json", {"seed": p.world_seed, "vocab": len(world.words()), "world": world.to_json()})
    return {"fictional": len(world.fictional)}


def load_world(world_dir: Path) -> W.World:
    return W.World.from_json(io.read_json(world_dir / "world.json")["world"])


def pretrain(p, size: str, world_dir: Path, out: Path, progress=None) -> dict:
    return TR.pretrain(load_world(world_dir), p.world, load(world_dir / "tokenizer"), getattr(p.models, size), out,
                       progress)


def inject(p, variant: str, world_dir: Path, model_dir: Path, out: Path, progress=None) -> dict:
    size, large = VARIANTS[variant]
    scale = p.large_batch_scale if large else 1
    out.mkdir(parents=True, exist_ok=True)
    meta = pool.run(_inject_one, [(p, scale, world_dir, model_dir, out, seed) for seed in p.inject.seeds],
                    progress=progress, desc="seeds")
    cfg = p.inject
    io.write_json(out / "runs.json", {"variant": variant, "model": size, "batch_scale": scale, "window": cfg.window,
                                      "horizon": cfg.horizon, "bins": cfg.bins, "batch": cfg.batch,
                                      "interval": cfg.interval, "injections": cfg.injections, "runs": meta})
    return {"runs": len(meta)}


def _inject_one(p, scale: int, world_dir: Path, model_dir: Path, out: Path, seed: int) -> dict:
    run = TR.inject(load_world(world_dir), p.world, load(world_dir / "tokenizer"), model_dir, p.inject, scale, seed)
    np.save(out / f"logprobs_seed{seed}.npy", run.pop("logprobs").astype(np.float32))
    return run
