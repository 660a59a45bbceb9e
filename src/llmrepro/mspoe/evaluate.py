"""Score prompts with and without Ms-PoE: one forward pass per prompt, the logits at
its last token, and the rank of the gold candidate among all in-context answers."""

from __future__ import annotations

import numpy as np
import torch

from llmrepro.mspoe.patch import MsPoECfg, patched
from llmrepro.mspoe.tasks import Example


def score(model, tok, examples: list[Example], cfg: MsPoECfg | None, batch: int, progress=None) -> dict:
    rows, head_scores = [], []
    chunks = range(0, len(examples), batch)
    with patched(model, cfg) as patch, torch.no_grad():
        for i in progress(chunks, total=len(chunks), desc=cfg.order if cfg else "baseline") if progress else chunks:
            exs = examples[i: i + batch]
            enc = [tok(e.prompt, add_special_tokens=False)["input_ids"] for e in exs]
            lengths = torch.tensor([len(x) for x in enc])
            pad = tok.pad_token_id if tok.pad_token_id is not None else 0
            # right padding needs no mask: causal attention never lets a real token see a pad
            ids = torch.tensor([x + [pad] * (int(lengths.max()) - len(x)) for x in enc])
            if patch is not None:
                patch.state.last = lengths - 1
                patch.state.scores = {} if cfg.order == "outlier" else None
            hidden = model.model(input_ids=ids, use_cache=False).last_hidden_state
            logp = torch.log_softmax(model.lm_head(hidden[torch.arange(len(exs)), lengths - 1]).float(), dim=-1)
            if patch is not None and patch.state.scores:
                head_scores.append(torch.stack([patch.state.scores[k] for k in sorted(patch.state.scores)], dim=1))
            for e, lp, x in zip(exs, logp, enc):
                cand = [tok(" " + c, add_special_tokens=False)["input_ids"][0] for c in e.candidates]
                s = lp[cand]
                rows.append({"position": e.position, "correct": int(s.argmax()) == e.gold,
                             "gold_logprob": float(s[e.gold]), "margin": float(s[e.gold] - s[torch.arange(len(cand))
                                                                                              != e.gold].max()),
                             "tokens": len(x)})
    out = {"rows": rows}
    if head_scores:
        out["head_scores"] = torch.cat(head_scores).mean(0).tolist()  # (layers, heads), mean over prompts
    return out


def by_position(rows: list[dict]) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for r in rows:
        out.setdefault(r["position"], []).append(float(r["correct"]))
    return dict(sorted(out.items()))


def summary(rows: list[dict]) -> dict:
    pos = by_position(rows)
    keys = list(pos)
    acc = {p: float(np.mean(v)) for p, v in pos.items()}
    middle = [p for p in keys[1:-1]]
    return {"acc_by_position": acc, "mean": float(np.mean(list(acc.values()))),
            "middle": float(np.mean([acc[p] for p in middle])), "ends": float(np.mean([acc[keys[0]], acc[keys[-1]]])),
            "gap": max(acc.values()) - min(acc.values()), "n_per_position": len(pos[keys[0]])}
