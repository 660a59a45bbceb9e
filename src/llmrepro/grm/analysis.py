"""From per-run results to the claims' statistics: intervals over worlds.

Every seed trains and is scored in one world of its own (a few-shot prefix, a training pool, test
items, BoN prompts), several seeds per world. A comparison between two methods is paired twice: both
were trained from the same seeds (same world, training pairs and initial head) and scored on the same
test items. Its interval is a Student-t interval over the world means (each world's mean over its
seeds and test items). A world mean carries every source of variance below it (seeds, test items)
and the worlds are independent draws, so the interval also covers what one world's draw does to a
result, which an interval over the seeds of a single world misses (issue 19: the grm C3 comparisons
moved by 0.09 between two worlds, with intervals over 20 seeds of half-width 0.04).

With four worlds the spread of their means has 3 degrees of freedom, so the interval's width is itself
noisy: between two seed blocks it changed 4-5x for the same comparison (C1, C3), and that moved three
verdicts (reports/robustness.md). Each world mean's variance is therefore floored at its own sampling
variance over seeds and test items (`within_var`, `cluster_mean_ci`): the modified Hartung-Knapp
interval used for meta-analyses of few studies. It is conservative by design: in simulations of this
design (4 worlds, 3 seeds, 20 shared items, quantized outcomes) the plain t-interval covered 95 % and
this one 98-100 % (tests/grm/test_grm_analysis.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

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


def cluster_mean_ci(means: Sequence[float], within: Sequence[float], level: float = 0.95) -> dict:
    """`mean_ci` over k cluster means (worlds), its variance per cluster mean floored at the mean
    within-cluster variance: max(s², within)/k with t(k-1), a random-effects interval with equal weights,
    the between-cluster variance truncated at 0 (DerSimonian-Laird) and the modified Hartung-Knapp
    t(k-1) (Röver, Knapp and Friede 2015). With few clusters s² has few degrees of freedom and can fall
    far below what each mean's own sampling noise implies (quantized outcomes can even give equal
    means); the floor keeps that noise in, at the price of over-coverage when clusters do not differ."""
    out = mean_ci(means, level)
    if out["ci"] is None:
        return out
    w2 = float(np.mean(within))
    out.update(within_sd=float(np.sqrt(w2)), floor=bool(w2 > out["sd"] ** 2))
    if out["floor"]:
        from scipy import stats

        half = float(stats.t.ppf(0.5 + level / 2, out["n"] - 1) * np.sqrt(w2 / out["n"]))
        out["ci"] = [out["value"] - half, out["value"] + half]
    return out


def within_var(block: np.ndarray) -> float:
    """Sampling variance of one world's mean. Per-seed values: their variance over the seed count. Rows of
    item outcomes (seeds x the world's test items, crossed: every seed scores the same items): the
    two-way ANOVA estimate (MS_seeds + MS_items - MS_residual) / (seeds x items), which counts seed,
    item and residual variance once each, truncated at 0."""
    if block.size and np.ptp(block) == 0:  # constant: exactly 0, not the rounding noise of the sums below
        return 0.0
    if block.ndim == 1 or block.shape[1] == 1:
        v = block.ravel()
        return float(v.var(ddof=1)) / len(v) if len(v) > 1 else 0.0
    s, i = block.shape
    if s == 1:
        return float(block[0].var(ddof=1)) / i
    rows, cols = block.mean(1), block.mean(0)
    resid = block - rows[:, None] - cols[None, :] + block.mean()
    ms_rows, ms_cols = i * float(rows.var(ddof=1)), s * float(cols.var(ddof=1))
    ms_res = float((resid ** 2).sum()) / ((s - 1) * (i - 1))
    return max(ms_rows + ms_cols - ms_res, 0.0) / (s * i)


def over_worlds(values, worlds, level: float = 0.95) -> dict:
    """Mean of per-seed values (or of per-seed rows of item outcomes) with a t-interval over world means
    whose variance is floored at the worlds' own sampling variance (`cluster_mean_ci`). Fewer than two
    worlds, or no finite value: no interval, with the reason."""
    x = np.asarray(values, dtype=float)
    if x.ndim == 2 and not x.shape[1]:
        x = np.zeros(0)
    worlds = np.asarray(list(worlds))
    if x.ndim not in (1, 2) or len(x) == 0 or len(worlds) != len(x):
        return {"value": None, "ci": None, "why": "no data" if len(x) == 0 else "values and worlds disagree"}
    ok = np.isfinite(quiet_rows(x) if x.ndim == 2 else x)
    groups = sorted({w for w, g in zip(worlds.tolist(), ok) if g})
    blocks = [x[ok & (worlds == w)] for w in groups]
    out = cluster_mean_ci([float(np.mean(b)) for b in blocks], [within_var(b) for b in blocks], level)
    out.update(n_worlds=len(groups), n_seeds=int(ok.sum()), world_means=out.pop("values"))
    if len(groups) == 0:
        out["why"] = "no finite value in any run"
    elif len(groups) == 1:
        out["why"] = "one world: an interval over worlds needs two"
    return out


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


def worlds_of(runs: list[dict], method: str, size: int) -> list[int]:
    """The world of each run, in per_seed's order."""
    return per_seed(runs, method, size, lambda r: r["world"])


def method_ci(runs: list[dict], method: str, size: int, key) -> dict:
    """One method's per-seed quantity, with its interval over worlds."""
    return over_worlds(per_seed(runs, method, size, key), worlds_of(runs, method, size))


def ood_mean(r: dict, sets: tuple[str, ...] = OOD_SETS) -> float:
    return float(np.mean([r["acc"][k] for k in sets]))


def ensemble_outcomes(bt_rewards: dict[str, dict], seeds: list[int], k: int, sets: tuple[str, ...],
                      worlds: list[int]) -> np.ndarray:
    """Ensembles of k BT models (consecutive seeds of one world, cyclic), reward averaged: outcomes per
    ensemble, one per seed (the first member), in the order of `seeds`."""
    out = []
    for s, w in zip(seeds, worlds):
        mates = [t for t, v in zip(seeds, worlds) if v == w]
        i = mates.index(s)
        members = [str(mates[(i + j) % len(mates)]) for j in range(k)]
        row = []
        for name in sets:
            rc = np.mean([bt_rewards[m][name][0] for m in members], 0)
            rr = np.mean([bt_rewards[m][name][1] for m in members], 0)
            row.append((rc > rr) + 0.5 * (rc == rr))
        out.append(np.concatenate(row))
    return np.array(out, dtype=float)


def peak_drop(curves: np.ndarray, worlds: list[int]) -> dict:
    """Over-optimization of one proxy: the mean gold curve's best n (before the last) and, per seed,
    gold(best n) - gold(last n), with its interval over worlds. No interior peak: a drop of 0 (nothing to
    fall from)."""
    curves = np.asarray(curves, dtype=float)
    mean = curves.mean(0)
    k = int(np.argmax(mean))
    out = over_worlds(curves[:, k] - curves[:, -1], worlds)
    out["peak_index"] = k
    out["interior_peak"] = bool(k < curves.shape[1] - 1)
    return out


def kl_axis(ns: list[int]) -> list[float]:
    return [kl_bon(n) for n in ns]


def quiet_rows(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return x.mean(1)


def quiet_mean(x) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = float(np.mean(x)) if len(x) else float("nan")
    return v if np.isfinite(v) else None
