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


def fullsym(w: torch.Tensor, bits: int, group: int, codes: bool = False) -> torch.Tensor:
    """Quantize the last dimension of w in groups of `group` (padded with zeros, which
    never change a group's max). codes=True gives the integer codes k instead of the
    values s * (k + 1/2)."""
    n = w.shape[-1]
    pad = (-n) % group
    x = torch.nn.functional.pad(w, (0, pad)).reshape(*w.shape[:-1], -1, group)
    half = 2 ** (bits - 1)
    s = (x.abs().amax(dim=-1, keepdim=True) + 1e-6) / half
    q = fullsym_codes(x, s, half) if codes else fullsym_levels(x, s, half)
    return q.reshape(*w.shape[:-1], -1)[..., :n]


def fullsym_codes(w: torch.Tensor, s: torch.Tensor, half: int) -> torch.Tensor:
    """The integer code k in [-half, half - 1] of each entry: its level is s * (k + 1/2)."""
    return torch.round(torch.clamp(w / s, -(half - 0.01), half - 0.01) - 0.5)


def fullsym_levels(w: torch.Tensor, s: torch.Tensor, half: int) -> torch.Tensor:
    """w rounded to the half-integer levels of scale s (the formula above)."""
    return s * (fullsym_codes(w, s, half) + 0.5)


def cherry_count(in_features: int, fraction: float) -> int:
    return 0 if fraction <= 0 else max(1, round(fraction * in_features))


def select(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the k highest scores in each row."""
    mask = torch.zeros_like(scores, dtype=torch.bool)
    if k:
        mask.scatter_(1, scores.topk(k, dim=1).indices, True)
    return mask


PRESCALE = "_prescale"


def parse_criterion(name: str) -> tuple[str, bool]:
    """'magnitude_prescale' -> ('magnitude', True): the control whose group scales are
    computed before the cherries are removed (groups over the whole row, cherries then
    put back at full precision), so the cherries' removal cannot refine any scale."""
    return (name[: -len(PRESCALE)], True) if name.endswith(PRESCALE) else (name, False)


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
    removed, and scatters the quantized values back; fixed once per matrix. With
    prescale=True the groups (and their scales) are those of the whole row instead."""

    def __init__(self, mask: torch.Tensor, prescale: bool = False):
        out, n = mask.shape
        k = int(mask[0].sum())
        if not bool((mask.sum(1) == k).all()):
            raise ValueError("every row must hold the same number of cherries")
        self.keep = torch.nonzero(~mask)[:, 1].reshape(out, n - k)  # row-major: each row's columns in order
        self.mask, self.prescale = mask, prescale

    def quantize(self, w: torch.Tensor, bits: int, group: int) -> torch.Tensor:
        if self.prescale:
            return torch.where(self.mask, w, fullsym(w, bits, group))
        q = fullsym(w.gather(1, self.keep), bits, group)
        return torch.where(self.mask, w, torch.zeros_like(w).scatter(1, self.keep, q))

    def codes(self, w: torch.Tensor, bits: int, group: int) -> torch.Tensor:
        """The integer codes of the non-cherry entries, row by row in column order."""
        if self.prescale:
            return fullsym(w, bits, group, codes=True).gather(1, self.keep)
        return fullsym(w.gather(1, self.keep), bits, group, codes=True)


def quantize_matrix(w: torch.Tensor, bits: int, group: int, mask: torch.Tensor | None = None,
                    prescale: bool = False) -> torch.Tensor:
    if mask is None or not bool(mask.any()):
        return fullsym(w, bits, group)
    return Compactor(mask, prescale).quantize(w, bits, group)


def codes(w: torch.Tensor, bits: int, group: int, mask: torch.Tensor | None = None,
          prescale: bool = False) -> torch.Tensor:
    """Integer codes of the quantized (non-cherry) entries of w, as `quantize_matrix` forms them."""
    if mask is None or not bool(mask.any()):
        return fullsym(w, bits, group, codes=True)
    return Compactor(mask, prescale).codes(w, bits, group)


def bits_per_weight(in_features: int, bits: int, group: int, k: int, prescale: bool = False) -> float:
    """Storage per weight: the quantized values, one fp16 scale per group, and each
    cherry's fp16 value plus an int16 column index (32 bits)."""
    n = in_features - k
    groups = math.ceil((in_features if prescale else n) / group)
    return (bits * n + 16 * groups + 32 * k) / in_features


def equal_bits_group(in_features: list[int], bits: int, group: int, fraction: float) -> int:
    """The largest group size at which plain quantization (no cherries) stores at least as
    many bits per weight as `group` with cherries, in every matrix: the baseline that a
    method with cherries is compared with at equal bits."""
    need = [bits_per_weight(n, bits, group, cherry_count(n, fraction)) for n in in_features]
    return max(g for g in range(1, group + 1)
               if all(bits_per_weight(n, bits, g, 0) >= b - 1e-12 for n, b in zip(in_features, need)))


def target_linears(model, targets=TARGETS) -> dict[str, torch.nn.Linear]:
    return {name: m for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in targets}
