"""The paper's statistics, exactly as its notebooks compute them, and the per-concept
statistics it does not report.

Binned rho (notebooks/zero_shot_integrated_search_results.ipynb): x = ln(max(count, 1)),
12 equally spaced *edges* over [min x, max x] (np.linspace(..., num=12)), each concept
assigned with np.digitize(x, edges, right=True) (so bin 0 holds exactly the concepts
at the minimum, i.e. the zero and one counts), mean accuracy per bin, and Pearson's
r between the edges and the bin means with the end bins dropped. It is a
correlation over about 10 points, not over concepts.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def binned(counts, acc, n_edges: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.log(np.maximum(np.asarray(counts, float), 1))
    acc = np.asarray(acc, float)
    edges = np.linspace(x.min(), x.max(), n_edges)
    assigned = np.digitize(x, edges, right=True)
    means = np.array([acc[assigned == i].mean() if (assigned == i).any() else np.nan for i in range(n_edges)])
    return edges, means, np.bincount(assigned, minlength=n_edges)


def binned_rho(counts, acc, drop_low: int = 1, drop_high: int = 1) -> float:
    edges, means, _ = binned(counts, acc)
    sl = slice(drop_low, len(edges) - drop_high)
    e, m = edges[sl], means[sl]
    ok = ~np.isnan(m)
    return float(stats.pearsonr(e[ok], m[ok])[0])


def slope_ci(counts, acc, n_boot: int = 2000, seed: int = 0) -> dict:
    """OLS slope of accuracy (points) per decade of frequency, bootstrap over concepts."""
    return pooled_slope_ci([(counts, acc)], n_boot, seed)


def per_concept(counts, acc) -> dict:
    lx = np.log10(np.maximum(np.asarray(counts, float), 1))
    acc = np.asarray(acc, float)
    return {"pearson_r": float(stats.pearsonr(lx, acc)[0]), "spearman": float(stats.spearmanr(counts, acc)[0]),
            "n": int(len(acc)), "zero_counts": int((np.asarray(counts) == 0).sum())}


def rare_gap(counts, acc, fraction: float = 0.1) -> dict:
    """Mean accuracy of the rarest `fraction` of concepts against all concepts (Let It Wag! analogue)."""
    counts, acc = np.asarray(counts, float), np.asarray(acc, float)
    k = max(1, int(round(fraction * len(acc))))
    rare = np.argsort(counts, kind="stable")[:k]
    return {"rare_mean": float(acc[rare].mean()), "all_mean": float(acc.mean()),
            "gap": float(acc.mean() - acc[rare].mean()), "k": k}


def pooled_slope_ci(runs: list[tuple[list, list]], n_boot: int = 2000, seed: int = 0) -> dict:
    """Mean over runs (seeds) of the per-decade slope, with a bootstrap that resamples
    concepts within each run: the interval reflects concept sampling in every seed."""
    rng = np.random.default_rng(seed)
    xs = [np.log10(np.maximum(np.asarray(c, float), 1)) for c, _ in runs]
    ys = [np.asarray(a, float) for _, a in runs]
    point = float(np.mean([np.polyfit(x, y, 1)[0] for x, y in zip(xs, ys)]))
    boots = []
    for _ in range(n_boot):
        idx = [rng.integers(0, len(x), len(x)) for x in xs]
        if all(np.ptp(x[i]) > 0 for x, i in zip(xs, idx)):  # a resample with one x value has no slope
            boots.append(np.mean([np.polyfit(x[i], y[i], 1)[0] for x, y, i in zip(xs, ys, idx)]))
    return {"value": point, "ci": [float(v) for v in np.percentile(boots, [2.5, 97.5])], "runs": len(runs)}
