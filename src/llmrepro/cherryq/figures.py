"""cherryq figures."""

from __future__ import annotations

import numpy as np

from llmrepro import io
from llmrepro.report.plots import figure


def sorted_impact(hs: dict, pre: dict, out) -> None:
    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, axes):
        for ax, (name, table) in zip(axes, (("tiny Llama", hs), ("SmolLM2-135M", pre["hs"]))):
            c = table["curves"]
            for key, style in (("trained", "-"), ("init", "--"), ("magnitude", ":")):
                pts = np.array(c[key])
                ax.plot(pts[:, 0] + 1, pts[:, 1] / pts[:, 1].max(), style, label=key if key != "trained" else
                        "impact (trained)")
            ax.set(xscale="log", yscale="log", xlabel="rank", ylabel="score / max", title=f"{name}: {c['matrix']}")
            ax.legend(fontsize=7)


def heterogeneity(hs: dict, pre: dict, out) -> None:
    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, axes):
        for ax, (name, table) in zip(axes, (("tiny Llama", hs), ("SmolLM2-135M", pre["hs"]))):
            rows = table["rows"]
            x = np.arange(len(rows))
            ax.plot(x, [r["impact"] for r in rows], "o", ms=3, label="impact")
            ax.plot(x, [r["magnitude"] for r in rows], "s", ms=3, label="magnitude")
            ax.plot(x, [r["impact_init"] for r in rows], "x", ms=3, label="impact, random init")
            ax.set(yscale="log", xlabel="matrix (layer order)", ylabel="heterogeneity score", title=name)
            ax.legend(fontsize=7)


def ppl_vs_bits(ptq: list, qat: list, pre: dict, out) -> None:
    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, axes):
        for ax, (name, rows) in zip(axes, (("tiny Llama", ptq), ("SmolLM2-135M (PTQ)", pre["ptq"]))):
            fp = next(r["both"] for r in rows if r["method"] == "fp")
            for method in sorted({r["method"] for r in rows} - {"fp"}):
                rs = sorted((r for r in rows if r["method"] == method), key=lambda r: r["bpw"])
                ax.plot([r["bpw"] for r in rs], [r["both"] for r in rs], "o-", ms=3, label=method)
            if name.startswith("tiny"):
                for method, marker in (("qat", "^"), ("impact", "*")):
                    rs = [r for r in qat if r["method"] == method]
                    if rs:  # QAT rows sit at their nominal width, nudged apart
                        ax.plot([r["bits"] + (0.2 if method == "impact" else 0.1) for r in rs],
                                [r["both"] for r in rs], marker, ms=6,
                                label="CherryQ (QAT+impact)" if method == "impact" else "QAT")
            ax.axhline(fp, color="k", lw=0.6, ls="--", label="FP")
            ax.set(yscale="log", xlabel="bits per weight (incl. scales and cherries)", ylabel="perplexity (test)",
                   title=name)
            ax.legend(fontsize=6)


def sweep(runs: list, out) -> None:
    with figure(out) as (fig, ax):
        for crit in sorted({r["method"] for r in runs}):
            rs = sorted((r for r in runs if r["method"] == crit), key=lambda r: r["fraction"])
            ax.plot([r["fraction"] for r in rs], [r["both"] for r in rs], "o-", label=crit)
        ax.set(xscale="log", xlabel="cherry fraction per row", ylabel="perplexity after QAT", title="cherry budget")
        ax.legend(fontsize=7)


def draw_all(dep, out) -> None:
    hs, ptq, qat, sw, pre = (io.read_json(getattr(dep, k)) for k in ("hs", "ptq", "qat", "sweep", "pretrained"))
    sorted_impact(hs, pre, out.curve)
    heterogeneity(hs, pre, out.hs)
    ppl_vs_bits(ptq, qat, pre, out.bits)
    sweep(sw, out.sweep)
