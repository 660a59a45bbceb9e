"""From per-run results to the claims' statistics: intervals over seeds and over test items.

A comparison between two methods is paired twice: both were trained from the same seeds (same
training pairs, same initial head) and scored on the same test items. Its interval is a two-level
bootstrap that resamples seeds and items together, so it carries both sources of variance: which
seeds were drawn, and which test pairs the world happened to contain.
"""

from __future__ import annotations

import warnings

import numpy as np

from llmrepro.grm.bon import kl_bon
from llmrepro.grm.world import OOD_SETS
from llmrepro.stats import mean_ci

CODE = {"0": 0.0, "1": 1.0, "h": 0.5}  # per-item outcome: wrong, right, tie


def encode(correct: np.ndarray) -> str:
    """Per-item outcomes (0, 0.5, 1) as a compact string."""
    return "".join({0.0: "0", 1.0: "1", 0.5: "h"}[float(v)] for v in correct)


def decode(s: str) -> np.ndarray:
    return np.array([CODE[c] for c in s])


def two_level(d: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Mean of d (seeds x items) with a bootstrap interval that resamples seeds and items.

    Fewer than two seeds or items: no interval, with the reason."""
    d = np.asarray(d, dtype=float)
    if d.ndim != 2 or d.size == 0:
        return {"value": None, "ci": None, "why": "no data"}
    S, n = d.shape
    value = float(d.mean())
    if not np.isfinite(value):
        return {"value": None, "ci": None, "n_seeds": S, "n_items": n, "why": "non-finite outcomes"}
    if S < 2 or n < 2:
        return {"value": value, "ci": None, "n_seeds": S, "n_items": n,
                "why": f"{S} seed(s) x {n} item(s): an interval needs two of each"}
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = d[rng.integers(0, S, S)][:, rng.integers(0, n, n)].mean()
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {"value": value, "ci": [float(lo), float(hi)], "n_seeds": S, "n_items": n,
            "seed_sd": float(d.mean(1).std(ddof=1))}


def outcomes(runs: list[dict], method: str, size: int, sets: tuple[str, ...], seeds: list[int]) -> np.ndarray:
    """Per-item outcomes (seeds x items, the sets side by side) of one method at one size."""
    by_seed = {r["seed"]: r for r in runs if r["method"] == method and r["size"] == size}
    missing = [s for s in seeds if s not in by_seed]
    if missing:
        raise ValueError(f"no run of {method} at size {size} for seeds {missing}")
    return np.stack([np.concatenate([decode(by_seed[s]["items"][k]) for k in sets]) for s in seeds])


def per_seed(runs: list[dict], method: str, size: int, key) -> list[float]:
    rs = sorted((r for r in runs if r["method"] == method and r["size"] == size), key=lambda r: r["seed"])
    return [key(r) for r in rs]


def ood_mean(r: dict, sets: tuple[str, ...] = OOD_SETS) -> float:
    return float(np.mean([r["acc"][k] for k in sets]))


def ensemble_outcomes(bt_rewards: dict[str, dict], seeds: list[int], k: int, sets: tuple[str, ...]) -> np.ndarray:
    """Ensembles of k BT models (consecutive seeds, cyclic), reward averaged: outcomes per ensemble."""
    out = []
    for i in range(len(seeds)):
        members = [str(seeds[(i + j) % len(seeds)]) for j in range(k)]
        row = []
        for name in sets:
            rc = np.mean([bt_rewards[m][name][0] for m in members], 0)
            rr = np.mean([bt_rewards[m][name][1] for m in members], 0)
            row.append((rc > rr) + 0.5 * (rc == rr))
        out.append(np.concatenate(row))
    return np.array(out, dtype=float)


def peak_drop(curves: np.ndarray) -> dict:
    """Over-optimization of one proxy: the mean gold curve's best n (before the last) and, per seed,
    gold(best n) - gold(last n). No interior peak: a drop of 0 (nothing to fall from)."""
    curves = np.asarray(curves, dtype=float)
    mean = curves.mean(0)
    k = int(np.argmax(mean))
    drops = curves[:, k] - curves[:, -1]
    out = mean_ci(drops.tolist())
    out["peak_index"] = k
    out["interior_peak"] = bool(k < curves.shape[1] - 1)
    return out


def kl_axis(ns: list[int]) -> list[float]:
    return [kl_bon(n) for n in ns]


def quiet_mean(x) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = float(np.mean(x)) if len(x) else float("nan")
    return v if np.isfinite(v) else None
