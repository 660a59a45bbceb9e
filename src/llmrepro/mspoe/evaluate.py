"""Score prompts with and without Ms-PoE: the log-probabilities at each prompt's last
token only, and the rank of the gold candidate among the candidates.

The examples of one context share their prefix. Where the ratios do not depend on the
prompt (the baseline, sequential Ms-PoE, uniform interpolation), the prefix runs once and
its questions run as one right-padded batch against the cached keys and values; a real
token never attends to a pad on its right. Outlier-ordered Ms-PoE chooses its ratios from
each full prompt, so it runs every prompt whole, right-padded, with the pad keys masked
out of its head scores. Either way a prompt's scores do not depend on the batch size.
"""

from __future__ import annotations

from itertools import groupby

import numpy as np
import torch

from llmrepro.mspoe.patch import MsPoECfg, patched
from llmrepro.mspoe.tasks import Example


def _pad(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(x) for x in seqs])
    return torch.tensor([x + [pad] * (int(lengths.max()) - len(x)) for x in seqs]), lengths


def _last_logp(model, hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(model.lm_head(hidden[torch.arange(len(lengths)), lengths - 1]).float(), dim=-1)


def _expand(cache, n: int):
    """A new cache holding the prefix's keys and values for n rows (the prefix's own stays intact)."""
    from transformers import DynamicCache

    return DynamicCache([(layer.keys.expand(n, -1, -1, -1), layer.values.expand(n, -1, -1, -1))
                         for layer in cache.layers])


def _shared_prefix(model, prefix: list[int], suffixes: list[list[int]], batch: int, pad: int) -> torch.Tensor:
    cache = model.model(input_ids=torch.tensor([prefix]), use_cache=True).cache
    out = []
    for i in range(0, len(suffixes), batch):
        ids, lengths = _pad(suffixes[i: i + batch], pad)
        pos = (torch.arange(ids.shape[1]) + len(prefix))[None]
        hidden = model.model(input_ids=ids, cache=_expand(cache, len(ids)), position_ids=pos,
                             use_cache=True).last_hidden_state
        out.append(_last_logp(model, hidden, lengths))
    return torch.cat(out)


def _whole(model, patch, prompts: list[list[int]], batch: int, pad: int, head_scores: list) -> torch.Tensor:
    out = []
    for i in range(0, len(prompts), batch):
        ids, lengths = _pad(prompts[i: i + batch], pad)
        if patch is not None:
            patch.state.last = lengths - 1
            patch.state.scores = {}
        hidden = model.model(input_ids=ids, use_cache=False).last_hidden_state
        out.append(_last_logp(model, hidden, lengths))
        if patch is not None and patch.state.scores:
            head_scores.append(torch.stack([patch.state.scores[k] for k in sorted(patch.state.scores)], dim=1))
    return torch.cat(out)


def score(model, tok, examples: list[Example], cfg: MsPoECfg | None, batch: int, progress=None) -> dict:
    """One row per example: correct (gold ranks first), the gold log-probability and its margin
    over the best other candidate; with outlier Ms-PoE also the mean head scores (layers, heads)."""
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]
    contexts = [list(g) for _, g in groupby(examples, key=lambda e: e.context)]
    shared = cfg is None or cfg.order != "outlier"
    rows, head_scores = [], []
    it = progress(contexts, total=len(contexts), desc=cfg.order if cfg else "baseline") if progress else contexts
    with patched(model, cfg) as patch, torch.no_grad():
        for exs in it:
            prefix, suffixes = enc(exs[0].prefix), [enc(e.suffix) for e in exs]
            if shared:
                logp = _shared_prefix(model, prefix, suffixes, batch, pad)
            else:
                logp = _whole(model, patch, [prefix + s for s in suffixes], batch, pad, head_scores)
            for e, lp, s in zip(exs, logp, suffixes):
                cand = [enc(" " + c)[0] for c in e.candidates]
                x = lp[cand]
                rows.append({"context": e.context, "position": e.position, "correct": int(x.argmax()) == e.gold,
                             "gold_logprob": float(x[e.gold]),
                             "cand_logprob": float(x[e.gold] - torch.logsumexp(x, 0)),  # over the candidates
                             "margin": float(x[e.gold] - x[torch.arange(len(cand)) != e.gold].max()),
                             "tokens": len(prefix) + len(s)})
    out = {"rows": rows}
    if head_scores:
        out["head_scores"] = torch.cat(head_scores).mean(0).tolist()  # (layers, heads), mean over prompts
    return out


def by_position(rows: list[dict], key: str = "correct") -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for r in rows:
        out.setdefault(r["position"], []).append(float(r[key]))
    return dict(sorted(out.items()))


def summary(rows: list[dict]) -> dict:
    pos = by_position(rows)
    keys = list(pos)
    acc = {p: float(np.mean(v)) for p, v in pos.items()}
    return {"acc_by_position": acc, "mean": float(np.mean(list(acc.values()))),
            "middle": float(np.mean([acc[p] for p in keys[1:-1]])),
            "ends": float(np.mean([acc[keys[0]], acc[keys[-1]]])),
            "gap": max(acc.values()) - min(acc.values()), "n_per_position": len(pos[keys[0]])}
