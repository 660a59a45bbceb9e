"""What each facts stage computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.data.tokenizer import load, word_level
from llmrepro.facts import training as TR
from llmrepro.facts import world as W

VARIANTS = {  # stage -> (model, batch scale key)
    "base": ("base", False),
    "large_batch": ("base", True),
    "small_model": ("small", False),
}


def make_world(p, out: Path) -> dict:
    world = W.build(p.world, p.world_seed)
    word_level(world.words(), out / "tokenizer")
    probes = W.probes(world)
    io.write_json(out / "world.json", {"seed": p.world_seed, "fictional": {s: [e.name for e in es]
                                                                            for s, es in world.fictional.items()},
                                       "probes": len(probes), "vocab": len(world.words())})
    return {"probes": len(probes)}


def pretrain(p, size: str, world_dir: Path, out: Path, progress=None) -> dict:
    world = W.build(p.world, p.world_seed)
    return TR.pretrain(world, p.world, load(world_dir / "tokenizer"), getattr(p.models, size), out, progress)


def inject(p, variant: str, world_dir: Path, model_dir: Path, out: Path, progress=None) -> dict:
    size, large = VARIANTS[variant]
    world = W.build(p.world, p.world_seed)
    cfg = p.inject.model_copy(update={"batch_scale": p.large_batch_scale if large else 1})
    tok = load(world_dir / "tokenizer")
    out.mkdir(parents=True, exist_ok=True)
    meta = []
    for seed in cfg.seeds:
        run = TR.inject(world, p.world, tok, model_dir, cfg, seed, progress)
        np.save(out / f"logprobs_seed{seed}.npy", run.pop("logprobs").astype(np.float32))
        meta.append(run)
    io.write_json(out / "runs.json", {"variant": variant, "model": size, "batch_scale": cfg.batch_scale,
                                      "window": cfg.window, "runs": meta})
    return {"runs": len(meta)}
