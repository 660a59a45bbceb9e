"""The Zipf-CLIP mini experiment: worlds -> concept extraction -> tiny CLIP -> zero-shot."""

from __future__ import annotations

from pathlib import Path


from llmrepro import io
from llmrepro.freq import clip as C
from llmrepro.freq import extraction as X
from llmrepro.freq import world as W
from llmrepro.freq.vocabulary import PROMPTS
from llmrepro.freq.config import MiniCfg


def world_names(cfg: MiniCfg) -> dict[str, tuple[int, float]]:
    """World name -> (seed, Zipf exponent); `uniform` is the causal control."""
    return {**{f"seed{s}": (s, cfg.world.zipf_s) for s in cfg.seeds}, "uniform": (cfg.seeds[0], 0.0)}


def make_worlds(cfg: MiniCfg, out: Path) -> dict:
    meta = {}
    for name, (seed, s) in world_names(cfg).items():
        w = W.generate(cfg.world.model_copy(update={"zipf_s": s}), seed)
        W.save(w, out / name)
        meta[name] = {"seed": seed, "zipf_s": s, "pairs": len(w.captions)}
    io.write_json(out / "worlds.json", meta)
    return meta


def extract_all(cfg: MiniCfg, worlds: Path) -> dict:
    out = {}
    for name, (seed, _) in world_names(cfg).items():
        out[name] = X.extract(W.load(worlds / name), cfg.tagger, cfg.world.sigma, seed)
    return out


def tokenizer_for(world: W.World, out: Path | None = None):
    from llmrepro.data.tokenizer import word_level

    words = {t for cap in world.captions for t in cap.split()}
    words |= {t for p in PROMPTS for n in world.names for t in p.format(s=n).split()}
    return word_level(sorted(words), out)


def train_all(cfg: MiniCfg, worlds: Path, out: Path, progress=None) -> dict:
    from safetensors.torch import save_file

    meta = {}
    for name, (seed, _) in world_names(cfg).items():
        w = W.load(worlds / name)
        tok = tokenizer_for(w, out / name)
        model, losses = C.train(w, tok, cfg.clip, seed, progress)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / name / "model.safetensors")
        meta[name] = {"steps": len(losses), "loss_first": losses[0], "loss_last": losses[-1],
                      "loss_curve": losses[:: max(1, len(losses) // 100)]}
    io.write_json(out / "train.json", meta)
    return meta


def zero_shot_all(cfg: MiniCfg, worlds: Path, models: Path) -> dict:
    from safetensors.torch import load_file

    from llmrepro.data.tokenizer import load

    out = {}
    for name, (seed, _) in world_names(cfg).items():
        w = W.load(worlds / name)
        tok = load(models / name)
        model = C.TinyClip(len(tok), w.prototypes.shape[1], cfg.clip)
        model.load_state_dict(load_file(models / name / "model.safetensors"))
        model.eval()
        x, y = W.labelled_images(w, cfg.world.test_images, cfg.world.sigma, seed + 2000)
        acc = C.zero_shot(model, tok, w.names, PROMPTS, x, y, cfg.clip.max_len)
        out[name] = {"names": w.names, "acc": acc.tolist(), "mean_acc": float(acc.mean()),
                     "chance": 100.0 / len(w.names)}
    return out
