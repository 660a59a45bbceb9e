"""What each mspoe stage computes."""

from __future__ import annotations

from pathlib import Path

from llmrepro.models.factory import load_source
from llmrepro.mspoe import tasks as T
from llmrepro.mspoe.evaluate import score
from llmrepro.mspoe.patch import MsPoECfg

TASKS = ("kv", "mdqa")


def variant_cfgs(p, variant: str) -> dict[str, MsPoECfg | None]:
    """Named configurations a stage evaluates: the baseline, Ms-PoE in either head
    order, or the uniform-ratio sweep (one entry per ratio)."""
    if variant == "baseline":
        return {"baseline": None}
    if variant in ("sequential", "outlier"):
        return {f"ms_poe_{variant}": MsPoECfg(order=variant, **p.ms_poe.model_dump())}
    if variant == "uniform":
        return {f"uniform_{x:g}": MsPoECfg(order="uniform", ratio=x) for x in p.uniform_ratios}
    raise ValueError(f"variant {variant!r} is not one of: baseline, sequential, outlier, uniform")


def evaluate(p, model_dir: Path, variant: str, progress=None) -> dict:
    model, tok = load_source(p.model, model_dir)
    examples = {t: T.make(t, tok, getattr(p.tasks, t).n, getattr(p.tasks, t).positions, p.per_position, p.seed + i)
                for i, t in enumerate(TASKS)}
    out = {}
    for name, cfg in variant_cfgs(p, variant).items():
        out[name] = {t: score(model, tok, ex, cfg, p.batch, progress) for t, ex in examples.items()}
    scored = next(iter(out.values()))  # every configuration sees the same prompts
    out["_prompt_tokens"] = {t: max(r["tokens"] for r in res["rows"]) for t, res in scored.items()}
    out["_window"] = model.config.max_position_embeddings
    return out
