"""What the mspoe evaluation stage computes."""

from __future__ import annotations

from pathlib import Path

from llmrepro.models.factory import load_source
from llmrepro.mspoe import tasks as T
from llmrepro.mspoe.evaluate import score
from llmrepro.mspoe.patch import MsPoECfg

TASKS = ("kv", "mdqa", "long")


def variant_cfgs(p, sweep: bool) -> dict[str, MsPoECfg | None]:
    """The baseline, Ms-PoE in either head order, and (where the task sweeps) uniform
    interpolation at each ratio, with the same layers left alone as Ms-PoE."""
    out: dict[str, MsPoECfg | None] = {"baseline": None}
    out.update({f"ms_poe_{o}": MsPoECfg(order=o, **p.ms_poe.model_dump()) for o in ("outlier", "sequential")})
    if sweep:
        out.update({f"uniform_{x:g}": MsPoECfg(order="uniform", ratio=x, skip_layers=p.ms_poe.skip_layers)
                    for x in p.uniform_ratios})
    return out


def evaluate(p, model_dir: Path, progress=None) -> dict:
    """Every task under every configuration, with the model loaded once:
    {variant: {task: {"rows": [...]}}, "_prompt_tokens": {task: [min, max]}, "_window": n, "_model": {...}}."""
    model, tok = load_source(p.model, model_dir)
    c = model.config
    out: dict = {"_prompt_tokens": {}, "_window": c.max_position_embeddings,
                 "_model": {"layers": c.num_hidden_layers, "heads": c.num_attention_heads,
                            "kv_heads": c.num_key_value_heads, "rope_theta": c.rope_parameters["rope_theta"]}}
    for i, t in enumerate(TASKS):
        c = getattr(p.tasks, t)
        examples = T.make(c.kind, tok, c.n, c.positions, c.contexts, c.candidates, p.seed + i)
        for name, cfg in variant_cfgs(p, c.sweep).items():
            out.setdefault(name, {})[t] = score(model, tok, examples, cfg, p.batch, progress)
        tokens = [r["tokens"] for r in out["baseline"][t]["rows"]]
        out["_prompt_tokens"][t] = [min(tokens), max(tokens)]
    return out
