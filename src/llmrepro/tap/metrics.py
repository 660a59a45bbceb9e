"""Metrics over the runs: success and queries per method and tier with intervals over
vaults x seeds, paired differences, the anytime curve and the diagnostics of the
mechanism (off-topic share, redundancy, weak-judge false positives).

Intervals are cluster bootstraps over vaults: a vault is resampled with all its seeds, so
seeds of one vault are not counted as independent evidence.
"""

from __future__ import annotations

import numpy as np

from llmrepro.stats import bootstrap_ci

TIERS = ("easy", "medium", "hard")


def grid(rows: list[dict], method: str, field: str, tier: str | None = None) -> tuple[np.ndarray, list]:
    """values[vault, seed] of one field for one method (None -> NaN), and the vault ids."""
    rs = [r for r in rows if r["method"] == method and (tier is None or r.get("tier") == tier)]
    vaults = sorted({r["vault"] for r in rs})
    seeds = sorted({r["seed"] for r in rs})
    out = np.full((len(vaults), len(seeds)), np.nan)
    vi, si = {v: i for i, v in enumerate(vaults)}, {s: i for i, s in enumerate(seeds)}
    for r in rs:
        x = r[field]
        out[vi[r["vault"]], si[r["seed"]]] = np.nan if x is None else float(x)
    return out, vaults


def _mean(d: np.ndarray) -> float:
    return float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")


def cluster_ci(values: np.ndarray, n_boot: int, seed: int = 0) -> dict:
    """Mean over vaults x seeds, interval from resampling vaults."""
    values = np.asarray(values, float)
    if values.size == 0:
        return {"value": None, "ci": None, "n": 0, "why": "no runs"}
    out = bootstrap_ci(values, _mean, n_boot=n_boot, seed=seed)
    if len(values) < 2 and out.get("value") is not None:
        out = {**out, "ci": None, "why": "one vault: no interval"}
    return {**out, "n_vaults": int(values.shape[0]), "n_runs": int(np.isfinite(values).sum())}


def ratio_ci(num: np.ndarray, den: np.ndarray, n_boot: int, seed: int = 0) -> dict:
    """mean(num) / mean(den), paired by vault and seed, interval from resampling vaults."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    if num.shape != den.shape or num.size == 0:
        return {"value": None, "ci": None, "why": "no paired runs"}
    stacked = np.stack([num, den], -1)

    def stat(d):
        m = np.nanmean(d[..., 1])
        return float(np.nanmean(d[..., 0]) / m) if m > 0 else float("nan")

    out = bootstrap_ci(stacked, stat, n_boot=n_boot, seed=seed)
    if out.get("value") is None and "why" in out:
        out["why"] = "the baseline spends no queries: the ratio is undefined"
    return out


def paired(rows: list[dict], a: str, b: str, field: str, tier: str | None, n_boot: int) -> dict:
    """mean(a - b) over the (vault, seed) runs both methods share."""
    ga, va = grid(rows, a, field, tier)
    gb, vb = grid(rows, b, field, tier)
    if va != vb or ga.shape != gb.shape:
        return {"value": None, "ci": None, "why": f"{a} and {b} ran on different vaults or seeds"}
    return cluster_ci(ga - gb, n_boot)


def method_tier(rows: list[dict], method: str, tier: str | None, n_boot: int) -> dict:
    rs = [r for r in rows if r["method"] == method and (tier is None or r.get("tier") == tier)]
    if not rs:
        return {"n": 0}
    wins = [r["stop_queries"] for r in rs if r["true_success"]]
    return {
        "success": cluster_ci(grid(rows, method, "true_success", tier)[0], n_boot),
        "judge_success": cluster_ci(grid(rows, method, "judge_success", tier)[0], n_boot),
        "queries": cluster_ci(grid(rows, method, "queries", tier)[0], n_boot),
        "median_queries_success": float(np.median(wins)) if wins else None,
        "attacker_calls": float(np.mean([r["attacker_calls"] for r in rs])),
        "evaluator_calls": float(np.mean([r["on_topic_calls"] + r["judge_calls"] for r in rs])),
        "off_topic_share": share([r["off_topic_proposed"] for r in rs], [r["proposed"] for r in rs]),
        "n": len(rs)}


def share(num, den) -> float | None:
    d = float(np.sum(den))
    return float(np.sum(num)) / d if d > 0 else None


def anytime(rows: list[dict], method: str, tier: str | None, qs: np.ndarray) -> list[float]:
    """Fraction of (vault, seed) runs that truly succeeded within q target queries."""
    rs = [r for r in rows if r["method"] == method and (tier is None or r.get("tier") == tier)]
    if not rs:
        return [float("nan")] * len(qs)
    stop = np.array([r["stop_queries"] if r["true_success"] else np.inf for r in rs], float)
    return [float((stop <= q).mean()) for q in qs]


def within_budget(rows: list[dict], method: str, budget: int) -> list[dict]:
    """The runs of `method` as if stopped at `budget` queries (true success only if it came
    within the budget): an equal-budget view of a method with a larger cap."""
    out = []
    for r in rows:
        if r["method"] == method:
            ok = bool(r["true_success"]) and r["stop_queries"] is not None and r["stop_queries"] <= budget
            out.append({**r, "method": f"{method}@{budget}", "true_success": ok, "queries": min(r["queries"], budget)})
    return out


def redundancy(rows: list[dict], method: str = "pair", tier: str | None = None) -> float | None:
    """Duplicate share among the first level's proposals (PAIR: its parallel streams)."""
    rs = [r for r in rows if r["method"] == method and (tier is None or r.get("tier") == tier)
          and r["first_level_proposed"] > 0]
    return share([r["first_level_proposed"] - r["first_level_unique"] for r in rs],
                 [r["first_level_proposed"] for r in rs])


def false_success_share(rows: list[dict], method: str, tier: str | None = None) -> float | None:
    """Share of judge-declared successes that did not reveal the secret."""
    rs = [r for r in rows if r["method"] == method and (tier is None or r.get("tier") == tier) and r["judge_success"]]
    return share([not r["true_success"] for r in rs], [1] * len(rs)) if rs else None
