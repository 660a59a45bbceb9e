"""The paper's metrics (Defs. 1-3) on probe log-probability trajectories.

L[t, p] is probe p's target log-probability after t updates (L[0]: before any).
An injection at step t_i is in the batch of update t_i + 1.

- local acquisition maximum: t_LAM = argmax over t_i < t <= t_i + t_w of L[t];
- effectivity E = L[t_LAM] - L[t_i], averaged over probes and injections. The window
  maximum of a noisy curve is positive even with no learning, so we also subtract
  the same quantity measured on control probes (entities never injected) over the
  same windows: the control-adjusted effectivity the claims use;
- retainability after the last injection N: R(t) = (L[t_LAM(N) + t] - L[pre]) /
  (L[t_LAM(N)] - L[pre]), with L[pre] = L[0]; per t, values outside the IQR fence
  (factor 1.5, as the paper states; its code's default is 2.0) are dropped before
  averaging;
- forgetting fit: least squares of mean R against log10 t; the decay constant is
  a = -slope, and the x-intercept 10^(intercept / a) is where R reaches 0.
"""

from __future__ import annotations

import numpy as np

from llmrepro.stats import ols

IQR_FACTOR = 1.5


def _idx(probes: list[dict], scenario: str, ptype: str) -> np.ndarray:
    return np.array([i for i, p in enumerate(probes) if p["scenario"] == scenario and p["type"] == ptype])


def injections(scenario: str, steps: list[int]) -> list[int]:
    return steps[:1] if scenario == "once" else list(steps)


def window_gain(L: np.ndarray, t_i: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(gain, t_LAM) per probe for an injection at step t_i."""
    seg = L[t_i + 1: t_i + window + 1]
    arg = seg.argmax(0)
    return seg.max(0) - L[t_i], t_i + 1 + arg


def effectivity(L: np.ndarray, probes: list[dict], steps: list[int], window: int) -> dict:
    out = {}
    for ptype in ("memorization", "semantic", "composition"):
        ctrl = _idx(probes, "control", ptype)
        for scenario in ("paraphrase", "duplication", "once"):
            idx = _idx(probes, scenario, ptype)
            raw, adj = [], []
            for t_i in injections(scenario, steps):
                g, _ = window_gain(L[:, idx], t_i, window)
                c, _ = window_gain(L[:, ctrl], t_i, window)
                raw.append(g.mean())
                adj.append(g.mean() - c.mean())
            out[f"{scenario}/{ptype}"] = {"raw": float(np.mean(raw)), "adjusted": float(np.mean(adj))}
        vals = [out[f"{s}/{ptype}"]["adjusted"] for s in ("paraphrase", "duplication", "once")]
        out[ptype] = float(np.mean(vals))
    return out


def iqr_mean(x: np.ndarray) -> float:
    q1, q3 = np.percentile(x, [25, 75])
    lo, hi = q1 - IQR_FACTOR * (q3 - q1), q3 + IQR_FACTOR * (q3 - q1)
    keep = x[(x >= lo) & (x <= hi)]
    return float(keep.mean()) if len(keep) else float("nan")


def retainability(L: np.ndarray, probes: list[dict], steps: list[int], window: int, scenario: str,
                  ptype: str) -> dict:
    idx = _idx(probes, scenario, ptype)
    X = L[:, idx]
    t_last = injections(scenario, steps)[-1]
    _, lam = window_gain(X, t_last, window)
    pre = X[0]
    peak = X[lam, np.arange(len(idx))]
    denom = peak - pre
    ok = np.abs(denom) > 1e-6
    horizon = len(L) - 1 - int(lam.max())
    ts = np.arange(1, horizon + 1)
    R = []
    for t in ts:
        vals = (X[lam + t, np.arange(len(idx))] - pre) / np.where(ok, denom, np.nan)
        R.append(iqr_mean(vals[ok]))
    R = np.array(R)
    good = np.isfinite(R)
    fit = fit_log(ts[good], R[good]) if good.sum() >= 3 else None
    return {"t": ts.tolist(), "R": R.tolist(), "fit": fit, "gain_at_peak": float(np.mean(denom))}


X_INTERCEPT_MAX_LOG10 = 12  # an x-intercept beyond 1e12 steps means "never forgets" at this scale


def fit_log(t: np.ndarray, R: np.ndarray) -> dict:
    """R = intercept - a log10 t. Any curve gets an answer: a flat or rising one has no decay
    (a <= 0) and no x-intercept, and says so in `why`."""
    f = ols(np.log10(t), R)
    if f["slope"] is None:
        return {"decay": None, "r2": None, "intercept": None, "x_intercept_steps": None, "why": f["why"]}
    a, intercept = -f["slope"], f["intercept"]
    out = {"decay": a, "r2": f["r2"], "intercept": intercept, "x_intercept_steps": None}
    if a <= 0:
        return {**out, "why": "no decay: a <= 0"}
    if intercept / a > X_INTERCEPT_MAX_LOG10:
        return {**out, "why": f"x-intercept beyond 1e{X_INTERCEPT_MAX_LOG10} steps"}
    return {**out, "x_intercept_steps": float(10 ** (intercept / a))}


def run_metrics(run: dict, window: int) -> dict:
    L, probes, steps = np.asarray(run["logprobs"]), run["probes"], run["injection_steps"]
    ret = {f"{s}/{p}": retainability(L, probes, steps, window, s, p)
           for s in ("paraphrase", "duplication", "once") for p in ("memorization", "semantic", "composition")}
    return {"effectivity": effectivity(L, probes, steps, window), "retainability": ret}
