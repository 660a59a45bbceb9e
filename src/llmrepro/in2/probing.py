"""VaL-lite probing: greedy answers on held-out contexts, accuracy per position bucket,
and the paper's summary metrics Avg (mean over buckets) and Gap (max - min)."""

from __future__ import annotations

import numpy as np

from llmrepro.in2 import data as D


def predict(model, ps: D.ProbeSet, batch: int = 256) -> np.ndarray:
    """Greedy decoding of as many tokens as the gold answer has; the LM head runs only
    at the last position, and the second token reuses the first pass's KV cache."""
    import torch

    k = ps.answers.shape[1]
    out = []
    model.eval()
    with torch.no_grad():
        for s in range(0, len(ps.ids), batch):
            x = torch.from_numpy(ps.ids[s:s + batch])
            o = model(input_ids=x, use_cache=k > 1, logits_to_keep=1)
            toks = [o.logits[:, -1].argmax(-1)]
            for _ in range(k - 1):
                o = model(input_ids=toks[-1][:, None], cache=o.cache, use_cache=True, logits_to_keep=1)
                toks.append(o.logits[:, -1].argmax(-1))
            out.append(torch.stack(toks, 1).numpy())
    return np.concatenate(out)


def bucket_curve(scores: np.ndarray, position: np.ndarray, n: int, n_buckets: int) -> np.ndarray:
    """Mean score per position bucket (VaL's per-bucket accuracy). Every position is
    kept; VaL's plot.py drops the last position of each bucket, a slip not copied."""
    b = D.buckets(position, n, n_buckets)
    return np.array([scores[b == k].mean() if (b == k).any() else np.nan for k in range(n_buckets)])


def avg_gap(curve: np.ndarray) -> dict:
    """Avg = mean over buckets, Gap = max - min over buckets (lower = more robust)."""
    c = np.asarray(curve, float)
    c = c[np.isfinite(c)]
    if len(c) == 0:
        return {"avg": None, "gap": None, "why": "no bucket has examples"}
    with np.errstate(over="ignore", invalid="ignore"):
        avg, gap = float(c.mean()), float(c.max() - c.min())
    if not (np.isfinite(avg) and np.isfinite(gap)):
        return {"avg": None, "gap": None, "why": "bucket values overflow"}
    return {"avg": avg, "gap": gap}


def thirds(curve: np.ndarray) -> dict:
    """Accuracy in the first, middle and last third of the buckets, and the two end buckets."""
    c = np.asarray(curve, float)
    k = len(c)
    lo, hi = k // 3, k - k // 3
    return {"first_third": float(np.nanmean(c[:lo])) if lo else None,
            "middle_third": float(np.nanmean(c[lo:hi])) if hi > lo else None,
            "last_third": float(np.nanmean(c[hi:])) if hi < k else None,
            "ends": float(np.nanmean([c[0], c[-1]])) if k else None}


Seed = int | tuple[int, ...]


def _key(seed: Seed) -> list[int]:
    """An int or a tuple of ints (e.g. probe seed, fine-tuning seed, role) as an RNG key."""
    return [seed] if isinstance(seed, int) else list(seed)


def integration(model, vocab: D.Vocab, n: int, count: int, seed: Seed, batch: int = 256) -> float:
    """Accuracy on held-out integration questions (both answer tokens right)."""
    ps = D.integration_set(np.random.default_rng([*_key(seed), len(D.STYLES)]), vocab, n, count)
    return float(D.score("integration", predict(model, ps, batch), ps.answers).mean())


def probe(model, vocab: D.Vocab, n: int, per_position: int, n_buckets: int, seed: Seed, batch: int = 256) -> dict:
    """Every style on held-out contexts of n records; the same seed gives every arm the
    same contexts, so arm differences are paired."""
    out = {}
    for i, style in enumerate(D.STYLES):
        ps = D.probe_set(np.random.default_rng([*_key(seed), i]), vocab, style, n, per_position)
        sc = D.score(style, predict(model, ps, batch), ps.answers)
        per_pos = np.array([sc[ps.position == p].mean() for p in range(n)])
        curve = bucket_curve(sc, ps.position, n, n_buckets)
        out[style] = {"per_position": per_pos.tolist(), "buckets": curve.tolist(), **avg_gap(curve),
                      **thirds(curve), "mean": float(sc.mean()), "examples": int(len(sc))}
    return out
