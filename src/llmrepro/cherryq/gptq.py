"""GPTQ (Frantar et al. 2023), written for this project: quantize one column at a
time and push each column's rounding error onto the columns not yet quantized,
weighted by the inverse Hessian H = 2 X X^T of the layer's calibration inputs.

Simplification, stated: the Hessians are collected in one pass of the
full-precision model, not layer by layer on the partly quantized model.
"""

from __future__ import annotations

import torch

from llmrepro.cherryq.quant import fullsym_levels, target_linears


def hessians(model, sequences: torch.Tensor, progress=None) -> dict[str, torch.Tensor]:
    """H = 2 X^T X / tokens per target linear. Projections that read the same input
    (q/k/v, gate/up) share one Hessian: it is computed once."""
    lins = target_linears(model)
    H: dict[str, torch.Tensor] = {}
    alias: dict[str, str] = {}
    seen: list[tuple[torch.Tensor, str]] = []  # inputs of this forward pass, held so no address is reused
    count = {"tokens": 0}

    def hook(name):
        def fn(_m, inp, _out):
            owner = next((n for t, n in seen if t is inp[0]), None)
            if owner is not None:
                alias[name] = owner
                return
            seen.append((inp[0], name))
            x = inp[0].detach().reshape(-1, inp[0].shape[-1]).float()
            h = (2 * x.T @ x).double()
            H[name] = H[name] + h if name in H else h
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in lins.items()]
    try:
        with torch.no_grad():
            seqs = range(len(sequences))
            for i in progress(seqs, total=len(sequences), desc="hessians") if progress else seqs:
                seen.clear()
                model(input_ids=sequences[i: i + 1])
                count["tokens"] += sequences.shape[1]
    finally:
        for h in handles:
            h.remove()
    out = {n: h / count["tokens"] for n, h in H.items()}
    return {n: out[alias.get(n, n)] for n in lins}


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
    lins = target_linears(model)
    items = list(lins.items())
    for name, m in progress(items, total=len(items), desc="gptq") if progress else items:
        with torch.no_grad():
            m.weight.copy_(gptq(m.weight, H[name], bits, group).to(m.weight.dtype))
