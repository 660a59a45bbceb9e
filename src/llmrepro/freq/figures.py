"""freq figures, in the paper's style: accuracy against log frequency, binned and per concept."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.report.plots import figure


def _log_linear(ax, counts, acc, label, color, drop_low=1):
    counts, acc = np.asarray(counts, float), np.asarray(acc, float)
    ax.scatter(np.maximum(counts, 1), acc, s=2, alpha=0.15, color=color)
    edges, means, _ = A.binned(counts, acc)
    sl = slice(drop_low, len(edges) - 1)
    rho = A.binned_rho(counts, acc, drop_low, 1)
    r = A.per_concept(counts, acc)["pearson_r"]
    ax.plot(np.exp(edges[sl]), means[sl], "o-", ms=3, color=color, label=f"{label}: ρ={rho:.2f}, r={r:.2f}")


def replay(res: dict, out) -> None:
    with figure(out, ncols=2, size=(9, 3.4)) as (fig, axes):
        for ax, pre in zip(axes, ("cc3m", "laion400m")):
            pairs = {k: v for k, v in res["pairs"].items() if k.startswith(pre + "/")}
            for i, (k, v) in enumerate(pairs.items()):
                _log_linear(ax, v["counts"], v["acc"], k.split("/")[1], f"C{i}", 2 if pre == "laion400m" else 1)
            ax.set(xscale="log", xlabel=f"pretraining frequency ({pre}, integrated)", ylabel="zero-shot accuracy (%)",
                   ylim=(0, 100))
            ax.legend(fontsize=7)


def mini(counts: dict, zs: dict, out) -> None:
    runs = [k for k in zs if k.startswith("seed")]
    with figure(out) as (fig, ax):
        for i, r in enumerate(runs):
            _log_linear(ax, counts[r]["counts"]["integrated"], zs[r]["acc"], r, f"C{i}")
        ax.axhline(zs[runs[0]]["chance"], color="k", lw=0.6, ls=":")
        ax.set(xscale="log", xlabel="counted frequency (integrated, extraction stage)", ylabel="zero-shot accuracy (%)",
               ylim=(-2, 102), title="Zipf-CLIP mini")
        ax.legend(fontsize=7)


def long_tail(counts: dict, res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for k in [k for k in counts if k.startswith("seed")][:1]:
            c = np.sort(np.asarray(counts[k]["counts"]["integrated"], float))[::-1]
            ax.plot(np.arange(1, len(c) + 1) / len(c), c / c.sum(), label=f"mini world {k}")
        for k, v in list(res["pairs"].items())[:2]:
            c = np.sort(np.asarray(v["counts"], float))[::-1]
            ax.plot(np.arange(1, len(c) + 1) / len(c), c / c.sum(), label=f"released {k.split('/')[0]}")
        ax.set(yscale="log", xlabel="concepts, sorted by frequency (fraction)", ylabel="normalised frequency")
        ax.legend(fontsize=7)


def rarest(counts: dict, zs: dict, out) -> None:
    runs = [k for k in zs if k.startswith("seed")]
    gaps = [A.rare_gap(counts[r]["counts"]["integrated"], zs[r]["acc"]) for r in runs]
    with figure(out) as (fig, ax):
        x = np.arange(len(runs))
        ax.bar(x - 0.2, [g["all_mean"] for g in gaps], 0.4, label="all concepts")
        ax.bar(x + 0.2, [g["rare_mean"] for g in gaps], 0.4, label="rarest 10 %")
        ax.set_xticks(x, runs)
        ax.set(ylabel="zero-shot accuracy (%)", title="rarest decile vs all (Let It Wag! analogue)")
        ax.legend(fontsize=7)


def control(counts: dict, zs: dict, out) -> None:
    with figure(out) as (fig, ax):
        for i, r in enumerate([k for k in zs if k.startswith("seed")][:1] + ["uniform"]):
            c = np.maximum(np.asarray(counts[r]["counts"]["integrated"], float), 1)
            rr = A.per_concept(counts[r]["counts"]["integrated"], zs[r]["acc"])["pearson_r"]
            ax.scatter(c, zs[r]["acc"], s=6, alpha=0.6, color=f"C{i}", label=f"{r}: r={rr:.2f}")
        ax.set(xscale="log", xlabel="counted frequency", ylabel="zero-shot accuracy (%)",
               title="Zipf vs uniform concept frequencies")
        ax.legend(fontsize=7)


def draw_all(dep, out) -> None:
    res, counts, zs = (io.read_json(getattr(dep, k)) for k in ("replay", "counts", "zeroshot"))
    replay(res, out.replay)
    mini(counts, zs, out.mini)
    long_tail(counts, res, out.tail)
    rarest(counts, zs, out.wag)
    control(counts, zs, out.control)
