"""Unified mixed-precision QAT (CherryQ) with a straight-through estimator.

Each target linear computes with w_eff = w + sg(q(w) - w): the forward pass sees the
quantized weights with cherries at full precision, and the backward pass gives
every weight (cherries exactly, the rest through the STE) a gradient; all
weights are trained. Cherries are chosen once, before training, as in the paper.

`code_change` measures how far QAT left the PTQ regime: the fraction of the
quantized (non-cherry) codes that differ between the start and the end of training.
"""

from __future__ import annotations

import torch
from torch import nn

from llmrepro.cherryq.quant import Compactor, fullsym, target_linears


class QuantLinear(nn.Module):
    def __init__(self, base: nn.Linear, bits: int, group: int, mask: torch.Tensor | None, prescale: bool = False):
        super().__init__()
        self.base, self.bits, self.group = base, bits, group
        self.compactor = Compactor(mask, prescale) if mask is not None and bool(mask.any()) else None

    def codes(self) -> torch.Tensor:
        w = self.base.weight.detach()
        return (self.compactor.codes(w, self.bits, self.group) if self.compactor
                else fullsym(w, self.bits, self.group, codes=True))

    def quantized(self) -> torch.Tensor:
        w = self.base.weight
        q = self.compactor.quantize(w, self.bits, self.group) if self.compactor else fullsym(w, self.bits, self.group)
        return w + (q - w).detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.quantized(), self.base.bias)


def wrap(model, bits: int, group: int, masks: dict[str, torch.Tensor | None],
         prescale: bool = False) -> dict[str, QuantLinear]:
    wrapped = {}
    for name, lin in target_linears(model).items():
        parent = model.get_submodule(name.rsplit(".", 1)[0])
        q = QuantLinear(lin, bits, group, masks.get(name), prescale)
        setattr(parent, name.rsplit(".", 1)[1], q)
        wrapped[name] = q
    return wrapped


def unwrap(model, wrapped: dict[str, QuantLinear], bake: bool = True) -> None:
    """Put plain linears back; with bake=True their weights are the final quantized ones."""
    for name, q in wrapped.items():
        parent = model.get_submodule(name.rsplit(".", 1)[0])
        if bake:
            with torch.no_grad():
                q.base.weight.copy_(q.quantized())
        setattr(parent, name.rsplit(".", 1)[1], q.base)


def codes(wrapped: dict[str, QuantLinear]) -> dict[str, torch.Tensor]:
    return {n: q.codes() for n, q in wrapped.items()}


def code_change(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> float:
    """Fraction of all quantized codes that differ between two snapshots."""
    changed = sum(int((before[n] != after[n]).sum()) for n in before)
    total = sum(before[n].numel() for n in before)
    return changed / total if total else 0.0
