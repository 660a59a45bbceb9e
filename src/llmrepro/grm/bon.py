"""Best-of-n from one pool of samples: exact expectations, and the analytic KL."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln


def kl_bon(n: int) -> float:
    """KL(best-of-n || base) = log n - (n - 1) / n (Stiennon et al.; the paper's x-axis)."""
    return math.log(n) - (n - 1) / n


def bon_expectation(proxy, value, n: int) -> float:
    """E[value of the proxy-best of n samples drawn without replacement from the pool].

    With the pool sorted by proxy (ascending, rank i = 1..M), the best of a random n-subset is
    item i with probability C(i-1, n-1) / C(M, n). Equal proxies share their probability equally
    (a random tie-break). n = 1 gives the pool mean, n = M the proxy-best item."""
    proxy, value = np.asarray(proxy, float), np.asarray(value, float)
    M = len(proxy)
    if not 1 <= n <= M:
        raise ValueError(f"best-of-{n} needs 1 <= n <= pool size {M}")
    order = np.argsort(proxy, kind="stable")
    p, v = proxy[order], value[order]
    i = np.arange(1, M + 1)
    # C(i-1, n-1) / C(M, n) in logs; zero weight where i < n
    k = np.maximum(i - n + 1, 1)
    logw = gammaln(i) - gammaln(n) - gammaln(k) - (gammaln(M + 1) - gammaln(n + 1) - gammaln(M - n + 1))
    w = np.where(i >= n, np.exp(logw), 0.0)
    # ties: spread the weight of a run of equal proxies evenly over it
    _, start, counts = np.unique(p, return_index=True, return_counts=True)
    for s, c in zip(start, counts):
        if c > 1:
            w[s:s + c] = w[s:s + c].mean()
    return float((w * v).sum() / w.sum())


def bon_curve(proxy, value, ns) -> list[float]:
    return [bon_expectation(proxy, value, n) for n in ns]


def powers_of_two(limit: int) -> list[int]:
    return [2 ** k for k in range(int(math.log2(limit)) + 1)]
