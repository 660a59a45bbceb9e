"""Intervals used by every claim: over seeds, and by (paired) bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean with a Student-t interval over independent runs (seeds).
    One run gives no interval: `ci` is None and CI-based checks say inconclusive."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = len(x)
    out = {"value": float(x.mean()) if n else None, "n": n, "values": [float(v) for v in x]}
    if n >= 2:
        sd = float(x.std(ddof=1))
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
        out.update(sd=sd, ci=[out["value"] - half, out["value"] + half])
    else:
        out.update(sd=None, ci=None)
    return out


def bootstrap_ci(data: np.ndarray, stat: Callable[[np.ndarray], float], n_boot: int = 2000,
                 seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap over the first axis of `data`."""
    data = np.asarray(data)
    rng = np.random.default_rng(seed)
    n = len(data)
    boots = np.array([stat(data[rng.integers(0, n, n)]) for _ in range(n_boot)])
    lo, hi = np.nanpercentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {"value": float(stat(data)), "ci": [float(lo), float(hi)], "n": int(n)}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95) -> dict:
    """Mean of a - b over paired items, with a bootstrap interval."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return bootstrap_ci(d, np.mean, n_boot=n_boot, seed=seed, level=level)


def ols(x: Sequence[float], y: Sequence[float]) -> dict:
    """Least-squares line y = a + b x with R^2."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    b, a = np.polyfit(x, y, 1)
    pred = a + b * x
    ss_res = float(((y - pred) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {"slope": float(b), "intercept": float(a), "r2": 1 - ss_res / ss_tot if ss_tot > 0 else None,
            "n": int(len(x))}
