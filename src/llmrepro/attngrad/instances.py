"""Instances of the attention-optimisation problem, seeded.

uniform (the default): A1, A2 with entries uniform in [-B, B], and half the keys
planted copies of queries, so some exponents <a1_i, a2_j>/d = ||a1_i||^2/d come
close to B^2, as in the hardness reduction. Every row is distinct, so exp(S) has
no structural rank bound.
hard: A1, A2 in {+-B}^{n x d}, half the keys planted copies of queries, so some
exponents equal B^2 exactly. Only 2^d distinct rows exist: with d = log2(n)/2
that is sqrt(n), and exp(S) has rank <= sqrt(n) for any B (an exact gradient that
groups identical rows is fast). Kept to show that structure, not for the claims.
gaussian: N(0, (B/2)^2) entries clipped to [-B, B].
All: A3 and E uniform in [-1, 1], X = Y = I, float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FAMILIES = ("uniform", "hard", "gaussian")


@dataclass
class Instance:
    X: torch.Tensor
    A1: torch.Tensor
    A2: torch.Tensor
    A3: torch.Tensor
    Y: torch.Tensor
    E: torch.Tensor

    def args(self):
        return self.X, self.A1, self.A2, self.A3, self.Y, self.E


def make(family: str, n: int, d: int, B: float, seed: int, device: str = "cpu", dtype=torch.float64) -> Instance:
    g = torch.Generator().manual_seed(seed)
    if family in ("uniform", "hard"):
        if family == "uniform":
            A1 = (torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1) * B
            A2 = (torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1) * B
        else:
            A1 = (torch.randint(0, 2, (n, d), generator=g) * 2 - 1).to(dtype) * B
            A2 = (torch.randint(0, 2, (n, d), generator=g) * 2 - 1).to(dtype) * B
        keys = torch.randperm(n, generator=g)[: n // 2]
        A2[keys] = A1[torch.randperm(n, generator=g)[: n // 2]]
    elif family == "gaussian":
        A1 = (torch.randn(n, d, generator=g, dtype=dtype) * B / 2).clamp(-B, B)
        A2 = (torch.randn(n, d, generator=g, dtype=dtype) * B / 2).clamp(-B, B)
    else:
        raise ValueError(f"instance family {family!r} is not one of: {', '.join(FAMILIES)}")
    A3 = torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1
    E = torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1
    eye = torch.eye(d, dtype=dtype)
    return Instance(*(t.to(device) for t in (eye.clone(), A1, A2, A3, eye.clone(), E)))
