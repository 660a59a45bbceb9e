"""Sampling responses and scoring them: the two things SAMI asks of a causal LM.

Both work on token-id lists, so the synthetic world (word-level tokens) and the full
scale (a hub tokenizer) share them. A response is the list of sampled tokens, ending in
the end-of-sequence token when the model stopped before the length cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def sample(model, prompts: Sequence[Sequence[int]], *, max_new: int, temperature: float, seed: int, eos: int,
           pad: int, batch: int = 1024) -> list[list[int]]:
    """One response per prompt: ancestral sampling at `temperature` (0 = greedy) with the
    KV cache, in batches; prompts of unequal length are left-padded. The seed fixes the
    draw for a given batch layout."""
    out: list[list[int]] = []
    model.eval()
    for b0 in range(0, len(prompts), batch):
        chunk = prompts[b0:b0 + batch]
        width = max(len(p) for p in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, p in enumerate(chunk):
            ids[r, width - len(p):] = torch.as_tensor(list(p))
            mask[r, width - len(p):] = 1
        torch.manual_seed(seed + b0)  # generate draws from the global generator: seed it right here
        kw = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0) if temperature > 0 else \
            dict(do_sample=False)
        ids, mask = ids.to(model.device), mask.to(model.device)
        with torch.no_grad():
            seq = model.generate(input_ids=ids, attention_mask=mask if width > min(len(p) for p in chunk) else None,
                                 max_new_tokens=max_new, eos_token_id=eos, pad_token_id=pad, use_cache=True, **kw)
        for row in seq[:, width:].tolist():
            out.append(row[:row.index(eos) + 1] if eos in row else row)
    return out


def strip_eos(resp: Sequence[int], eos: int) -> tuple[list[int], bool]:
    """The response's content tokens, and whether it ended (rather than hit the cap)."""
    resp = list(resp)
    return (resp[:-1], True) if resp and resp[-1] == eos else (resp, False)


def pack(prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]], pad: int):
    """Rows prompt + response, right-padded; the mask marks, per shifted target position,
    the response tokens (the prompt and the padding are not scored)."""
    rows = [list(p) + list(r) for p, r in zip(prompts, responses)]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width - 1), dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompts, responses)):
        ids[i, :len(p) + len(r)] = torch.as_tensor(rows[i])
        mask[i, len(p) - 1:len(p) - 1 + len(r)] = True
    return ids, mask


def sum_logprobs(model, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: the summed log-probability of the masked targets, and their number.
    Padding sits after the scored tokens, so causal attention never sees it and no
    attention mask is needed."""
    ids, mask = ids.to(model.device), mask.to(model.device)
    logits = model(input_ids=ids).logits[:, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None])[..., 0]
    m = mask.to(logp.dtype)
    return (logp * m).sum(-1), m.sum(-1)


def mean_logprobs(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean per-token log-probability of each row's targets: length-normalized, as SAMI
    scores a response."""
    total, n = sum_logprobs(model, ids, mask)
    return total / n.clamp(min=1)


def matrix(model, prompts: Sequence[Sequence[Sequence[int]]], responses: Sequence[Sequence[Sequence[int]]],
           pad: int) -> torch.Tensor:
    """L[q, i, j] = mean log pi(response j of query q | prompt i of query q): every
    constitution's prompt against every response, in one forward pass."""
    n, c = len(prompts), len(prompts[0])
    flat_p = [prompts[q][i] for q in range(n) for i in range(c) for _ in range(c)]
    flat_r = [responses[q][j] for q in range(n) for _ in range(c) for j in range(c)]
    ids, mask = pack(flat_p, flat_r, pad)
    return mean_logprobs(model, ids, mask).view(n, c, c).cpu()
