"""SAMI's objective: a symmetric InfoNCE bound on the conditional mutual information
I(Y; C | X), over the constitution x response matrix of log-probabilities.

`L[q, i, j]` is the length-normalized (mean per-token) log pi(y_j | x_q, c_i): rows are
constitutions, columns the responses sampled under them, so the diagonal pairs each
response with the constitution it was written for. Normalizing each row over the
responses and each column over the constitutions gives two cross-entropies against the
identity; SAMI minimizes their mean, and log C minus that loss is the bound (paper Eq. 2).
"""

from __future__ import annotations

import math

import torch

KINDS = ("sami", "rows", "cols")


def _ce_rows(L: torch.Tensor) -> torch.Tensor:
    """Per query: mean over rows i of -log softmax_j(L[i, :])[i] (which response fits c_i)."""
    logp = L - torch.logsumexp(L, dim=-1, keepdim=True)
    return -torch.diagonal(logp, dim1=-2, dim2=-1).mean(-1)


def _ce_cols(L: torch.Tensor) -> torch.Tensor:
    """Per query: mean over columns j of -log softmax_i(L[:, j])[j] (which constitution wrote y_j)."""
    return _ce_rows(L.transpose(-1, -2))


def per_query_loss(L: torch.Tensor, kind: str = "sami") -> torch.Tensor:
    """The loss of each query, shape L.shape[:-2]. `rows` and `cols` are the one-sided ablations."""
    if L.shape[-1] != L.shape[-2]:
        raise ValueError(f"the log-prob matrix must be square (constitutions x responses), got {tuple(L.shape)}")
    if kind == "sami":
        return 0.5 * (_ce_rows(L) + _ce_cols(L))
    if kind == "rows":
        return _ce_rows(L)
    if kind == "cols":
        return _ce_cols(L)
    raise ValueError(f"loss kind {kind!r} is not one of {', '.join(KINDS)}")


def loss(L: torch.Tensor, kind: str = "sami") -> torch.Tensor:
    """Mean over queries (the official trainer averages one 2 x 2 example per micro-batch)."""
    return per_query_loss(L, kind).mean()


def mi_bound(L: torch.Tensor) -> torch.Tensor:
    """Per query: log C minus the symmetric loss, in nats (at most log C)."""
    return math.log(L.shape[-1]) - per_query_loss(L, "sami")

