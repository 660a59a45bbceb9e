"""The paper's statistics, exactly as its notebooks compute them, and the per-concept
statistics it does not report.

Binned rho (notebooks/zero_shot_integrated_search_results.ipynb): x = ln(max(count, 1)),
12 equally spaced *edges* over [min x, max x] (np.linspace(..., num=12)), each concept
assigned with np.digitize(x, edges, right=True) (so bin 0 holds exactly the concepts
at the minimum, i.e. the zero and one counts), mean accuracy per bin, and Pearson's
r between the edges and the bin means with the end bins dropped. It is a
correlation over about 10 points, not over concepts. Empty bins have no mean: the
notebook's pearsonr would fail on them, here they are left out and counted.

Every statistic returns a value for any input: where it does not exist (a constant x,
fewer than three points) its value is None with a `why` (llmrepro.stats).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from llmrepro.stats import corr, ols


def log10_count(counts) -> np.ndarray:
    """The paper's x: zero counts become 1."""
    return np.log10(np.maximum(np.asarray(counts, float), 1))


def binned(counts, acc, n_edges: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.log(np.maximum(np.asarray(counts, float), 1))
    acc = np.asarray(acc, float)
    if len(x) == 0:
        return np.full(n_edges, np.nan), np.full(n_edges, np.nan), np.zeros(n_edges, int)
    edges = np.linspace(x.min(), x.max(), n_edges)
    assigned = np.digitize(x, edges, right=True)
    means = np.array([acc[assigned == i].mean() if (assigned == i).any() else np.nan for i in range(n_edges)])
    return edges, means, np.bincount(assigned, minlength=n_edges)


def binned_rho(counts, acc, drop_low: int = 1, drop_high: int = 1, min_size: int = 1) -> dict:
    """Pearson r between the kept bins' edges and means. Bins holding fewer than
    `min_size` concepts (empty ones included) are left out and counted, never dropped silently."""
    edges, means, sizes = binned(counts, acc)
    sl = slice(drop_low, len(edges) - drop_high)
    e, m, n = edges[sl], means[sl], sizes[sl]
    ok = n >= max(1, min_size)
    r = corr(e[ok], m[ok])
    return {**r, "bins_used": int(ok.sum()), "empty_bins": int((n == 0).sum()),
            "small_bins": int(((n > 0) & ~ok).sum()), "min_size": min_size}


def slope(counts, acc) -> dict:
    """OLS slope of accuracy (points) per decade of frequency."""
    f = ols(log10_count(counts), acc)
    return {"value": f["slope"], **({"why": f["why"]} if f["slope"] is None else {})}


def per_concept(counts, acc) -> dict:
    lx, acc = log10_count(counts), np.asarray(acc, float)
    r, rho = corr(lx, acc), corr(counts, acc, "spearman")
    return {"pearson_r": r["value"], "spearman": rho["value"], "n": int(len(acc)),
            "zero_counts": int((np.asarray(counts) == 0).sum()),
            **({"why": r["why"]} if r["value"] is None else {})}


def rare_gap(counts, acc, fraction: float = 0.1) -> dict:
    """Mean accuracy of the rarest `fraction` of concepts against all concepts (Let It Wag! analogue)."""
    counts, acc = np.asarray(counts, float), np.asarray(acc, float)
    if len(acc) == 0:
        return {"rare_mean": None, "all_mean": None, "gap": None, "k": 0, "why": "no concepts"}
    k = max(1, int(round(fraction * len(acc))))
    rare = np.argsort(counts, kind="stable")[:k]
    return {"rare_mean": float(acc[rare].mean()), "all_mean": float(acc.mean()),
            "gap": float(acc.mean() - acc[rare].mean()), "k": k}


# Statistics on resampled rows: each takes arrays of shape (B, n) and returns B values,
# NaN where a resample has none (a constant x).

def slope_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    sxx = (xc * xc).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, (xc * yc).sum(1) / np.where(sxx > 0, sxx, 1), np.nan)


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    den = np.sqrt((xc * xc).sum(1) * (yc * yc).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(1) / np.where(den > 0, den, 1), np.nan)


def rare_gap_rows(counts: np.ndarray, acc: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    k = max(1, int(round(fraction * counts.shape[1])))
    rare = np.take_along_axis(acc, np.argsort(counts, axis=1, kind="stable")[:, :k], 1)
    return acc.mean(1) - rare.mean(1)


def _chunked(stat, run, idx: np.ndarray, rows: int = 256) -> np.ndarray:
    """stat over the resamples idx (n_boot x n), a block of rows at a time to bound memory."""
    return np.concatenate([stat(*(c[idx[i:i + rows]] for c in run)) for i in range(0, len(idx), rows)])


def pooled_ci(groups: Sequence[Sequence[Sequence]], stat: Callable[..., np.ndarray], n_boot: int = 2000,
              seed: int = 0, level: float = 0.95, weights: Sequence[float] | None = None) -> dict:
    """A per-concept statistic averaged over the runs (worlds) of each group, summed over
    groups with `weights` (default: one group, weight 1; (1, -1): the difference of two
    groups' means), with a two-level percentile bootstrap: concepts are resampled within
    every run, and runs within every group, so the interval carries both which concepts a
    world drew and how worlds differ. A run is the statistic's columns (equal-length
    sequences over that run's concepts)."""
    cols = [[[np.asarray(c, float) for c in run] for run in g] for g in groups]
    w = np.ones(len(cols)) if weights is None else np.asarray(weights, float)
    n_runs = sum(len(g) for g in cols)
    if not all(cols) or any(len(run[0]) == 0 for g in cols for run in g):
        return {"value": None, "ci": None, "runs": n_runs, "why": "no concepts in some run"}
    point = [np.array([stat(*(c[None, :] for c in run))[0] for run in g]) for g in cols]
    flat = [float(p) for g in point for p in g]
    if not np.isfinite(flat).all():
        return {"value": None, "ci": None, "runs": n_runs, "per_run": [p if np.isfinite(p) else None for p in flat],
                "why": "the statistic is undefined in some run (a constant variable)"}
    rng = np.random.default_rng(seed)
    boots = np.zeros(n_boot)
    for wg, g in zip(w, cols):
        per = np.array([_chunked(stat, run, rng.integers(0, len(run[0]), (n_boot, len(run[0])))) for run in g])
        pick = rng.integers(0, len(g), (n_boot, len(g)))  # the runs each resample draws
        boots += wg * np.take_along_axis(per.T, pick, 1).mean(1)
    boots = boots[np.isfinite(boots)]  # a resample with a constant variable has no value
    out = {"value": float(sum(wg * p.mean() for wg, p in zip(w, point))), "runs": n_runs, "per_run": flat,
           "n_boot": int(len(boots)), "level": level}
    if len(boots) < n_boot // 2:
        return {**out, "ci": None, "why": "the statistic is undefined on most resamples"}
    return {**out, "ci": [float(v) for v in np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])]}


def worlds_ci(groups: Sequence[Sequence[Sequence]], stat: Callable[..., np.ndarray], level: float = 0.95,
              weights: Sequence[float] | None = None) -> dict:
    """A per-concept statistic computed in every run (world), averaged over the runs of each
    group and summed over groups with `weights` (default: one group; (1, -1): the difference
    of two groups' means), with a Student-t interval over worlds (Welch-Satterthwaite for
    several groups). Each world draws its own concepts, so the spread of the per-world values
    already holds the concept noise within worlds as well as how worlds differ; with a
    handful of worlds, t quantiles on worlds - 1 degrees of freedom are what carry the
    uncertainty of that spread (a percentile bootstrap over three worlds cannot reach past
    the most extreme world and shrinks their variance by (n - 1) / n). A run is the
    statistic's columns (equal-length sequences over that run's concepts)."""
    from scipy import stats

    cols = [[[np.asarray(c, float) for c in run] for run in g] for g in groups]
    w = np.ones(len(cols)) if weights is None else np.asarray(weights, float)
    n_runs = sum(len(g) for g in cols)
    if not all(cols) or any(len(run[0]) == 0 for g in cols for run in g):
        return {"value": None, "ci": None, "runs": n_runs, "why": "no concepts in some run"}
    with np.errstate(all="ignore"):
        point = [np.array([stat(*(c[None, :] for c in run))[0] for run in g], float) for g in cols]
    flat = [float(p) for g in point for p in g]
    if not np.isfinite(flat).all():
        return {"value": None, "ci": None, "runs": n_runs, "per_run": [p if np.isfinite(p) else None for p in flat],
                "why": "the statistic is undefined in some run (a constant variable)"}
    with np.errstate(all="ignore"):
        value = float(sum(wg * p.mean() for wg, p in zip(w, point)))
    out = {"value": value if np.isfinite(value) else None, "runs": n_runs, "per_run": flat, "level": level}
    if out["value"] is None:
        return {**out, "ci": None, "why": "the mean over worlds overflows"}
    if min(len(p) for p in point) < 2:
        return {**out, "ci": None, "why": "fewer than two worlds in a group: no spread between worlds"}
    with np.errstate(all="ignore"):
        terms = np.array([wg ** 2 * p.var(ddof=1) / len(p) for wg, p in zip(w, point)])
        se = float(np.sqrt(terms.sum()))
    if not np.isfinite(se):
        return {**out, "ci": None, "why": "the spread between worlds overflows"}
    if se == 0.0:
        return {**out, "se": 0.0, "df": None, "ci": [out["value"], out["value"]]}
    with np.errstate(all="ignore"):
        df = float(terms.sum() ** 2 / sum(t ** 2 / (len(p) - 1) for t, p in zip(terms, point)))
    if not np.isfinite(df):
        return {**out, "ci": None, "why": "the spread between worlds overflows"}
    half = float(stats.t.ppf(0.5 + level / 2, df) * se)
    return {**out, "se": se, "df": df, "ci": [out["value"] - half, out["value"] + half]}


def worlds_slope_ci(runs: Sequence[tuple[Sequence, Sequence]], level: float = 0.95) -> dict:
    """Mean over worlds of the per-decade slope of accuracy on log10(count), t-interval over worlds."""
    return worlds_ci([[(log10_count(c), a) for c, a in runs]], slope_rows, level)


def pooled_slope_ci(runs: Sequence[tuple[Sequence, Sequence]], n_boot: int = 2000, seed: int = 0,
                    level: float = 0.95) -> dict:
    """Mean over runs of the per-decade slope of accuracy on log10(count), bootstrapped over concepts."""
    return pooled_ci([[(log10_count(c), a) for c, a in runs]], slope_rows, n_boot, seed, level)


def slope_ci(counts, acc, n_boot: int = 2000, seed: int = 0) -> dict:
    return pooled_slope_ci([(counts, acc)], n_boot, seed)
