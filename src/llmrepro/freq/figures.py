"""freq figures, in the paper's style: accuracy against log frequency, binned and per concept."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.report.plots import curve_data, figure
from llmrepro.stats import corr, mean_ci


def _log_linear(ax, counts, acc, label, color, drop_low=1, drop_high=1, bars=False):
    counts, acc = np.asarray(counts, float), np.asarray(acc, float)
    ax.scatter(np.maximum(counts, 1), acc, s=2, alpha=0.15, color=color)
    edges, means, _ = A.binned(counts, acc)
    sl = slice(drop_low, len(edges) - drop_high)
    rho = A.binned_rho(counts, acc, drop_low, drop_high)["value"]
    r = A.per_concept(counts, acc)["pearson_r"]
    text = lambda v: "–" if v is None else f"{v:.2f}"
    label = f"{label}: ρ={text(rho)}, r={text(r)}"
    if not bars:
        ax.plot(np.exp(edges[sl]), means[sl], "o-", ms=3, color=color, label=label)
        return
    # the bin's mean with its 95% t-interval over the concepts in the bin (none for 0-1 concepts)
    x = np.log(np.maximum(counts, 1))
    assigned = np.digitize(x, edges, right=True)
    cis = [mean_ci(acc[assigned == i]) for i in range(len(edges))][sl]
    lo = [m - c["ci"][0] if c["ci"] else 0 for m, c in zip(means[sl], cis)]
    hi = [c["ci"][1] - m if c["ci"] else 0 for m, c in zip(means[sl], cis)]
    ax.errorbar(np.exp(edges[sl]), means[sl], yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o-", ms=3,
                capsize=2, color=color, label=label)


def replay(res: dict, out) -> None:
    with figure(out, ncols=2, size=(9, 3.4)) as (fig, axes):
        for ax, pre in zip(axes, ("cc3m", "laion400m")):
            pairs = [v for v in res["pairs"].values() if v["pretrain"] == pre and v["set"] == "ensemble"]
            for i, v in enumerate(pairs):
                _log_linear(ax, v["counts"], v["acc"], v["model"], f"C{i}", *v["drop"])
            ax.set(xscale="log", xlabel=f"pretraining frequency ({pre}, integrated)", ylabel="zero-shot accuracy (%)",
                   ylim=(0, 100), title="ensemble prompt")
            ax.legend(fontsize=7)


def mini(counts: dict, zs: dict, out) -> None:
    runs = [k for k in zs if k.startswith("seed")]
    with figure(out) as (fig, ax):
        for i, r in enumerate(runs):
            _log_linear(ax, counts[r]["counts"]["integrated"], zs[r]["acc"], r, f"C{i}", bars=True)
        ax.axhline(zs[runs[0]]["chance"], color="k", lw=0.6, ls=":")
        ax.set(xscale="log", xlabel="counted frequency (integrated, extraction stage)", ylabel="zero-shot accuracy (%)",
               ylim=(-2, 102), title="Zipf-CLIP mini (bars: 95% CI per bin)")
        ax.legend(fontsize=7)


def long_tail(counts: dict, res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for k in [k for k in counts if k.startswith("seed")][:1]:
            c = np.sort(np.asarray(counts[k]["counts"]["integrated"], float))[::-1]
            ax.plot(np.arange(1, len(c) + 1) / len(c), c / c.sum(), label=f"mini world {k}")
        for v in [v for v in res["pairs"].values() if v["set"] == "ensemble"][:2]:
            c = np.sort(np.asarray(v["counts"], float))[::-1]
            ax.plot(np.arange(1, len(c) + 1) / len(c), c / c.sum(), label=f"released {v['pretrain']}")
        ax.set(yscale="log", xlabel="concepts, sorted by frequency (fraction)", ylabel="normalised frequency")
        ax.legend(fontsize=7)


def rarest(counts: dict, zs: dict, out) -> None:
    worlds = [k for k in zs if k.startswith("seed")] + [k for k in zs if k.startswith("uniform")]
    gaps = [A.pooled_ci([[(counts[w]["counts"]["integrated"], zs[w]["acc"])]], A.rare_gap_rows, 500) for w in worlds]
    with figure(out) as (fig, ax):
        x = np.arange(len(worlds))
        v = np.array([g["value"] if g["value"] is not None else np.nan for g in gaps])
        lo = [g["value"] - g["ci"][0] if g.get("ci") else 0 for g in gaps]
        hi = [g["ci"][1] - g["value"] if g.get("ci") else 0 for g in gaps]
        colors = ["C0" if w.startswith("seed") else "C1" for w in worlds]
        ax.bar(x, v, 0.6, yerr=[lo, hi], capsize=3, color=colors)
        ax.set_xticks(x, worlds, fontsize=7)
        ax.set(ylabel="mean − rarest-decile accuracy (pp)", title="Zipf (blue) vs uniform (orange) worlds")


def control(counts: dict, zs: dict, out) -> None:
    ctrl = [k for k in zs if k.startswith("uniform")]
    with figure(out, ncols=3, size=(11, 3.4)) as (fig, axes):
        for i, w in enumerate(ctrl):
            acc = np.asarray(zs[w]["acc"], float)
            rec = np.array([np.nan if r is None else r for r in counts[w]["tagger"]["recall"]])
            for ax, x, what in ((axes[0], counts[w]["counts"]["true_integrated"], "true count"),
                                (axes[1], counts[w]["counts"]["integrated"], "measured count"),
                                (axes[2], rec, "tagger recall")):
                x = np.asarray(x, float)
                ok = np.isfinite(x)
                r = corr(x[ok] if what == "tagger recall" else A.log10_count(x[ok]), acc[ok])["value"]
                ax.scatter(x[ok], acc[ok], s=5, alpha=0.5, color=f"C{i}",
                           label=f"{w}: r={'–' if r is None else f'{r:.2f}'}")
                ax.set(xlabel=what, ylabel="zero-shot accuracy (%)")
        for ax in axes:
            ax.legend(fontsize=6)
        axes[0].set_title("uniform worlds: true counts (r on log10)", fontsize=8)
        axes[1].set_title("measured (integrated) counts (r on log10)", fontsize=8)
        axes[2].set_title("the tagger's per-concept recall", fontsize=8)


def draw_all(dep, out) -> None:
    res, counts, zs = (io.read_json(getattr(dep, k)) for k in ("replay", "counts", "zeroshot"))
    replay(res, out.replay)
    mini(counts, zs, out.mini)
    long_tail(counts, res, out.tail)
    rarest(counts, zs, out.wag)
    control(counts, zs, out.control)
    curve_data(out.accuracy_data, [
        {"log10_frequency": float(np.log10(max(c, 1))), "accuracy": a, "world": w}
        for w in (k for k in zs if k.startswith("seed"))
        for c, a in zip(counts[w]["counts"]["integrated"], zs[w]["acc"])])
