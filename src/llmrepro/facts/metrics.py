"""The paper's metrics (Defs. 1-3) on probe log-probability trajectories.

A run logs L[j, p], probe p's target log-probability after `steps[j]` updates (steps[0] = 0:
before any). An injection at step s is in the batch of update s + 1; each entity has its own
injection steps (`entity_steps`).

- local acquisition maximum: t_LAM = argmax over s < t <= s + t_w of L[t];
- effectivity E = L[t_LAM] - L[s], averaged over probes and injections. The window maximum
  of a noisy curve is positive even with no learning, so the same quantity on never-injected
  control probes over the same window is subtracted: the control-adjusted effectivity;
- retainability after an entity's last injection N, on control-corrected log-probabilities
  L' = L - (mean of the control probes of the same type at that step), which removes the
  model-wide drift: R(t) = (L'[t_LAM(N) + t] - L'[pre]) / (L'[t_LAM(N)] - L'[pre]), with pre
  the step before the entity's first injection;
- R is pooled in log-spaced bins of t; in each bin, values outside the IQR fence (factor 1.5,
  as the paper states; its code's default is 2.0) are dropped before averaging. Evenly spaced t
  would let the long, flat tail dominate a fit in log t;
- forgetting fits on the bins: the power law R = c - a log10 t (the paper's: decay constant a,
  x-intercept 10^(c / a) where R reaches 0) and the exponential R = A exp(-b t), compared by
  leave-one-bin-out error (the official `fit_models` compares the two by RMSE).

Every fit answers for any curve (flat, rising, empty, NaN, overflowing): where a quantity does
not exist it is None and `why` says why.
"""

from __future__ import annotations

import numpy as np

from llmrepro.stats import ols

IQR_FACTOR = 1.5
TYPES = ("memorization", "semantic", "composition")
INJECTED = ("paraphrase", "duplication", "once")
X_INTERCEPT_MAX_LOG10 = 12  # an x-intercept beyond 1e12 steps means "never forgets" at this scale
EXP_RATES = np.concatenate([[0.0], np.geomspace(1e-6, 10.0, 700)])  # the exponential's decay rates searched


def _idx(probes: list[dict], scenario: str, ptype: str) -> np.ndarray:
    return np.array([i for i, p in enumerate(probes) if p["scenario"] == scenario and p["type"] == ptype], dtype=int)


def corrected(L: np.ndarray, probes: list[dict]) -> np.ndarray:
    """L minus, per step, the mean of the control probes of the same type."""
    out = np.array(L, dtype=float)
    for ptype in TYPES:
        ctrl = _idx(probes, "control", ptype)
        every = np.array([i for i, p in enumerate(probes) if p["type"] == ptype], dtype=int)
        if len(ctrl) and len(every):
            out[:, every] -= np.asarray(L, float)[:, ctrl].mean(1, keepdims=True)
    return out


class Trajectory:
    """A run's log-probabilities indexed by step. Probes need not be logged at every step: a
    window is the logged steps in (s, s + t_w], and the value before an injection at s is the
    last one logged at or before s (the update that holds the passage is s + 1)."""

    def __init__(self, L: np.ndarray, steps: list[int]):
        self.L, self.steps = np.asarray(L, float), np.asarray(steps, dtype=int)
        if len(self.steps) != len(self.L) or np.any(np.diff(self.steps) <= 0) or (len(self.steps) and self.steps[0]):
            raise ValueError("logged steps must start at 0, increase, and match the log-probability rows")

    def before(self, s: int) -> int:
        return int(np.searchsorted(self.steps, s, side="right") - 1)

    def window(self, s: int, window: int) -> np.ndarray:
        rows = np.flatnonzero((self.steps > s) & (self.steps <= s + window))
        if not len(rows):
            raise ValueError(f"no logged step in the effectivity window ({s}, {s + window}]")
        return rows


def window_gain(X: np.ndarray, tr: Trajectory, s: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(gain, t_LAM) per column of X for an injection at step s."""
    rows = tr.window(s, window)
    seg = X[rows]
    return seg.max(0) - X[tr.before(s)], tr.steps[rows[seg.argmax(0)]]


def effectivity(tr: Trajectory, probes: list[dict], entity_steps: dict[str, list[int]], window: int) -> dict:
    out = {}
    for ptype in TYPES:
        ctrl = _idx(probes, "control", ptype)
        ctrl_gain: dict[int, float] = {}
        for scenario in INJECTED:
            idx = _idx(probes, scenario, ptype)
            raw, adj = [], []
            for s in sorted({s for i in idx for s in entity_steps[probes[i]["entity"]]}):
                at = np.array([i for i in idx if s in entity_steps[probes[i]["entity"]]])
                g, _ = window_gain(tr.L[:, at], tr, s, window)
                if s not in ctrl_gain:
                    ctrl_gain[s] = float(window_gain(tr.L[:, ctrl], tr, s, window)[0].mean()) if len(ctrl) else 0.0
                raw += g.tolist()
                adj += (g - ctrl_gain[s]).tolist()
            out[f"{scenario}/{ptype}"] = {"raw": float(np.mean(raw)) if raw else None,
                                          "adjusted": float(np.mean(adj)) if adj else None}
        vals = [out[f"{s}/{ptype}"]["adjusted"] for s in INJECTED]
        out[ptype] = float(np.mean(vals)) if None not in vals else None
    return out


def iqr_mean(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan")
    q1, q3 = np.percentile(x, [25, 75])
    lo, hi = q1 - IQR_FACTOR * (q3 - q1), q3 + IQR_FACTOR * (q3 - q1)
    keep = x[(x >= lo) & (x <= hi)]
    return float(keep.mean()) if len(keep) else float("nan")


def bin_edges(horizon: int, bins: int) -> np.ndarray:
    return np.geomspace(1, horizon + 1, bins + 1)


def binned(t: np.ndarray, R: np.ndarray, horizon: int, bins: int) -> dict:
    """IQR-filtered mean of R per log-spaced bin of t, at the bin's geometric-mean t."""
    t, R = np.asarray(t, float), np.asarray(R, float)
    edges = bin_edges(horizon, bins)
    tb, Rb, n = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (t >= lo) & (t < hi) & np.isfinite(R)
        tb.append(float(np.exp(np.log(t[m]).mean())) if m.any() else float(np.sqrt(lo * hi)))
        Rb.append(iqr_mean(R[m]) if m.any() else float("nan"))
        n.append(int(m.sum()))
    return {"t": tb, "R": Rb, "n": n}


def retainability(tr: Trajectory, Lc: np.ndarray, probes: list[dict], entity_steps: dict[str, list[int]],
                  window: int, horizon: int, bins: int, scenario: str, ptype: str) -> dict:
    """R(t) after each probe's last injection, on control-corrected log-probabilities Lc."""
    idx = _idx(probes, scenario, ptype)
    ts, Rs, gains = [], [], []
    steps = tr.steps
    for i in idx:
        inj = entity_steps[probes[i]["entity"]]
        g, lam = window_gain(Lc[:, [i]], tr, inj[-1], window)
        pre, peak = Lc[tr.before(inj[0]), i], Lc[tr.before(int(lam[0])), i]
        gains.append(peak - pre)
        if abs(peak - pre) <= 1e-6:
            continue
        after = (steps > lam[0]) & (steps <= lam[0] + horizon)
        ts.append(steps[after] - lam[0])
        Rs.append((Lc[after, i] - pre) / (peak - pre))
    t = np.concatenate(ts) if ts else np.array([])
    R = np.concatenate(Rs) if Rs else np.array([])
    b = binned(t, R, horizon, bins)
    return {**b, "gain_at_peak": float(np.mean(gains)) if gains else None, "fit": compare_fits(b["t"], b["R"])}


def _clean(t, R) -> tuple[np.ndarray, np.ndarray]:
    t, R = np.asarray(t, float).ravel(), np.asarray(R, float).ravel()
    ok = np.isfinite(t) & np.isfinite(R) & (t > 0)
    return t[ok], R[ok]


def fit_log(t, R) -> dict:
    """R = intercept - a log10 t. Any curve gets an answer: a flat or rising one has no decay
    (a <= 0) and no x-intercept, and says so in `why`."""
    t, R = _clean(t, R)
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


def fit_exp(t, R) -> dict:
    """R = A exp(-b t), b >= 0, by least squares: A in closed form for each b on a fine
    log grid (EXP_RATES), so there is no iteration that could fail to converge."""
    t, R = _clean(t, R)
    if len(t) < 2:
        return {"A": None, "rate": None, "why": f"{len(t)} finite point(s): a fit needs 2"}
    scale = float(np.abs(R).max()) or 1.0  # fit R / scale, so sums of squares cannot overflow
    r = R / scale
    E = np.exp(-np.outer(EXP_RATES, t))  # [rates, points], in [0, 1]
    den = (E * E).sum(1)
    A = np.where(den > 0, (E * r).sum(1) / np.where(den > 0, den, 1), 0.0)
    sse = ((A[:, None] * E - r) ** 2).sum(1)
    k = int(np.argmin(sse))
    return {"A": float(A[k] * scale), "rate": float(EXP_RATES[k])}


def _predict_log(f: dict, t: np.ndarray) -> np.ndarray:
    return f["intercept"] - f["decay"] * np.log10(t)


def _predict_exp(f: dict, t: np.ndarray) -> np.ndarray:
    return f["A"] * np.exp(-f["rate"] * t)


def held_out_rmse(t, R, fit, predict) -> float | None:
    """Leave-one-point-out root mean squared error of a fit."""
    t, R = _clean(t, R)
    if len(t) < 3:
        return None
    err = []
    for j in range(len(t)):
        keep = np.arange(len(t)) != j
        f = fit(t[keep], R[keep])
        if f.get("decay", f.get("rate")) is None:
            return None
        err.append(float(predict(f, t[j:j + 1])[0] - R[j]))
    return float(np.sqrt(np.mean(np.square(err))))


def compare_fits(t, R) -> dict:
    """The power law and the exponential on one curve, with in-sample and held-out RMSE.
    `exp_minus_power` > 0: the power law predicts held-out points better."""
    tc, Rc = _clean(t, R)
    power, exp = fit_log(tc, Rc), fit_exp(tc, Rc)
    out = {"power": power, "exp": exp, "points": int(len(tc))}
    if len(tc) < 4:
        return {**out, "rmse_power": None, "rmse_exp": None, "cv_rmse_power": None, "cv_rmse_exp": None,
                "exp_minus_power": None, "why": f"{len(tc)} finite bin(s): the comparison needs 4"}
    rmse = lambda f, p: float(np.sqrt(np.mean((p(f, tc) - Rc) ** 2)))
    cv_p, cv_e = held_out_rmse(tc, Rc, fit_log, _predict_log), held_out_rmse(tc, Rc, fit_exp, _predict_exp)
    out.update(rmse_power=rmse(power, _predict_log) if power["decay"] is not None else None,
               rmse_exp=rmse(exp, _predict_exp), cv_rmse_power=cv_p, cv_rmse_exp=cv_e,
               exp_minus_power=cv_e - cv_p if cv_p is not None and cv_e is not None else None)
    if out["exp_minus_power"] is None:
        out["why"] = "a held-out fit is undefined (constant t)"
    return out


def run_metrics(run: dict, window: int, horizon: int, bins: int) -> dict:
    tr = Trajectory(run["logprobs"], run["eval_steps"])
    probes, steps = run["probes"], run["entity_steps"]
    Lc = corrected(tr.L, probes)
    ret = {f"{s}/{p}": retainability(tr, Lc, probes, steps, window, horizon, bins, s, p) for s in INJECTED for p in TYPES}
    return {"effectivity": effectivity(tr, probes, steps, window), "retainability": ret}
