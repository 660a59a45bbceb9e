"""Perplexity of a causal LM on held-out text, and the unigram baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def windows(ids: Sequence[int], seq_len: int, max_windows: int | None) -> np.ndarray:
    """Non-overlapping windows, evenly spread over the text when there are more than
    max_windows: a fixed, deterministic sample of the whole split."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids) // seq_len
    if n == 0:
        raise ValueError(f"text of {len(ids)} tokens is shorter than one window of {seq_len}")
    starts = np.arange(n) * seq_len
    if max_windows and n > max_windows:
        starts = starts[np.linspace(0, n - 1, max_windows).round().astype(int)]
    return np.stack([ids[s:s + seq_len] for s in starts])


def nll_per_token(model, batch_ids) -> np.ndarray:
    """Per-sequence mean negative log-likelihood (nats) of tokens 2..T given the prefix."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        logits = model(input_ids=batch_ids).logits[:, :-1].float()
        tgt = batch_ids[:, 1:]
        nll = F.cross_entropy(logits.transpose(1, 2), tgt, reduction="none")
    return nll.mean(dim=1).cpu().numpy()


def window_nlls(model, ids: Sequence[int], seq_len: int, max_windows: int | None = None, batch: int = 4,
                progress=None) -> np.ndarray:
    """Mean NLL of each window, scored `batch` windows per forward pass."""
    import torch

    w = windows(ids, seq_len, max_windows)
    model.eval()
    chunks = range(0, len(w), batch)
    return np.concatenate([nll_per_token(model, torch.from_numpy(w[i:i + batch]))
                           for i in (progress(chunks, total=len(chunks), desc="ppl") if progress else chunks)])


def perplexity(model, ids: Sequence[int], seq_len: int, max_windows: int | None = None, batch: int = 4,
               progress=None) -> dict:
    nll = window_nlls(model, ids, seq_len, max_windows, batch, progress)
    return {"ppl": float(math.exp(nll.mean())), "nll": float(nll.mean()), "windows": int(len(nll)),
            "tokens": int(len(nll) * (seq_len - 1)),
            "ppl_ci": _window_ci(nll)}


def _window_ci(nll: np.ndarray, n_boot: int = 1000) -> list[float] | None:
    # Bootstrap over windows: how much the perplexity depends on which text was sampled.
    if len(nll) < 2:
        return None
    rng = np.random.default_rng(0)
    boots = [math.exp(nll[rng.integers(0, len(nll), len(nll))].mean()) for _ in range(n_boot)]
    return [float(x) for x in np.percentile(boots, [2.5, 97.5])]


def unigram_perplexity(train_ids: Sequence[int], test_ids: Sequence[int], vocab_size: int) -> float:
    """Add-one smoothed unigram model fit on train tokens: the floor any LM must beat."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(float) + 1.0
    logp = np.log(counts / counts.sum())
    return float(math.exp(-logp[np.asarray(test_ids)].mean()))
