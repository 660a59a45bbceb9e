"""GPTQ (Frantar et al. 2023), written for this project: quantize one column at a
time and push each column's rounding error onto the columns not yet quantized,
weighted by the inverse Hessian H = 2 X X^T of the layer's calibration inputs.

Simplification, stated: the Hessians are collected in one pass of the
full-precision model, not layer by layer on the partly quantized model.
"""

from __future__ import annotations

import torch

from llmrepro.cherryq.quant import fullsym_levels, target_linears


class HessianSum:
    """2 X^T X summed over calibration tokens, per target linear. Projections that read the
    same input tensor in a forward pass (q/k/v, gate/up) share one sum, computed once."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.alias: dict[str, str] = {}
        self.seen: list[tuple[torch.Tensor, str]] = []  # this pass's inputs, held so no address is reused
        self.tokens = 0

    def new_pass(self, tokens: int) -> None:
        self.seen.clear()
        self.tokens += tokens

    def add(self, name: str, x: torch.Tensor) -> None:
        owner = next((n for t, n in self.seen if t is x), None)
        if owner is not None:
            self.alias[name] = owner
            return
        self.seen.append((x, name))
        flat = x.detach().reshape(-1, x.shape[-1]).float()
        h = (2 * flat.T @ flat).double()
        self.sums[name] = self.sums[name] + h if name in self.sums else h

    def result(self, names) -> dict[str, torch.Tensor]:
        """H = 2 X^T X / tokens per name; aliased names share their owner's tensor."""
        self.seen.clear()
        mean = {n: h / self.tokens for n, h in self.sums.items()}
        return {n: mean[self.alias.get(n, n)] for n in names}


def hessians(model, sequences: torch.Tensor, batch: int = 8, progress=None) -> dict[str, torch.Tensor]:
    """H = 2 X^T X / tokens per target linear, from forward passes of `batch` sequences."""
    lins = target_linears(model)
    acc = HessianSum()
    handles = [m.register_forward_hook(lambda _m, inp, _out, n=n: acc.add(n, inp[0])) for n, m in lins.items()]
    try:
        with torch.no_grad():
            starts = range(0, len(sequences), batch)
            for i in progress(starts, total=len(starts), desc="hessians") if progress else starts:
                acc.new_pass(sequences[i: i + batch].numel())
                model(input_ids=sequences[i: i + batch])
    finally:
        for h in handles:
            h.remove()
    return acc.result(lins)


def gptq(W: torch.Tensor, H: torch.Tensor, bits: int, group: int, damp: float = 0.01, block: int = 128) -> torch.Tensor:
    """Quantized copy of W (out x in) with FullSym groups of `group` input columns."""
    W = W.detach().float().clone()  # float32, as the reference implementation
    H = H.float().clone()
    out, n = W.shape
    half = 2 ** (bits - 1)
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H += damp * torch.diag(H).mean() * torch.eye(n, dtype=H.dtype)
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    block = max(group, block // group * group)  # groups never straddle blocks
    Q = torch.zeros_like(W)
    s = None
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        W1, E1, U1 = W[:, b0:b1].clone(), torch.zeros(out, b1 - b0, dtype=W.dtype), U[b0:b1, b0:b1]
        for i in range(b1 - b0):
            if (b0 + i) % group == 0:  # the group's scale, from its current (error-updated) values
                s = (W1[:, i: i + group].abs().amax(dim=1, keepdim=True) + 1e-6) / half
            w = W1[:, i: i + 1]
            q = fullsym_levels(w, s, half)
            Q[:, b0 + i: b0 + i + 1] = q
            err = (w - q) / U1[i, i]
            W1[:, i:] -= err @ U1[i: i + 1, i:]
            E1[:, i: i + 1] = err
        W[:, b1:] -= E1 @ U[b0:b1, b1:]
    return Q


def quantize_model(model, H: dict[str, torch.Tensor], bits: int, group: int, progress=None) -> None:
    """GPTQ of every target linear. Rows are quantized independently given H, so projections
    that share one Hessian tensor (q/k/v, gate/up) are stacked and run as one matrix."""
    lins = target_linears(model)
    shared: dict[int, list[str]] = {}
    for name in lins:
        shared.setdefault(id(H[name]), []).append(name)
    items = list(shared.values())
    for names in progress(items, total=len(items), desc="gptq") if progress else items:
        W = torch.cat([lins[n].weight for n in names])
        Q = gptq(W, H[names[0]], bits, group)
        with torch.no_grad():
            for n, q in zip(names, Q.split([lins[n].out_features for n in names])):
                lins[n].weight.copy_(q.to(lins[n].weight.dtype))
