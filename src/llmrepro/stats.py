"""Intervals and fits used by every claim: over seeds, by (paired) bootstrap, least squares
and correlations.

Every function here returns a value for any input, degenerate ones included. Where a
statistic does not exist (one run, a constant x, no finite values), its value is None
and `why` says why; a claim on it is then inconclusive with that reason (see
`pipeline/claims.py`), never a crash and never a silent NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np


def _finite(values: Sequence[float]) -> tuple[np.ndarray, int]:
    x = np.asarray(values, dtype=float).ravel()
    ok = np.isfinite(x)
    return x[ok], int((~ok).sum())


def mean_ci(values: Sequence[float | None], level: float = 0.95) -> dict:
    """Mean with a Student-t interval over independent runs (seeds). Non-finite or None
    runs are left out and counted in `dropped`. One run gives no interval."""
    from scipy import stats

    x, dropped = _finite([np.nan if v is None else v for v in values])
    n = len(x)
    out = {"value": float(x.mean()) if n else None, "n": n, "values": [float(v) for v in x]}
    if dropped:
        out["dropped"] = dropped
    if n == 0:
        out["why"] = "no finite value in any run"
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
    n = len(data)
    if n == 0:
        return {"value": None, "ci": None, "n": 0, "why": "no data"}
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a degenerate resample gives NaN, dropped below
        boots = np.array([stat(data[rng.integers(0, n, n)]) for _ in range(n_boot)], dtype=float)
        value = float(stat(data))
    boots = boots[np.isfinite(boots)]
    if not np.isfinite(value) or len(boots) < n_boot // 2:
        return {"value": None if not np.isfinite(value) else value, "ci": None, "n": int(n),
                "why": "the statistic is undefined on this data or on most resamples"}
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {"value": value, "ci": [float(lo), float(hi)], "n": int(n)}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95) -> dict:
    """Mean of a - b over paired items, with a bootstrap interval."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return bootstrap_ci(d, np.mean, n_boot=n_boot, seed=seed, level=level)


def ols(x: Sequence[float], y: Sequence[float]) -> dict:
    """Least-squares line y = a + b x with R^2, over the finite (x, y) pairs."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(len(x))
    out = {"slope": None, "intercept": None, "r2": None, "n": n}
    if n < 2:
        return {**out, "why": f"{n} finite point(s): a line needs 2"}
    if np.ptp(x) == 0:
        return {**out, "why": "x is constant: no slope"}
    xm, ym = x.mean(), y.mean()
    b = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
    a = float(ym - b * xm)
    ss_res = float(((y - a - b * x) ** 2).sum())
    ss_tot = float(((y - ym) ** 2).sum())
    return {**out, "slope": b, "intercept": a, "r2": 1 - ss_res / ss_tot if ss_tot > 0 else None}


def corr(x: Sequence[float], y: Sequence[float], method: str = "pearson") -> dict:
    """Pearson or Spearman correlation over the finite pairs; None with a reason where it
    is undefined (fewer than 3 pairs, or a constant variable)."""
    from scipy import stats

    fn = {"pearson": stats.pearsonr, "spearman": stats.spearmanr}[method]
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return {"value": None, "n": int(len(x)), "why": f"{len(x)} finite pair(s): a correlation needs 3"}
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"value": None, "n": int(len(x)), "why": "a constant variable has no correlation"}
    return {"value": float(fn(x, y)[0]), "n": int(len(x))}
