"""attngrad figures."""

from __future__ import annotations

import math

import numpy as np

from llmrepro import io
from llmrepro.report.pages import fmt
from llmrepro.report.plots import curve_data, figure


def runtime(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for kind, st, what in (("exact", "o-", "exact O(n²d)"), ("fast", "s-", f"fast, rank {res['rank']}")):
            rows = res["rows"] + (res["fast_rows"] if kind == "fast" else [])
            n = [r["n"] for r in rows]
            runs = np.array([r[kind]["cpu_runs"] for r in rows])
            med = np.array([r[kind]["cpu_s"] for r in rows])
            ax.errorbar(n, med, yerr=[med - runs.min(1), runs.max(1) - med], fmt=st, ms=4, capsize=2,
                        label=f"{what}, slope {fmt(res['slope_' + kind]['value'], 3)}")
            ax.plot(n, [r[kind]["wall_s"] for r in rows], st[0] + ":", ms=3, alpha=0.5, color=ax.lines[-1].get_color(),
                    label=f"{what}, wall time, slope {fmt(res['slope_' + kind + '_wall']['value'], 3)}")
        t = res["performance_target"]
        ax.loglog([t["n"]] * 2, [t["exact_cpu_s"], t["fast_cpu_s"]], "k:", lw=0.8)
        ax.annotate(f"{t['speedup_cpu']:.0f}× at n={t['n']}", (t["n"], t["fast_cpu_s"]), fontsize=7, ha="right",
                    va="bottom")
        if res["crossover_n"]:
            ax.axvline(res["crossover_n"], color="grey", lw=0.6, ls="--")
        ax.set(xscale="log", yscale="log", xlabel="n", ylabel="CPU s (least of repeats; bars: to the slowest)",
               title=f"d={res['d']}, B={res['B']}, {res['family']} instances")
        ax.legend(fontsize=7)


def error_vs_b(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        degrees = sorted({r["degree"] for r in res["rows"]})
        for i, g in enumerate(degrees):
            for poly, ls in (("taylor", "-"), ("chebyshev", "--")):
                rs = [r for r in res["rows"] if r["degree"] == g and r["poly"] == poly]
                if rs:  # no value: the polynomial's row sums were not all positive (x at 1)
                    ax.semilogy([r["B"] for r in rs], [np.nan if r["rel_err"] is None else max(r["rel_err"], 1e-16)
                                                       for r in rs], ls, marker="o", ms=3,
                                color=f"C{i}", label=f"{poly} g={g} (rank {rs[0]['rank']})")
                    bad = [r["B"] for r in rs if r["rel_err"] is None]
                    ax.plot(bad, [1.0] * len(bad), "x", color=f"C{i}")
        ax.axvline(res["sqrt_ln_n"], color="k", lw=0.6, ls=":")
        ax.text(res["sqrt_ln_n"], 1e-12, " √ln n", fontsize=7)
        ax.set(xlabel="entry bound B", ylabel="relative max error of dL/dX (x: no softmax)",
               title=f"n={res['n']}, d={res['d']}, {res.get('family', 'hard')} instances")
        ax.legend(fontsize=6, ncol=2)


def alpha(res: dict, out) -> None:
    """alpha(c) per n (colour) and method (line style), mean over seeds, with the flop
    break-even alpha*(n) as a dotted line; x marks a c where no rank <= factor*n reaches 1/n."""
    sm = res["summary"]
    factor = res["max_rank_factor"]
    with figure(out, size=(5.6, 4.0)) as (fig, ax):
        order = {"taylor": 0, "chebyshev": 1}
        for p, (poly, v) in enumerate(sorted(sm["polys"].items(), key=lambda kv: order.get(kv[0], 9))):
            cs = sorted(float(c) for c in v["table"])
            ns = sorted(int(n) for n in next(iter(v["table"].values())))
            for i, n in enumerate(ns):
                ys = [v["table"][str(c)][str(n)]["alpha"] for c in cs]
                lo = [v["table"][str(c)][str(n)]["worst_high"] for c in cs]
                hi = [v["table"][str(c)][str(n)]["worst_low"] for c in cs]
                y = np.array([np.nan if a is None else a for a in ys])
                err = [np.nan_to_num(y - np.array([np.nan if a is None else a for a in lo])).clip(0),
                       np.nan_to_num(np.array([np.nan if a is None else a for a in hi]) - y).clip(0)]
                ax.errorbar(cs, y, yerr=err, fmt="o-" if p == 0 else "s--", ms=3, capsize=2, color=f"C{i}",
                            label=f"{poly}, n={n}")
                inf = [c for c, a in zip(cs, ys) if a is None]
                ax.plot(inf, [1.12 + 0.04 * p] * len(inf), "x", color=f"C{i}")
                if p == 0:
                    ax.axhline(sm["alpha_star"][str(n)], color=f"C{i}", lw=0.8, ls=":")
        cap = "n" if factor == 1 else f"{factor:g}n"
        ax.text(cs[0], 1.19, f"x: no rank ≤ {cap} reaches error 1/n; dotted: break-even α* = 1 − ln d/ln n",
                fontsize=6)
        ax.set(xscale="log", xlabel="c = B² / ln n", ylabel="α = ln(rank) / ln n", ylim=(0, 1.25),
               title="rank for error 1/n, d = round(½ log₂ n)")
        ax.legend(fontsize=6, ncol=2)


def training(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for kind, st in (("exact", "o-"), ("fast", "s-")):
            c = res["runs"][kind]
            ax.plot([p["t"] for p in c], [p["loss"] for p in c], st, ms=2, label=kind)
        ax.axhline(res["target_loss"], color="k", lw=0.6, ls=":")
        ax.text(0, res["target_loss"], f" {res['target_factor']:g}× exact final loss", fontsize=7, va="bottom")
        ax.set(xlabel="CPU seconds (gradient + update)", ylabel="L(X)", yscale="log",
               title=f"gradient descent, n={res['n']}, d={res['d']}, Taylor rank up to {res['max_rank']}")
        ax.legend()


def heads(res: dict, out, hard_c: float) -> None:
    with figure(out) as (fig, ax):
        for name, r in res.items():
            for key, what in (("c", "entry bound"), ("c_balanced", "balanced max|q|·max|k|·√d"),
                              ("c_logit", "largest causal logit after RoPE")):
                cs = [max(h[key], 1e-3) for h in r["heads"]]
                ax.hist(np.log10(cs), bins=30, alpha=0.5, label=f"{name}: {what}")
            ax.set_title(f"per head, n={r['n']}, d_head={r['d_head']}", fontsize=8)
        ax.axvline(math.log10(hard_c), color="k", ls="--", lw=0.8)
        ax.text(math.log10(hard_c), ax.get_ylim()[1] * 0.9, f" c = {hard_c:g}", fontsize=7)
        ax.set(xlabel="log10 c, c = (exponent size) / ln n", ylabel="heads")
        ax.legend(fontsize=6)


def draw_all(dep, out) -> None:
    res = {k: io.read_json(getattr(dep, k)) for k in ("runtime", "error_vs_b", "alpha", "training", "heads")}
    for key, fn in (("runtime", runtime), ("error_vs_b", error_vs_b), ("alpha", alpha), ("training", training)):
        fn(res[key], getattr(out, key))
    heads(res["heads"], out.heads, res["alpha"]["summary"]["hard_c"])
    curve_data(out.runtime_data, [{"n": r["n"], "gradient": kind, "cpu_s": r[kind]["cpu_s"]}
                                  for r in res["runtime"]["rows"] + res["runtime"]["fast_rows"]
                                  for kind in ("exact", "fast") if kind in r])
