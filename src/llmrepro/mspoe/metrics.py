"""Per-context tables and their intervals: the statistics behind mspoe's claims and figures.

Every context is asked about the item at every gold position, so one task's rows form
a (contexts, positions) table. The questions of one context share its text, so the
context, not the question, is the independent unit, and every statistic here is a
(weighted) mean of one value per context: a dip, or a paired difference between two
configurations on the same questions.

Intervals invert an exact sign-flip test: a shift d is inside the interval unless the
test of "the per-context values minus d are symmetric about zero" rejects it at the 5 %
level. The test enumerates every sign pattern (seeded random patterns beyond
`EXACT_MAX` contexts). Unlike a percentile bootstrap it does not collapse to a point
when a handful of contexts happen to agree: with n contexts the smallest attainable
two-sided p is 2 / 2^n, so below 6 contexts no 95 % interval excludes any value in
the metric's range, and a claim on it stays inconclusive.
"""

from __future__ import annotations

import itertools

import numpy as np

EXACT_MAX = 14  # 2^14 sign patterns; beyond, random ones


def table(rows: list[dict], key: str = "correct") -> tuple[list[int], np.ndarray]:
    """Gold positions and the (contexts, positions) array of `key`, contexts in order of appearance."""
    positions = sorted({r["position"] for r in rows})
    contexts = list(dict.fromkeys(r["context"] for r in rows))
    out = np.full((len(contexts), len(positions)), np.nan)
    ci, pi = {c: i for i, c in enumerate(contexts)}, {p: i for i, p in enumerate(positions)}
    for r in rows:
        out[ci[r["context"]], pi[r["position"]]] = float(r[key])
    if np.isnan(out).any():
        raise ValueError(f"every context must be asked at every position {positions}: some cells are missing")
    return positions, out


def dip(t: np.ndarray) -> np.ndarray:
    """Per context: acc(ends) - acc(middle), the first and last position against the ones between."""
    return t[:, [0, -1]].mean(axis=1) - t[:, 1:-1].mean(axis=1)


def recency(t: np.ndarray) -> np.ndarray:
    """Per context: acc(last) - acc(middle); a dip the end nearest the question shares is not primacy alone."""
    return t[:, -1] - t[:, 1:-1].mean(axis=1)


def _signs(n: int, n_flips: int, seed: int) -> np.ndarray:
    if n <= EXACT_MAX:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    return np.random.default_rng(seed).choice((1.0, -1.0), size=(n_flips, n))


def signflip_ci(x, weights=None, bounds: tuple[float, float] | None = (-1.0, 1.0), level: float = 0.95,
                n_flips: int = 4000, seed: int = 0, grid: int = 801) -> dict:
    """sum(weights * x) (the plain mean by default) with the sign-flip interval described above,
    searched on a grid over `bounds` (the metric's range; None: a range from the data, and no
    interval where the test rejects nothing in it). None with a reason where none exists."""
    x = np.asarray(x, dtype=float).ravel()
    n = len(x)
    w = np.full(n, 1.0 / max(n, 1)) if weights is None else np.asarray(weights, dtype=float).ravel()
    if n == 0:
        return {"value": None, "ci": None, "n": 0, "why": "no contexts"}
    if not np.isfinite(x).all():
        return {"value": None, "ci": None, "n": n, "why": "a context's value is not finite"}
    w = w / w.sum()
    value = float(np.average(x, weights=w))
    lo, hi = bounds if bounds is not None else (x.min() - 2 * max(np.ptp(x), 1.0), x.max() + 2 * max(np.ptp(x), 1.0))
    deltas = np.unique(np.append(np.linspace(lo, hi, grid), value))
    dev = x[None, :] - deltas[:, None]  # (deltas, contexts)
    obs = np.abs(dev @ w)
    flipped = np.abs((dev * w) @ _signs(n, n_flips, seed).T)  # (deltas, patterns)
    p = (flipped >= obs[:, None] - 1e-12).mean(axis=1)
    kept = deltas[p > 1 - level]
    out = {"value": value, "ci": [float(kept.min()), float(kept.max())], "n": n}
    if bounds is None and (kept.min() <= lo or kept.max() >= hi):
        return {**out, "ci": None, "why": f"{n} contexts: the exact 95 % interval is unbounded"}
    return out
