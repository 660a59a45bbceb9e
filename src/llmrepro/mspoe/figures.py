"""mspoe figures."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.mspoe.evaluate import summary
from llmrepro.report.plots import figure

TASKS = ("kv", "mdqa")


def by_position(res: dict, out) -> None:
    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, axes):
        for ax, t in zip(axes, TASKS):
            for name, style in (("baseline", "o-"), ("ms_poe_outlier", "s-"), ("ms_poe_sequential", "^--")):
                s = summary(res[name][t]["rows"])
                ax.plot(list(s["acc_by_position"]), list(s["acc_by_position"].values()), style, label=name)
            ax.set(xlabel="gold position (0 = first)", ylabel="accuracy", ylim=(0, 1.02),
                   title={"kv": "key-value retrieval", "mdqa": "multi-document QA"}[t])
            ax.legend(fontsize=7)


def sweep(res: dict, out) -> None:
    names = ["baseline"] + sorted((k for k in res if k.startswith("uniform_")), key=lambda k: float(k.split("_")[1]))
    ratios = [1.0] + [float(k.split("_")[1]) for k in names[1:]]
    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, (a, b)):
        for t in TASKS:
            s = [summary(res[n][t]["rows"]) for n in names]
            a.plot(ratios, [x["mean"] for x in s], "o-", label=t)
            b.plot(ratios, [x["gap"] for x in s], "o-", label=t)
            for ax, key in ((a, "mean"), (b, "gap")):
                ms = summary(res["ms_poe_outlier"][t]["rows"])[key]
                ax.axhline(ms, ls=":", lw=0.8, color=ax.lines[-1].get_color())
        a.set(xlabel="uniform ratio r (positions m / r)", ylabel="average accuracy", title="dotted: Ms-PoE")
        b.set(xlabel="uniform ratio r", ylabel="best - worst position accuracy")
        a.legend(fontsize=7)


def head_scores(res: dict, out) -> None:
    scores = res["ms_poe_outlier"]["kv"].get("head_scores")
    if scores is None:  # every layer was skipped: nothing was patched
        with figure(out, size=(4.6, 3.6)) as (fig, ax):
            ax.text(0.5, 0.5, "no patched layers", ha="center", va="center")
        return
    s = np.array(scores)
    with figure(out, size=(4.6, 3.6)) as (fig, ax):
        im = ax.imshow(s.T, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label="fraction of keys > 3x mean weight")
        ax.set(xlabel="patched layer (first two skipped)", ylabel="query head", title="attention-outlier score (KV)")
        ax.grid(False)


def draw_all(dep, out) -> None:
    res = {}
    for k in ("baseline", "sequential", "outlier", "uniform"):
        res.update({n: v for n, v in io.read_json(getattr(dep, k)).items() if not n.startswith("_")})
    by_position(res, out.position)
    sweep(res, out.sweep)
    head_scores(res, out.heads)
