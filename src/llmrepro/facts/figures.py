"""facts figures: Fig. 2 and Fig. 4 analogues and effectivity bars, with intervals over seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro.facts import metrics as M
from llmrepro.facts.report import REPEATED, SCEN, TYPES, load_runs
from llmrepro.report.plots import curve_data, figure
from llmrepro.stats import mean_ci


def _band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and the 95 % t-interval, per column."""
    cis = [mean_ci(curves[:, j]) for j in range(curves.shape[1])]
    mean = np.array([c["value"] if c["value"] is not None else np.nan for c in cis])
    lo = np.array([c["ci"][0] if c["ci"] else np.nan for c in cis])
    hi = np.array([c["ci"][1] if c["ci"] else np.nan for c in cis])
    return mean, lo, hi


def aligned(run: dict, scenario: str, ptype: str, grid: np.ndarray) -> np.ndarray:
    """Mean control-corrected change of a scenario's probes, against steps since each
    entity's first injection (interpolated between logged steps)."""
    tr = M.Trajectory(run["logprobs"], run["eval_steps"])
    Lc = M.corrected(tr.L, run["probes"])
    out = []
    for i in M._idx(run["probes"], scenario, ptype):
        s0 = run["entity_steps"][run["probes"][i]["entity"]][0]
        x = tr.steps - s0
        out.append(np.interp(grid, x, Lc[:, i] - Lc[tr.before(s0), i], right=np.nan))
    return np.nanmean(out, 0)


def dlogprob(d: Path, out) -> None:
    meta, runs = load_runs(d)
    span = min(r["eval_steps"][-1] - max(s[0] for s in r["entity_steps"].values() if s) for r in runs)
    grid = np.arange(0, span + 1)
    with figure(out, ncols=3, size=(11, 3.2)) as (fig, axes):
        for ax, s in zip(axes, SCEN):
            for t in TYPES:
                mean, lo, hi = _band(np.stack([aligned(r, s, t, grid) for r in runs]))
                line = ax.plot(grid, mean, lw=1, label=t)[0]
                ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
            for k in range(1 if s == "once" else meta["injections"]):
                ax.axvline(k * meta["interval"], color="grey", lw=0.5, ls=":")
            ax.set(xlim=(0, grid[-1]), xlabel="steps since the entity's first injection",
                   ylabel="Δ log p(target), control-corrected", title=s)
        axes[0].legend(fontsize=7)


def _errbar(vals: list[dict]) -> list[list[float]]:
    return [[v["value"] - (v["ci"] or [v["value"]] * 2)[0] for v in vals],
            [(v["ci"] or [v["value"]] * 2)[1] - v["value"] for v in vals]]


def effectivity(metrics: dict, out) -> None:
    with figure(out, ncols=2, size=(9, 3.2)) as (fig, (a, b)):
        base = metrics["variants"]["base"]["effectivity"]
        x = np.arange(len(SCEN))
        for i, t in enumerate(TYPES):
            vals = [base[f"{s}/{t}"] for s in SCEN]
            a.bar(x + (i - 1) * 0.27, [v["value"] for v in vals], 0.27, label=t, yerr=_errbar(vals), capsize=2)
        a.set_xticks(x, SCEN)
        a.axhline(0, color="k", lw=0.5)
        a.set(ylabel="effectivity (nats, control-adjusted)", title="base model and batch")
        a.legend(fontsize=7)
        names = list(metrics["variants"])
        vals = [metrics["variants"][n]["effectivity"]["memorization"] for n in names]
        labels = [f"{n}\n({metrics['variants'][n]['meta']['rows']} rows)" for n in names]
        b.bar(labels, [v["value"] for v in vals], yerr=_errbar(vals), capsize=2)
        b.axhline(0, color="k", lw=0.5)
        b.set(ylabel="memorization effectivity", title="batch size and model size")


def retainability(metrics: dict, out) -> None:
    v = metrics["variants"]
    panels = [("base", "memorization", SCEN), ("base", "semantic", SCEN),
              ("large_batch", "memorization", REPEATED)]
    with figure(out, ncols=3, size=(12, 3.3)) as (fig, axes):
        for ax, (variant, t, scens) in zip(axes, panels):
            for s in scens:
                c = v[variant]["mean_curve"][f"{s}/{t}"]
                ts, R = np.array(c["t"], float), np.array([np.nan if x is None else x for x in c["R"]], float)
                lo = np.array([x[0] if x else np.nan for x in c["ci"]], float)
                hi = np.array([x[1] if x else np.nan for x in c["ci"]], float)
                line = ax.errorbar(ts, R, yerr=[R - lo, hi - R], fmt="o", ms=3, capsize=2, label=s)[0]
                f = c["fit"]
                grid = np.geomspace(1, ts.max(), 100)
                if f["power"].get("decay") is not None:
                    ax.plot(grid, M._predict_log(f["power"], grid), "-", color=line.get_color(), lw=1)
                if f["exp"].get("rate") is not None:
                    ax.plot(grid, M._predict_exp(f["exp"], grid), "--", color=line.get_color(), lw=0.8)
            ax.axhline(0, color="k", lw=0.5)
            ax.set(xscale="log", xlabel="t: steps after the last injection's peak", ylabel="retainability R(t)",
                   title=f"{t}, {variant} ({v[variant]['meta']['rows']} rows)")
            ax.legend(fontsize=7)


def draw_all(dep, out) -> None:
    from llmrepro.facts.report import metrics as compute

    dirs = {k: getattr(dep, k) for k in ("base", "large_batch", "small_model")}
    m = compute(dirs)
    dlogprob(dirs["base"], out.dlogprob)
    effectivity(m, out.effectivity)
    retainability(m, out.retainability)
    curve_data(out.retainability_data, [
        {"t": t, "R": r, "scenario": s} for s in SCEN
        for t, r in zip(m["variants"]["base"]["mean_curve"][f"{s}/memorization"]["t"],
                        m["variants"]["base"]["mean_curve"][f"{s}/memorization"]["R"]) if r is not None])
