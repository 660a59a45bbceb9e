"""CherryQ's quantizer and cherry bookkeeping.

FullSym (the official code's quantizer for <= 4 bits): symmetric, half-integer
levels, no zero point, no clipping. Per group, s = (max|w| + 1e-6) / 2^(b-1) and

    q(w) = s * (round(clamp(w / s, +-(2^(b-1) - 0.01)) - 0.5) + 0.5)

Groups run along each output row *after the cherries are taken out* (the row is
compacted), as in the official code. Cherries keep their full-precision value.

Cherry count per row: k = max(1, round(fraction * in_features)). The official
code rounds down to a multiple of 8 (`ceil(in/256) // 8 * 8`), which gives zero
cherries for any layer narrower than 2048 inputs; that rule would make the method
vanish on every model this project can run on a CPU.
"""

from __future__ import annotations

import math

import torch

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def fullsym(w: torch.Tensor, bits: int, group: int) -> torch.Tensor:
    """Quantize the last dimension of w in groups of `group` (padded with zeros, which
    never change a group's max)."""
    n = w.shape[-1]
    pad = (-n) % group
    x = torch.nn.functional.pad(w, (0, pad)).reshape(*w.shape[:-1], -1, group)
    half = 2 ** (bits - 1)
    q = fullsym_levels(x, (x.abs().amax(dim=-1, keepdim=True) + 1e-6) / half, half)
    return q.reshape(*w.shape[:-1], -1)[..., :n]


def fullsym_levels(w: torch.Tensor, s: torch.Tensor, half: int) -> torch.Tensor:
    """w rounded to the half-integer levels of scale s (the formula above)."""
    return s * (torch.round(torch.clamp(w / s, -(half - 0.01), half - 0.01) - 0.5) + 0.5)


def cherry_count(in_features: int, fraction: float) -> int:
    return 0 if fraction <= 0 else max(1, round(fraction * in_features))


def select(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the k highest scores in each row."""
    mask = torch.zeros_like(scores, dtype=torch.bool)
    if k:
        mask.scatter_(1, scores.topk(k, dim=1).indices, True)
    return mask


def scores_for(criterion: str, weight: torch.Tensor, impact: torch.Tensor | None, seed: int) -> torch.Tensor:
    if criterion == "impact":
        return impact
    if criterion == "magnitude":
        return weight.abs()
    if criterion == "obd":  # F_ii * w_i^2: the loss change of zeroing w_i (Optimal Brain Damage)
        return impact * weight**2
    if criterion == "random":
        g = torch.Generator().manual_seed(seed)
        return torch.rand(weight.shape, generator=g)
    raise ValueError(f"cherry criterion {criterion!r} is not one of: impact, magnitude, obd, random")


class Compactor:
    """Gathers each row's non-cherry entries so groups form after the cherries are
    removed, and scatters the quantized values back; fixed once per matrix."""

    def __init__(self, mask: torch.Tensor):
        out, n = mask.shape
        k = int(mask[0].sum())
        if not bool((mask.sum(1) == k).all()):
            raise ValueError("every row must hold the same number of cherries")
        order = torch.argsort(mask.to(torch.int8), dim=1, stable=True)  # non-cherries first, in column order
        self.keep = order[:, : n - k]
        self.mask = mask

    def quantize(self, w: torch.Tensor, bits: int, group: int) -> torch.Tensor:
        q = fullsym(w.gather(1, self.keep), bits, group)
        return torch.where(self.mask, w, torch.zeros_like(w).scatter(1, self.keep, q))


def quantize_matrix(w: torch.Tensor, bits: int, group: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    if mask is None or not bool(mask.any()):
        return fullsym(w, bits, group)
    return Compactor(mask).quantize(w, bits, group)


def bits_per_weight(in_features: int, bits: int, group: int, k: int) -> float:
    """Storage per weight: the quantized values, one fp16 scale per group, and each
    cherry's fp16 value plus an int16 column index (32 bits)."""
    n = in_features - k
    return (bits * n + 16 * math.ceil(n / group) + 32 * k) / in_features


def target_linears(model, targets=TARGETS) -> dict[str, torch.nn.Linear]:
    return {name: m for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in targets}
