"""Per-context tables and their bootstrap: the statistics behind mspoe's claims and figures.

Every context is asked about the item at every gold position, so one task's rows form
a (contexts, positions) table. Intervals resample contexts (with replacement, within
each task when tasks are pooled): the questions of one context share its text, so the
context, not the question, is the independent unit. Comparisons between two
configurations are paired: both tables hold the same contexts in the same order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np


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


def dip(t: np.ndarray) -> float:
    """acc(ends) - acc(middle): first and last position against the ones between."""
    return float(t[:, [0, -1]].mean() - t[:, 1:-1].mean())


def recency(t: np.ndarray) -> float:
    """acc(last) - acc(middle): a dip that the end of the context shares is not primacy alone."""
    return float(t[:, -1].mean() - t[:, 1:-1].mean())


def boot(tables: Sequence[np.ndarray], stat: Callable[[list[np.ndarray]], float], n_boot: int,
         seed: int = 0, level: float = 0.95) -> dict:
    """stat(tables) with a percentile interval that resamples the rows (contexts) of each
    table independently; None with a reason where the statistic or its interval does not exist."""
    tables = [np.asarray(t, dtype=float) for t in tables]
    n = [len(t) for t in tables]
    if not tables or min(n) == 0:
        return {"value": None, "ci": None, "n": n, "why": "no contexts"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty slice in a resample gives NaN, dropped below
        value = float(stat(tables))
        if not np.isfinite(value):
            return {"value": None, "ci": None, "n": n, "why": "the statistic is undefined on this data"}
        if min(n) < 2:
            return {"value": value, "ci": None, "n": n, "why": "fewer than 2 contexts: no interval"}
        rng = np.random.default_rng(seed)
        boots = np.array([stat([t[rng.integers(0, len(t), len(t))] for t in tables]) for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    if len(boots) < n_boot // 2:
        return {"value": value, "ci": None, "n": n, "why": "the statistic is undefined on most resamples"}
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {"value": value, "ci": [float(lo), float(hi)], "n": n}


def position_ci(t: np.ndarray, n_boot: int, seed: int = 0) -> list[dict]:
    """Mean and interval at each position (column), over contexts."""
    return [boot([t[:, [j]]], lambda ts: ts[0].mean(), n_boot, seed) for j in range(t.shape[1])]
