"""attngrad figures."""

from __future__ import annotations

import math

import numpy as np

from llmrepro import io
from llmrepro.report.plots import figure


def runtime(res: dict, out) -> None:
    rows = res["rows"]
    n = [r["n"] for r in rows]
    with figure(out) as (fig, ax):
        ax.loglog(n, [r["exact_s"] for r in rows], "o-", label=f"exact O(n²d), slope {res['slope_exact']:.2f}")
        ax.loglog(n, [r["fast_s"] for r in rows], "s-",
                  label=f"fast, rank {res['rank']}, slope {res['slope_fast']:.2f}")
        t = res["performance_target"]
        ax.loglog([t["n"]] * 2, [t["exact_s"], t["fast_s"]], "k:", lw=0.8)
        ax.annotate(f"{t['speedup']:.0f}× at n={t['n']}", (t["n"], t["fast_s"]), fontsize=7, ha="right",
                    va="bottom")
        if res["crossover_n"]:
            ax.axvline(res["crossover_n"], color="grey", lw=0.6, ls="--")
        ax.set(xlabel="n", ylabel="seconds (median)", title=f"d={res['d']}, B={res['B']}, {res['family']} instances")
        ax.legend(fontsize=7)


def error_vs_b(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        degrees = sorted({r["degree"] for r in res["rows"]})
        for i, g in enumerate(degrees):
            for poly, ls in (("taylor", "-"), ("chebyshev", "--")):
                rs = [r for r in res["rows"] if r["degree"] == g and r["poly"] == poly]
                if rs:
                    ax.semilogy([r["B"] for r in rs], [max(r["rel_err"], 1e-16) for r in rs], ls, marker="o", ms=3,
                                color=f"C{i}", label=f"{poly} g={g} (rank {rs[0]['rank']})")
        ax.axvline(res["sqrt_ln_n"], color="k", lw=0.6, ls=":")
        ax.text(res["sqrt_ln_n"], 1e-12, " √ln n", fontsize=7)
        ax.set(xlabel="entry bound B", ylabel="relative max error of dL/dX", title=f"n={res['n']}, d={res['d']}")
        ax.legend(fontsize=6, ncol=2)


def alpha(res: dict, out) -> None:
    table = res["summary"]["table"]
    cs = sorted(float(c) for c in table)
    ns = sorted({int(n) for t in table.values() for n in t["per_n"]})
    with figure(out) as (fig, ax):
        for n in ns:
            ys = [table[str(c)]["per_n"][str(n)]["alpha"] for c in cs]
            ax.plot(cs, [y if y is not None else np.nan for y in ys], "o-", label=f"n={n}")
            inf = [c for c, y in zip(cs, ys) if y is None]
            ax.plot(inf, [1.45] * len(inf), "x", color=ax.lines[-1].get_color())
        ax.axhline(1.0, color="k", lw=0.6, ls="--")
        ax.text(cs[0], 1.47, "x: no rank ≤ 4n reaches error 1/n", fontsize=7)
        ax.set(xlabel="c = B² / ln n", ylabel="α = ln(rank) / ln n", ylim=(0, 1.6),
               title="rank needed for error 1/n (d ≈ ½ log₂ n)")
        ax.legend(fontsize=7)


def training(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for kind, st in (("exact", "o-"), ("fast", "s-")):
            c = res["runs"][kind]
            ax.plot([p["t"] for p in c], [p["loss"] for p in c], st, ms=2, label=kind)
        ax.set(xlabel="wall-clock seconds (gradient + update)", ylabel="L(X)", yscale="log",
               title=f"gradient descent, n={res['n']}, d={res['d']}, rank {res['rank']}")
        ax.legend()


def heads(res: dict, out) -> None:
    with figure(out) as (fig, ax):
        for name, r in res.items():
            cs = [h["c"] for h in r["heads"]]
            ax.hist(np.log10(cs), bins=30, alpha=0.6, label=f"{name} (n={r['n']}, d_head={r['d_head']})")
        ax.axvline(math.log10(0.3), color="k", ls="--", lw=0.8)
        ax.text(math.log10(0.3), ax.get_ylim()[1] * 0.9, " c = 0.3", fontsize=7)
        ax.set(xlabel="log10 c = log10(B² / ln n), per head", ylabel="heads")
        ax.legend(fontsize=7)


def draw_all(dep, out) -> None:
    for key, fn in (("runtime", runtime), ("error_vs_b", error_vs_b), ("alpha", alpha), ("training", training),
                    ("heads", heads)):
        fn(io.read_json(getattr(dep, key)), getattr(out, key))
