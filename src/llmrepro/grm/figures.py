"""grm figures: accuracy bars per method, OOD accuracy against set size, best-of-n curves."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.grm.analysis import kl_axis, method_ci, ood_mean, over_worlds, per_seed, worlds_of
from llmrepro.grm.world import OOD_SETS
from llmrepro.report.plots import figure

LABELS = {"id": "ID", "anti": "ID, marker reversed", "neutral": "ID, marker random",
          "ood_task": "OOD: unseen tasks", "ood_long": "OOD: longer inputs",
          "ood_corrupt": "OOD: new corruption", "ood_mean": "OOD mean"}


def _err(m: dict) -> tuple[float, float]:
    """Mean and half-width of an interval over worlds (0 where there is none)."""
    if m["value"] is None:
        return float("nan"), 0.0
    return m["value"], 0.0 if m["ci"] is None else m["value"] - m["ci"][0]


def accuracy(runs: dict, out) -> None:
    rs, main = runs["runs"], runs["setup"]["main_size"]
    methods = runs["setup"]["methods"]
    cols = ["id", "anti", "neutral", *OOD_SETS, "ood_mean"]
    with figure(out, size=(10.5, 3.8)) as (fig, ax):
        w = 0.8 / len(methods)
        for j, m in enumerate(methods):
            vals = [_err(method_ci(rs, m, main, (lambda r, c=c: ood_mean(r) if c == "ood_mean" else r["acc"][c])))
                    for c in cols]
            ax.bar(np.arange(len(cols)) + (j - (len(methods) - 1) / 2) * w, [v for v, _ in vals], w,
                   yerr=[e for _, e in vals], capsize=2, label=m)
        ax.axhline(0.5, color="k", lw=0.7, ls=":")
        ax.set_xticks(np.arange(len(cols)), [LABELS[c] for c in cols], fontsize=8)
        ax.set(ylabel="pairwise accuracy", ylim=(0, 1.05),
               title=f"{main} preference pairs; bars: mean over seeds, whiskers: 95% t-interval over worlds")
        ax.legend(fontsize=7, ncol=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.1))


def sizes(runs: dict, out) -> None:
    rs, st = runs["runs"], runs["setup"]
    with figure(out, ncols=2, size=(9.0, 3.4)) as (fig, (a, b)):
        for m in st["size_methods"]:
            for ax, key in ((a, lambda r: r["acc"]["ood_task"]), (b, ood_mean)):
                vals = [_err(method_ci(rs, m, n, key)) for n in st["sizes"]]
                ax.errorbar(st["sizes"], [v for v, _ in vals], yerr=[e for _, e in vals], marker="o", capsize=3,
                            label=m)
        for ax, t in ((a, LABELS["ood_task"]), (b, "OOD mean of three sets")):
            ax.axhline(0.5, color="k", lw=0.7, ls=":")
            ax.set_xscale("log", base=2)
            ax.set(xlabel="preference pairs", ylabel="pairwise accuracy", title=t)
            ax.legend(fontsize=7)
        fig.suptitle("mean over seeds, whiskers: 95% t-interval over world means", fontsize=8)


def bon(runs: dict, out) -> None:
    rs, st = runs["runs"], runs["setup"]
    main = st["main_size"]
    ns = next(r["bon"]["n"] for r in rs)
    kl = kl_axis(ns)
    with figure(out, ncols=2, size=(9.0, 3.4)) as (fig, (a, b)):
        for m in st["methods"]:
            for ax, key in ((a, "gold"), (b, "proxy")):
                c = np.array(per_seed(rs, m, main, lambda r: r["bon"][key]))
                w = worlds_of(rs, m, main)
                mean, half = np.array([_err(over_worlds(c[:, j], w)) for j in range(c.shape[1])]).T
                ax.plot(kl, mean, marker=".", label=m)
                ax.fill_between(kl, mean - half, mean + half, alpha=0.15)
        a.set(xlabel="KL(best-of-n), nats", ylabel="gold reward of the proxy's pick", title="gold")
        b.set(xlabel="KL(best-of-n), nats", ylabel="proxy reward (standardised per prompt)", title="proxy")
        a.legend(fontsize=7)
        fig.suptitle(f"best of n = 1..{ns[-1]}; bands: 95% t-interval over world means", fontsize=8)


def draw_all(dep, out) -> None:
    runs = io.read_json(dep.runs)
    accuracy(runs, out.accuracy)
    sizes(runs, out.sizes)
    bon(runs, out.bon)
