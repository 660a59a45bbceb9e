"""From the stages' outputs to the metrics the claims read. Pure functions of JSON-like inputs, so
the report can be rebuilt (and tested) without rerunning anything."""

from __future__ import annotations

import numpy as np

from llmrepro.hwgpt import calibration as K
from llmrepro.hwgpt.search import nondominated
from llmrepro.hwgpt.space import Arch, Space
from llmrepro.stats import bootstrap_ci, mean_ci

PREEMPTED = 1.25  # a 1-thread pass whose wall time exceeds its CPU time by 25 % waited for other processes
QUIET_PREEMPTED = 0.05  # at most this fraction of such passes ...
QUIET_LOAD = 2.5  # ... and a median 1-minute load average at most this (this stage's 2 threads + slack)


def jaccard(a, b) -> float | None:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else None


def pareto_keys(keys: list[str], ppl, lat) -> list[str]:
    return sorted(keys[i] for i in nondominated(np.column_stack([ppl, lat])))


def _halves(W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median latency per architecture over all repeats, the even and the odd repeats."""
    return np.median(W, axis=1), np.median(W[:, ::2], axis=1), np.median(W[:, 1::2], axis=1)


def _margin(keys: list[str], ppl, walls: dict[str, np.ndarray]) -> tuple[float | None, float | None, dict]:
    """Jaccard of the devices' Pareto sets, each device's split-half Jaccard, and the margin
    min(within) - between (None where a set is empty)."""
    fronts, within = {}, {}
    for d, W in walls.items():
        med, h1, h2 = _halves(W)
        fronts[d] = pareto_keys(keys, ppl, med)
        within[d] = jaccard(pareto_keys(keys, ppl, h1), pareto_keys(keys, ppl, h2))
    d1, d2 = list(fronts)[:2]
    between = jaccard(fronts[d1], fronts[d2])
    margin = None if between is None or None in within.values() else min(within.values()) - between
    return margin, between, {"fronts": fronts, "within": within}


def jaccard_margin_ci(keys: list[str], ppl, walls: dict[str, np.ndarray], n_boot: int, seed: int,
                      level: float = 0.95) -> dict:
    """The Jaccard margin with a two-stage bootstrap interval: architectures resampled with
    replacement, then each drawn architecture's repeats resampled with replacement on every
    device. Both the measured sample and the measurement noise move the Pareto sets (a set of
    ~20 members moves by ~0.05 per member); the point estimate alone carried neither."""
    ppl = np.asarray(ppl, float)
    value, _, _ = _margin(keys, ppl, walls)
    n = len(keys)
    if value is None or n < 3:
        return {"value": value, "ci": None, "n": n, "why": "an empty Pareto set" if value is None else f"{n} architectures"}
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        wb = {}
        for d, W in walls.items():
            W = W[idx]
            wb[d] = np.take_along_axis(W, rng.integers(0, W.shape[1], W.shape), axis=1)
        m, _, _ = _margin([keys[i] for i in idx], ppl[idx], wb)
        if m is not None:
            boots.append(m)
    if len(boots) < n_boot // 2:
        return {"value": value, "ci": None, "n": n, "why": "an empty Pareto set on most resamples"}
    lo, hi = np.percentile(boots, [50 * (1 - level), 50 * (1 + level)])
    return {"value": float(value), "ci": [float(lo), float(hi)], "n": n}


def _tau_gap(rows: np.ndarray) -> float:
    """Split-half tau (cols 0, 1) minus tau(latency, x) (cols 2, 3)."""
    a, b = K.kendall(rows[:, 0], rows[:, 1])["value"], K.kendall(rows[:, 2], rows[:, 3])["value"]
    return np.nan if a is None or b is None else a - b


def _spearman(rows: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if np.ptp(rows[:, 0]) == 0 or np.ptp(rows[:, 1]) == 0:
        return np.nan
    return float(spearmanr(rows[:, 0], rows[:, 1])[0])


def hardware_metrics(hw: dict, nll: list[float], space: Space, n_boot: int, seed: int) -> dict:
    archs = [Arch.from_dict(a) for a in hw["archs"]]
    keys = [a.key for a in archs]
    flops = np.array([space.flops(a, next(iter(hw["devices"].values()))["seq_len"]) for a in archs], float)
    params = np.array([space.params(a) for a in archs], float)
    ppl = np.exp(np.asarray(nll[:len(archs)], float))
    out: dict = {"machine": hw["machine"], "archs": len(archs), "devices": {}, "measure_s": hw["measure_s"]}
    walls = {}
    for d, rec in hw["devices"].items():
        W, C = np.asarray(rec["wall_ms"], float), np.asarray(rec["cpu_ms"], float)
        walls[d] = W
        med, h1, h2 = _halves(W)
        split = K.kendall_ci(h1, h2, n_boot, seed)
        sd = W.std(axis=1, ddof=1)
        out["devices"][d] = {
            "threads": rec["threads"], "batch": rec["batch"], "repeats": W.shape[1],
            "median_ms_range": [float(med.min()), float(med.max())],
            "split_half_tau": split,
            "tau_flops": K.kendall_ci(med, flops, n_boot, seed),
            "tau_params": K.kendall_ci(med, params, n_boot, seed),
            "ceiling_gap_flops": bootstrap_ci(np.column_stack([h1, h2, med, flops]), _tau_gap, n_boot, seed),
            "heteroscedasticity": bootstrap_ci(np.column_stack([W.mean(1), sd]), _spearman, n_boot, seed),
            "cv_median": float(np.median(sd / W.mean(1))),
            "preempted_fraction": float(np.mean(W > PREEMPTED * C)) if rec["threads"] == 1 else None,
            "procs_running_median": float(np.median(rec["procs_running"])),
        }
    loads = [r["loadavg1"] for r in hw["rounds"] if "loadavg1" in r]
    one_thread = [v["preempted_fraction"] for v in out["devices"].values() if v["preempted_fraction"] is not None]
    out["load"] = {"loadavg1_median": float(np.median(loads)) if loads else None,
                   "loadavg1_max": float(np.max(loads)) if loads else None,
                   "before": hw["load_before"], "after": hw["load_after"]}
    out["quiet"] = bool(one_thread and max(one_thread) <= QUIET_PREEMPTED and loads
                        and np.median(loads) <= QUIET_LOAD)
    _, between, sets = _margin(keys, ppl, walls)
    out["pareto"] = {"fronts": sets["fronts"], "jaccard_between": between, "jaccard_within": sets["within"],
                     "jaccard_margin": jaccard_margin_ci(keys, ppl, walls, n_boot, seed)}
    out["memory"] = memory_metrics(hw["memory"])
    out["energy"] = hw["energy"]
    return out


def memory_metrics(mem: dict) -> dict:
    from llmrepro.stats import corr

    rss = mem["rss"]
    if not rss:
        return {"checked": 0, "why": "no peak-RSS checks at this scale"}
    meas = np.array([r["measured_bytes"] for r in rss], float)
    ana = np.array([r["total_bytes"] for r in rss], float)
    return {"checked": len(rss), "pearson": corr(ana, meas), "spearman": corr(ana, meas, "spearman"),
            "ratio_median": float(np.median(meas / ana)), "analytic_mb": (ana / 2**20).tolist(),
            "measured_mb": (meas / 2**20).tolist()}


def surrogate_metrics(heldout: dict, n_boot: int, seed: int) -> dict:
    """Held-out accuracy and calibration on the main split; the coverage of the nominal interval
    pooled over every split where the stage made several (see `calibration.coverage_ci`)."""
    out = {}
    for target, res in heldout["targets"].items():
        t = {"n_train": res["n_train"], "n_test": res["n_test"]}
        splits = res.get("coverage_splits")
        for m, r in res["methods"].items():
            cal = r["calibration"]
            cov = (K.coverage_ci(splits["per_arch"][m], n_boot, seed) if splits and cal["coverage"] is not None
                   else cal["coverage"])
            t[m] = {"r2": r["r2"]["value"], "kendall_tau": r["kendall_tau"]["value"], "area": cal["area"],
                    "coverage90": cov, "coverage90_main_split": cal["coverage"],
                    "log_std_r2": r.get("log_std_r2", {}).get("value"),
                    **({"why": cal["why"]} if cal.get("why") else {})}
        t["area_gain_over_gp"] = res["area_gain_over_gp"]
        out[target] = t
    return out


def supernet_metrics(hist: dict, standalone: dict, ppl: dict, n_boot: int, seed: int) -> dict:
    runs = standalone["runs"]
    alone = np.array([r["nll"] for r in runs])
    inherited = np.array(ppl["standalone_inherited_nll"])
    rep = standalone["noise_repeat"]["nll"]
    noise = abs(rep[0] - rep[1])
    spread = float(np.ptp(alone))
    return {
        "largest_nll": hist["final"]["largest"], "smallest_nll": hist["final"]["smallest"],
        "unigram_nll": hist["unigram_nll"], "learned_margin": hist["unigram_nll"] - hist["final"]["largest"],
        "standalone_nll": alone.tolist(), "inherited_nll": inherited.tolist(),
        "standalone_keys": [r["key"] for r in runs], "standalone_params": [r["params"] for r in runs],
        "init_seed_difference": noise, "standalone_range": spread,
        "standalone_resolution": (spread / noise if noise > 0 else
                                  {"value": None, "why": "two initialisations gave the same NLL"}),
        "tau_inherited_standalone": K.kendall_ci(inherited, alone, n_boot, seed),
        "tau_inherited_params": K.kendall(inherited, [-r["params"] for r in runs]),
        "tokens_per_s": hist["tokens_per_s"], "tokens_per_subnet": hist["tokens_per_subnet"],
    }


def search_metrics(doc: dict, small: int, budget: int) -> dict:
    out = {}
    for d, dev in doc["devices"].items():
        hv_true = dev["hv_true"]
        per: dict = {}
        for m, runs in dev["runs"].items():
            hv = np.array([r["hv"] for r in runs], float)
            per[m] = {"hv_small": mean_ci(hv[:, small - 1]), "hv_final": mean_ci(hv[:, budget - 1]),
                      "regret_small": mean_ci(hv_true - hv[:, small - 1]),
                      "regret_final": mean_ci(hv_true - hv[:, budget - 1])}
        guided = [m for m in per if m != "rs"]

        def margin(key):
            vals = [(per[m][key]["ci"][0] - per["rs"][key]["ci"][1], m) for m in guided
                    if per[m][key]["ci"] and per["rs"][key]["ci"]]
            return max(vals) if vals else (None, None)

        (ms, best_s), (mf, best_f) = margin("hv_small"), margin("hv_final")
        out[d] = {"hv_true": hv_true, "methods": per, "best_guided_small": best_s,
                  "best_guided_margin_small": ms if ms is not None else {"value": None, "why": "no interval"},
                  "best_guided_final": best_f, "best_guided_margin_final": mf,
                  "rs_regret_small_rel": per["rs"]["regret_small"]["value"] / hv_true if hv_true else None}
    ds = list(doc["devices"])
    if len(ds) >= 2:
        out["benchmark_front_jaccard"] = jaccard(doc["devices"][ds[0]]["front_keys"], doc["devices"][ds[1]]["front_keys"])
    return out
