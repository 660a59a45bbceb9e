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


def _mean_ci(vals: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % t interval (0 for one value)."""
    from llmrepro.stats import mean_ci

    s = mean_ci(vals)
    return s["value"], (s["ci"][1] - s["value"]) if s.get("ci") else 0.0


def ppl_vs_bits(ptq: list, qat: list, pre: dict, out) -> None:
    with figure(out, ncols=2, size=(8.5, 3.4)) as (fig, axes):
        for ax, (name, rows) in zip(axes, (("tiny Llama", ptq), ("SmolLM2-135M (PTQ)", pre["ptq"]))):
            fp = next(r["both"] for r in rows if r["method"] == "fp")
            for method in sorted({r["method"] for r in rows} - {"fp"}):
                pts = {}
                for r in rows:
                    if r["method"] == method:
                        pts.setdefault(r["bpw"], []).append(r["both"])
                xs = sorted(pts)
                ms = [_mean_ci(pts[x]) for x in xs]
                ax.errorbar(xs, [v for v, _ in ms], yerr=[e for _, e in ms], fmt="o-", ms=3, capsize=2, label=method)
            if name.startswith("tiny"):
                for method in sorted({r["method"] for r in qat}):
                    rs = [r for r in qat if r["method"] == method]
                    v, e = _mean_ci([r["both"] for r in rs])
                    ax.errorbar([rs[0]["bpw"]], [v], yerr=[e], fmt="*", ms=7, capsize=2, label=f"QAT: {method}")
            ax.axhline(fp, color="k", lw=0.6, ls="--", label="FP")
            ax.set(yscale="linear" if name.startswith("tiny") else "log", title=name,
                   xlabel="bits per weight (incl. scales and cherries)", ylabel="perplexity (test)")
            ax.legend(fontsize=5, ncol=2)


def selection(qat: list, ptq: list, pre: dict, out) -> None:
    """The claims' paired differences: CherryQ against each QAT/GPTQ baseline (tiny, C2 and C3) and
    impact cherries against each other criterion in RTN (SmolLM2, C4); 95 % t intervals over replicates."""
    from llmrepro.cherryq.report import log_ppl, paired

    with figure(out, ncols=2, size=(8.5, 3.2)) as (fig, axes):
        both = qat + [r for r in ptq if r["method"].startswith("gptq")]
        for i, bits in enumerate(sorted({r["bits"] for r in qat})):
            base = [b for b in ("qat", "qat_equal_bits", "gptq", "gptq_equal_bits", "random", "magnitude",
                                "magnitude_prescale") if paired(both, "impact", b, bits)]
            d = [paired(both, "impact", b, bits) for b in base]
            axes[0].errorbar(np.arange(len(base)) + 0.15 * i, [x["value"] for x in d],
                             yerr=[(x["ci"][1] - x["value"]) if x.get("ci") else 0 for x in d], fmt="o", capsize=3,
                             label=f"{bits} bits")
            axes[0].set_xticks(range(len(base)), [b.replace("_", "\n") for b in base], fontsize=6)
        axes[0].axhline(0, color="k", lw=0.6)
        axes[0].set(ylabel="ppl(CherryQ) - ppl(baseline)", title="tiny Llama: CherryQ against each baseline")
        axes[0].legend(fontsize=7)
        rows = pre["ptq"]
        for i, bits in enumerate(sorted({r["bits"] for r in rows if r["method"] == "rtn"})):
            crits = [c for c in ("rtn", "rtn+obd", "rtn+magnitude", "rtn+magnitude_prescale", "rtn+random")
                     if paired(rows, "rtn+impact", c, bits, log_ppl)]
            d = [paired(rows, "rtn+impact", c, bits, log_ppl) for c in crits]
            axes[1].errorbar(np.arange(len(crits)) + 0.15 * i, [x["value"] for x in d],
                             yerr=[(x["ci"][1] - x["value"]) if x.get("ci") else 0 for x in d], fmt="o", capsize=3,
                             label=f"{bits} bits")
            axes[1].set_xticks(range(len(crits)), [c.replace("rtn+", "").replace("_", "\n") for c in crits],
                               fontsize=6)
        axes[1].axhline(0, color="k", lw=0.6)
        axes[1].set(ylabel="log ppl(impact cherries) - log ppl(other)", title="SmolLM2 RTN: impact against others")
        axes[1].legend(fontsize=7)


def draw_all(dep, out) -> None:
    hs, ptq, qat, pre = (io.read_json(getattr(dep, k)) for k in ("hs", "ptq", "qat", "pretrained"))
    sorted_impact(hs, pre, out.curve)
    heterogeneity(hs, pre, out.hs)
    ppl_vs_bits(ptq, qat, pre, out.bits)
    selection(qat, ptq, pre, out.selection)
