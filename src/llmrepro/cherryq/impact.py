"""Parameter impact (the Fisher diagonal) and the heterogeneity score.

Impact of w_i = E[(dl/dw_i)^2] over calibration sequences, where l is one
sequence's loss summed over its tokens (the official estimate_impact.py runs
batch 1 and multiplies the mean loss by the sequence length), as a mean over
sequences.

Sequences are scored `batch` at a time: hooks keep each target linear's input X
and output gradient G, and sequence b's weight gradient is G_b^T X_b, exactly
what a batch-1 backward would give (sequences do not interact in the forward
pass). Parameters are frozen during the pass, so autograd computes no weight
gradients of its own, the tied 49k-row head included.

Heterogeneity score (Eq. 4): mean of the top 1 % of a matrix's scores divided by
the max of the bottom 99 %. The magnitude baseline applies it to |w|.
"""

from __future__ import annotations

import numpy as np
import torch

from llmrepro.cherryq.gptq import HessianSum
from llmrepro.cherryq.quant import target_linears


def fisher(model, sequences: torch.Tensor, batch: int = 8, progress=None,
           hessians: HessianSum | None = None) -> dict[str, torch.Tensor]:
    """Impact per target linear. Given a HessianSum, the same forward passes also add to
    GPTQ's Hessians."""
    lins = target_linears(model)
    acc = {n: torch.zeros(m.weight.shape, dtype=torch.float32) for n, m in lins.items()}
    inputs: dict[str, torch.Tensor] = {}

    def on_grad(name):
        def fn(g):
            x = inputs.pop(name)
            acc[name] += torch.einsum("bto,bti->boi", g.float(), x).pow(2).sum(0)
        return fn

    def hook(name):
        def fn(_m, inp, out):
            x = inp[0].detach().float()
            inputs[name] = x
            out.register_hook(on_grad(name))
            if hessians is not None:
                hessians.add(name, inp[0])
        return fn

    flags = {p: p.requires_grad for p in model.parameters()}
    handles = [m.register_forward_hook(hook(n)) for n, m in lins.items()]
    model.eval()
    try:
        for p in flags:
            p.requires_grad_(False)
        starts = range(0, len(sequences), batch)
        for i in progress(starts, total=len(starts), desc="fisher") if progress else starts:
            ids = sequences[i: i + batch]
            if hessians is not None:
                hessians.new_pass(ids.numel())
            emb = model.get_input_embeddings()(ids).detach().requires_grad_(True)
            loss = model(inputs_embeds=emb, labels=ids).loss
            (loss * ids.shape[0] * (ids.shape[1] - 1)).backward()  # the sum of every token's loss
    finally:
        for h in handles:
            h.remove()
        for p, f in flags.items():
            p.requires_grad_(f)
    return {n: a / len(sequences) for n, a in acc.items()}


def heterogeneity(scores: torch.Tensor, top: float = 0.01) -> float:
    flat = scores.flatten()
    k = max(1, int(round(top * flat.numel())))
    if k >= flat.numel():
        return float("nan")  # no bottom 99 %
    vals = flat.topk(k + 1).values.double()  # the top k and the largest of the rest: no full sort
    return float(vals[:k].mean() / vals[k])


def hs_table(model, impact: dict[str, torch.Tensor], init_impact: dict[str, torch.Tensor] | None = None) -> dict:
    rows = []
    for n, m in target_linears(model).items():
        row = {"matrix": n, "impact": heterogeneity(impact[n]), "magnitude": heterogeneity(m.weight.detach().abs())}
        if init_impact is not None:
            row["impact_init"] = heterogeneity(init_impact[n])
        rows.append(row)
    imp = np.array([r["impact"] for r in rows])
    mag = np.array([r["magnitude"] for r in rows])
    out = {"rows": rows, "median_impact": float(np.median(imp)), "median_magnitude": float(np.median(mag)),
           "frac_impact_gt_magnitude": float((imp > mag).mean())}
    if init_impact is not None:
        ini = np.array([r["impact_init"] for r in rows])
        out.update(median_impact_init=float(np.median(ini)), frac_impact_gt_init=float((imp > ini).mean()),
                   median_ratio_to_init=float(np.median(imp / ini)))
    return out


def sorted_curve(scores: torch.Tensor, points: int = 200) -> list[float]:
    """The sorted-impact curve, subsampled on a log grid of ranks (for the figure)."""
    vals, _ = scores.flatten().sort(descending=True)
    idx = np.unique(np.geomspace(1, vals.numel(), points).astype(int) - 1)
    return [[int(i), float(vals[i])] for i in idx]
