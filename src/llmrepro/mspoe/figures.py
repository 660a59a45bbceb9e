"""mspoe figures. Bars: per gold position, 95 % Wilson intervals for a proportion over contexts;
for statistics over all positions, the claims' exact sign-flip intervals over contexts."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.mspoe.metrics import dip, signflip_ci, table
from llmrepro.report.plots import curve_data, figure

TASKS = ("kv", "mdqa", "long")
TITLES = {"kv": "key-value retrieval", "mdqa": "multi-document QA", "long": "long key-value retrieval"}


def wilson(t: np.ndarray) -> list[dict]:
    """Each column's share of correct contexts with its 95 % Wilson interval."""
    from scipy.stats import binomtest

    out = []
    for col in t.T:
        k, n = int(col.sum()), len(col)
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        out.append({"value": k / n, "ci": [float(ci.low), float(ci.high)]})
    return out


def _bars(ci: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    mean = np.array([c["value"] for c in ci])
    lo = np.array([c["ci"][0] if c.get("ci") else c["value"] for c in ci])
    hi = np.array([c["ci"][1] if c.get("ci") else c["value"] for c in ci])
    return mean, np.stack([mean - lo, hi - mean])


def by_position(res: dict, out) -> None:
    with figure(out, ncols=3, size=(12, 3.3)) as (fig, axes):
        for ax, t in zip(axes, TASKS):
            for i, (name, style) in enumerate((("baseline", "o-"), ("ms_poe_outlier", "s-"),
                                               ("ms_poe_sequential", "^--"))):
                pos, tab = table(res[name][t]["rows"])
                mean, err = _bars(wilson(tab))
                x = np.arange(len(pos)) + (i - 1) * 0.08  # offset so the bars do not hide each other
                ax.errorbar(x, mean, yerr=err, fmt=style, capsize=2, ms=4, label=name)
            ax.set_xticks(range(len(pos)), [str(p) for p in pos])
            ax.set(xlabel="gold position (0 = first)", ylabel="accuracy", ylim=(-0.02, 1.02),
                   title=f"{TITLES[t]} ({len(tab)} contexts)")
            ax.legend(fontsize=7)


def sweep(res: dict, out) -> None:
    t = "long"
    names = ["baseline"] + sorted((k for k in res if k.startswith("uniform_") and t in res[k]),
                                  key=lambda k: float(k.split("_")[1]))
    ratios = [1.0] + [float(k.split("_")[1]) for k in names[1:]]
    tabs = {n: table(res[n][t]["rows"])[1] for n in [*names, "ms_poe_outlier", "ms_poe_sequential"]}
    mean_ci = {n: signflip_ci(tb.mean(axis=1), bounds=(0.0, 1.0)) for n, tb in tabs.items()}
    dip_ci = {n: signflip_ci(dip(tb)) for n, tb in tabs.items()}
    with figure(out, ncols=2, size=(8.5, 3.3)) as (fig, axes):
        for ax, cis, label in zip(axes, (mean_ci, dip_ci), ("average accuracy", "acc(ends) - acc(middle)")):
            mean, err = _bars([cis[n] for n in names])
            ax.errorbar(ratios, mean, yerr=err, fmt="o-", capsize=2, ms=4, label="uniform r")
            for n, ls in (("ms_poe_outlier", ":"), ("ms_poe_sequential", "-.")):
                ax.axhline(cis[n]["value"], ls=ls, lw=0.9, color="k", label=n)
            ax.set(xlabel="uniform ratio r (positions m / r; r = 1: baseline)", ylabel=label)
        axes[0].set_title("long task")
        axes[0].legend(fontsize=7)


def head_scores(res: dict, out) -> None:
    scores = res["ms_poe_outlier"]["long"].get("head_scores")
    if scores is None:  # every layer was skipped: nothing was patched
        with figure(out, size=(4.6, 3.6)) as (fig, ax):
            ax.text(0.5, 0.5, "no patched layers", ha="center", va="center")
        return
    s = np.array(scores)
    with figure(out, size=(4.6, 3.6)) as (fig, ax):
        im = ax.imshow(s.T, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label="fraction of keys > 4x mean weight")
        ax.set(xlabel="patched layer (index among patched layers)", ylabel="query head",
               title="attention-outlier score, q and k before RoPE")
        ax.grid(False)


def draw_all(dep, out) -> None:
    res = {n: v for n, v in io.read_json(dep.scores).items() if not n.startswith("_")}
    by_position(res, out.position)
    sweep(res, out.sweep)
    head_scores(res, out.heads)
    rows = []
    for name in ("baseline", "ms_poe_outlier", "ms_poe_sequential"):
        for t in TASKS:
            pos, tab = table(res[name][t]["rows"])
            n = max(pos)
            rows += [{"relative_position": p / n, "accuracy": float(a), "variant": name, "task": t}
                     for p, a in zip(pos, tab.mean(0))]
    curve_data(out.position_data, rows)
