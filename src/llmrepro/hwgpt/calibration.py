"""Accuracy and calibration of a surrogate's predictive distribution on held-out architectures.

A surrogate predicts, for each architecture, central intervals of one *measurement* at nominal
levels c (the 10 %, 20 %, ..., 90 % intervals): Gaussian ones from a mean and a std, a quantile model
from its calibrated quantiles. The calibration curve is the observed fraction of held-out
measurements inside each interval against c; the miscalibration area is the mean |observed - c|
over the levels (uncertainty-toolbox's area, on central intervals so that quantile models with a
few levels are scored on the same grid as Gaussian ones). Every function returns None with a
reason on degenerate input, like `llmrepro.stats`.
"""

from __future__ import annotations

import numpy as np


def levels(n: int) -> np.ndarray:
    """n nominal central-interval levels from 10 % to 90 % (5 -> 0.1, 0.3, ..., 0.9): the 90 % interval,
    which the coverage metric reads, is always one of them."""
    return np.round(np.linspace(0.1, 0.9, n), 6)


def gaussian_intervals(mu, sd, lv) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends (rows x levels) of central intervals of N(mu, sd^2)."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + np.asarray(lv) / 2)
    mu, sd = np.asarray(mu, float)[:, None], np.asarray(sd, float)[:, None]
    return mu - sd * z, mu + sd * z


def inside(y, lo, hi) -> np.ndarray:
    """Indicator (rows x levels) that each measurement lies in each interval."""
    y = np.asarray(y, float)[:, None]
    return ((y >= lo) & (y <= hi)).astype(float)


def curve(ind: np.ndarray, groups: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
    """Observed coverage per level. With `groups` (the architecture of each row), every architecture
    weighs the same, whatever its number of repeats; `weights` reweights architectures (bootstrap)."""
    if groups is None:
        return ind.mean(axis=0)
    g = np.unique(groups, return_inverse=True)[1]
    per = np.zeros((g.max() + 1, ind.shape[1]))
    np.add.at(per, g, ind)
    per /= np.bincount(g)[:, None]
    w = np.ones(len(per)) if weights is None else np.asarray(weights, float)
    return (w[:, None] * per).sum(axis=0) / w.sum()


def miscalibration_area(observed, lv) -> float:
    return float(np.mean(np.abs(np.asarray(observed) - np.asarray(lv))))


def calibration(ind: np.ndarray | None, lv, groups=None, coverage_level: float = 0.9) -> dict:
    if ind is None:
        return {"area": None, "coverage": None, "curve": None, "why": "a point predictor has no intervals"}
    if len(ind) == 0:
        return {"area": None, "coverage": None, "curve": None, "why": "no held-out measurements"}
    lv = np.asarray(lv)
    obs = curve(ind, groups)
    j = int(np.argmin(np.abs(lv - coverage_level)))
    return {"area": miscalibration_area(obs, lv), "coverage": float(obs[j]), "curve": obs.tolist()}


def area_difference_ci(ind_a, ind_b, lv, groups, n_boot: int, seed: int) -> dict:
    """Miscalibration area of b minus that of a, with a bootstrap interval over held-out
    architectures (both surrogates scored on the same resampled architectures)."""
    if ind_a is None or ind_b is None or len(ind_a) == 0:
        return {"value": None, "ci": None, "why": "a surrogate without intervals, or no held-out data"}
    n = len(np.unique(groups))
    if n < 3:
        return {"value": None, "ci": None, "why": f"{n} held-out architecture(s): an interval needs 3"}
    rng = np.random.default_rng(seed)
    value = miscalibration_area(curve(ind_b, groups), lv) - miscalibration_area(curve(ind_a, groups), lv)
    boots = []
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n)
        boots.append(miscalibration_area(curve(ind_b, groups, w), lv) - miscalibration_area(curve(ind_a, groups, w), lv))
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"value": float(value), "ci": [float(lo), float(hi)], "n": n}


def r2(y, pred) -> dict:
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    if len(y) < 2:
        return {"value": None, "why": f"{len(y)} point(s)"}
    with np.errstate(over="ignore", invalid="ignore"):
        ss_tot = float(((y - y.mean()) ** 2).sum())
        ss_res = float(((y - pred) ** 2).sum())
    if not (np.isfinite(ss_tot) and np.isfinite(ss_res)):
        return {"value": None, "why": "overflow"}
    if ss_tot == 0:
        return {"value": None, "why": "the target is constant"}
    return {"value": 1 - ss_res / ss_tot}


def kendall(x, y) -> dict:
    from scipy.stats import kendalltau

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return {"value": None, "n": int(len(x)), "why": f"{len(x)} finite pair(s): tau needs 3"}
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"value": None, "n": int(len(x)), "why": "a constant variable has no rank correlation"}
    return {"value": float(kendalltau(x, y)[0]), "n": int(len(x))}


def kendall_ci(x, y, n_boot: int = 2000, seed: int = 0) -> dict:
    """Kendall tau with a percentile bootstrap interval over the pairs."""
    from llmrepro.stats import bootstrap_ci

    base = kendall(x, y)
    if base["value"] is None:
        return {**base, "ci": None}
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    with np.errstate(all="ignore"):
        out = bootstrap_ci(xy, lambda d: kendall(d[:, 0], d[:, 1])["value"] if np.ptp(d[:, 0]) and np.ptp(d[:, 1])
                           else np.nan, n_boot=n_boot, seed=seed)
    return {**out, "value": base["value"], "n": base["n"]}


def coverage_ci(per_split, n_boot: int, seed: int, level: float = 0.95) -> dict:
    """Observed coverage pooled over held-out splits, each with its own test architectures and its
    own surrogate seed: the mean over splits of the mean per-architecture coverage, with a two-stage
    bootstrap interval (splits with replacement, then each drawn split's test architectures with
    replacement). One split's value moves with its test draw and with the surrogate's seed; an
    interval over test architectures alone would miss the second."""
    splits = [np.asarray(c, float) for c in per_split if c is not None and len(c)]
    if not splits:
        return {"value": None, "ci": None, "why": "no held-out coverage (a point predictor, or no test data)"}
    means = [float(c.mean()) for c in splits]
    out = {"value": float(np.mean(means)), "splits": means, "n_splits": len(splits),
           "n_test": [len(c) for c in splits]}
    if len(splits) < 2:
        return {**out, "ci": None, "why": "one held-out split: no interval over surrogate seeds"}
    rng = np.random.default_rng(seed)
    S = len(splits)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = np.mean([(c := splits[s])[rng.integers(0, len(c), len(c))].mean() for s in rng.integers(0, S, S)])
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {**out, "ci": [float(lo), float(hi)]}
