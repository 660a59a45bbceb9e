"""Parameter impact (the Fisher diagonal) and the heterogeneity score.

Impact of w_i = E[(dl/dw_i)^2] over calibration sequences, batch 1, with the
sequence's loss summed over tokens (the official estimate_impact.py multiplies
the mean loss by the sequence length), as a running mean.

Heterogeneity score (Eq. 4): mean of the top 1 % of a matrix's scores divided by
the max of the bottom 99 %. The magnitude baseline applies it to |w|.
"""

from __future__ import annotations

import numpy as np
import torch

from llmrepro.cherryq.quant import target_linears


def fisher(model, sequences: torch.Tensor, progress=None) -> dict[str, torch.Tensor]:
    lins = target_linears(model)
    acc = {n: torch.zeros_like(m.weight) for n, m in lins.items()}
    model.eval()
    seqs = range(len(sequences))
    for i in progress(seqs, total=len(sequences), desc="fisher") if progress else seqs:
        ids = sequences[i: i + 1]
        model.zero_grad(set_to_none=True)
        out = model(input_ids=ids, labels=ids)
        (out.loss * (ids.shape[1] - 1)).backward()
        with torch.no_grad():
            for n, m in lins.items():
                acc[n] += m.weight.grad.float() ** 2
    model.zero_grad(set_to_none=True)
    return {n: a / len(sequences) for n, a in acc.items()}


def heterogeneity(scores: torch.Tensor, top: float = 0.01) -> float:
    flat = scores.flatten().double()
    k = max(1, int(round(top * flat.numel())))
    vals, _ = flat.sort(descending=True)
    return float(vals[:k].mean() / vals[k:].max())


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
