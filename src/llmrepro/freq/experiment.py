"""The Zipf-CLIP mini experiment: worlds -> concept extraction -> tiny CLIP -> zero-shot."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from llmrepro import io
from llmrepro.freq import clip as C
from llmrepro.freq import extraction as X
from llmrepro.freq import world as W
from llmrepro.freq.vocabulary import PROMPTS
from llmrepro.freq.config import MiniCfg


class WorldSpec(NamedTuple):
    seed: int
    zipf_s: float
    sigma: float


def world_names(cfg: MiniCfg) -> dict[str, WorldSpec]:
    """World name -> (seed, Zipf exponent, image noise): `seed<s>` are the Zipf worlds,
    `uniform<s>` the causal controls (uniform frequencies, noise matched in accuracy)."""
    return {**{f"seed{s}": WorldSpec(s, cfg.world.zipf_s, cfg.world.sigma) for s in cfg.seeds},
            **{f"uniform{s}": WorldSpec(s, 0.0, cfg.control.sigma) for s in cfg.control.seeds}}


def zipf_names(cfg: MiniCfg) -> list[str]:
    return [f"seed{s}" for s in cfg.seeds]


def control_names(cfg: MiniCfg) -> list[str]:
    return [f"uniform{s}" for s in cfg.control.seeds]


def make_worlds(cfg: MiniCfg, out: Path) -> dict:
    meta = {}
    for name, w in world_names(cfg).items():
        world = W.generate(cfg.world.model_copy(update={"zipf_s": w.zipf_s, "sigma": w.sigma}), w.seed)
        W.save(world, out / name)
        meta[name] = {"seed": w.seed, "zipf_s": w.zipf_s, "sigma": w.sigma, "pairs": len(world.captions)}
    io.write_json(out / "worlds.json", meta)
    return meta


def extract_all(cfg: MiniCfg, worlds: Path) -> dict:
    return {name: X.extract(W.load(worlds / name), cfg.tagger, w.sigma, w.seed)
            for name, w in world_names(cfg).items()}


def tokenizer_for(world: W.World, out: Path | None = None):
    from llmrepro.data.tokenizer import word_level

    words = {t for cap in world.captions for t in cap.split()}
    words |= {t for p in PROMPTS for n in world.names for t in p.format(s=n).split()}
    return word_level(sorted(words), out)


def train_all(cfg: MiniCfg, worlds: Path, out: Path, progress=None) -> dict:
    """One TinyClip per world, one single-thread worker per core (pipeline.pool): the worlds are independent."""
    from llmrepro.pipeline import pool

    names = world_names(cfg)
    done = pool.run(_train_one, [(cfg, worlds, out, name, spec.seed) for name, spec in names.items()],
                    progress=progress, desc="worlds")
    meta = dict(zip(names, done, strict=True))
    io.write_json(out / "train.json", meta)
    return meta


def _train_one(cfg: MiniCfg, worlds: Path, out: Path, name: str, seed: int) -> dict:
    from safetensors.torch import save_file

    w = W.load(worlds / name)
    tok = tokenizer_for(w, out / name)
    model, losses = C.train(w, tok, cfg.clip, seed)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / name / "model.safetensors")
    return {"steps": len(losses), "loss_first": losses[0], "loss_last": losses[-1],
            "loss_curve": losses[:: max(1, len(losses) // 100)]}


def zero_shot_all(cfg: MiniCfg, worlds: Path, models: Path) -> dict:
    from safetensors.torch import load_file

    from llmrepro.data.tokenizer import load

    out = {}
    for name, spec in world_names(cfg).items():
        w = W.load(worlds / name)
        tok = load(models / name)
        model = C.TinyClip(len(tok), w.prototypes.shape[1], cfg.clip)
        model.load_state_dict(load_file(models / name / "model.safetensors"))
        model.eval()
        x, y = W.labelled_images(w, cfg.world.test_images, spec.sigma, spec.seed + 2000)
        acc = C.zero_shot(model, tok, w.names, PROMPTS, x, y, cfg.clip.max_len)
        out[name] = {"names": w.names, "acc": acc.tolist(), "mean_acc": float(acc.mean()),
                     "chance": 100.0 / len(w.names)}
    return out
