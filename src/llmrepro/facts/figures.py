"""facts figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro.facts import metrics as M
from llmrepro.facts.report import SCEN, TYPES, load_runs
from llmrepro.report.plots import figure


def dlogprob(d: Path, out) -> None:
    meta, runs = load_runs(d)
    with figure(out, ncols=3, size=(11, 3.2)) as (fig, axes):
        for ax, s in zip(axes, SCEN):
            for t in TYPES:
                curves = []
                for r in runs:
                    L, P = r["logprobs"], r["probes"]
                    idx = M._idx(P, s, t)
                    ctrl = M._idx(P, "control", t)
                    curves.append((L[:, idx].mean(1) - L[0, idx].mean()) - (L[:, ctrl].mean(1) - L[0, ctrl].mean()))
                ax.plot(np.mean(curves, 0), lw=1, label=t)
            for t_i in M.injections(s, runs[0]["injection_steps"]):
                ax.axvline(t_i, color="grey", lw=0.4, ls=":")
            ax.set(xlabel="step of continued pretraining", ylabel="Δ log p(target), minus control", title=s)
        axes[0].legend(fontsize=7)


def effectivity(dirs: dict[str, Path], metrics: dict, out) -> None:
    with figure(out, ncols=2, size=(9, 3.2)) as (fig, (a, b)):
        base = metrics["variants"]["base"]["effectivity"]
        x = np.arange(len(SCEN))
        for i, t in enumerate(TYPES):
            a.bar(x + (i - 1) * 0.27, [base[f"{s}/{t}"]["value"] for s in SCEN], 0.27, label=t,
                  yerr=[[base[f"{s}/{t}"]["value"] - (base[f"{s}/{t}"]["ci"] or [0, 0])[0] for s in SCEN],
                        [(base[f"{s}/{t}"]["ci"] or [0, 0])[1] - base[f"{s}/{t}"]["value"] for s in SCEN]])
        a.set_xticks(x, SCEN)
        a.axhline(0, color="k", lw=0.5)
        a.set(ylabel="effectivity (nats, control-adjusted)", title="base model, batch B")
        a.legend(fontsize=7)
        names = list(metrics["variants"])
        vals = [metrics["variants"][n]["effectivity"]["memorization"] for n in names]
        b.bar(names, [v["value"] for v in vals],
              yerr=[[v["value"] - (v["ci"] or [0, 0])[0] for v in vals], [(v["ci"] or [0, 0])[1] - v["value"] for v in vals]])
        b.axhline(0, color="k", lw=0.5)
        b.set(ylabel="memorization effectivity", title="batch size and model size")


def retainability(metrics: dict, d: Path, out) -> None:
    meta, runs = load_runs(d)
    per = [M.run_metrics(r, meta["window"]) for r in runs]
    with figure(out, ncols=2, size=(9, 3.2)) as (fig, axes):
        for ax, t in zip(axes, ("memorization", "semantic")):
            for s in ("paraphrase", "duplication", "once"):
                curves = [np.asarray(m["retainability"][f"{s}/{t}"]["R"], float) for m in per]
                n = min(len(c) for c in curves)
                R = np.nanmean(np.stack([c[:n] for c in curves]), 0)
                ts = np.arange(1, n + 1)
                line = ax.plot(ts, R, "o", ms=2, label=s)[0]
                f = metrics["variants"]["base"]["mean_curve_fit"][f"{s}/{t}"]
                if f:
                    ax.plot(ts, f["intercept"] - f["decay"] * np.log10(ts), "-", color=line.get_color(), lw=1)
            ax.set(xscale="log", xlabel="steps after the last injection's peak", ylabel="retainability R(t)", title=t)
            ax.legend(fontsize=7)


def draw_all(dep, out) -> None:
    from llmrepro.facts.report import metrics as compute

    dirs = {k: getattr(dep, k) for k in ("base", "large_batch", "small_model")}
    m = compute(dirs)
    dlogprob(dirs["base"], out.dlogprob)
    effectivity(dirs, m, out.effectivity)
    retainability(m, dirs["base"], out.retainability)
