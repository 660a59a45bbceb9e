"""cherryq metrics, claims, Table 1 layout and page."""

from __future__ import annotations

from pathlib import Path


from llmrepro import io
from llmrepro.report.pages import Report, fmt, write_report
from llmrepro.stats import mean_ci

HS_KEYS = ("median_impact", "median_magnitude", "median_impact_init", "frac_impact_gt_magnitude",
           "frac_impact_gt_init", "median_ratio_to_init")


def _row(rows: list[dict], method: str, bits: int) -> dict:
    return next(r for r in rows if r["method"] == method and r["bits"] == bits)


def qat_metrics(runs: list[dict], ptq_rows: list[dict], bits: int) -> dict:
    """Per method: mean ppl over seeds; paired differences to CherryQ ("impact")."""
    by: dict[str, dict[int, float]] = {}
    for r in runs:
        if r["bits"] == bits:
            by.setdefault(r["method"], {})[r["seed"]] = r["both"]
    seeds = sorted(set.intersection(*(set(v) for v in by.values())))
    paired = lambda a, b: mean_ci([by[a][s] - by[b][s] for s in seeds]) if a in by and b in by else None
    fp, gptq = _row(ptq_rows, "fp", 16)["both"], _row(ptq_rows, "gptq", bits)["both"]
    out: dict = {m: mean_ci([v[s] for s in seeds]) for m, v in by.items()}
    out.update(seeds=seeds, cherryq_minus_qat=paired("impact", "qat"),
               cherryq_minus_gptq=mean_ci([by["impact"][s] - gptq for s in seeds]),
               impact_minus_random=paired("impact", "random"), impact_minus_magnitude=paired("impact", "magnitude"))
    q, c = out["qat"]["value"], out["impact"]["value"]
    out["qat_gap_closed"] = (q - c) / (q - fp) if q != fp else None
    return out


def metrics(dep, qat_bits: list[int]) -> dict:
    hs, ptq, qat, sweep, pre = (io.read_json(getattr(dep, k)) for k in ("hs", "ptq", "qat", "sweep", "pretrained"))
    fp = _row(ptq, "fp", 16)["both"]
    per_bits = {f"b{b}": {"rtn_ratio": _row(ptq, "rtn", b)["both"] / fp,
                          "gptq_minus_rtn": _row(ptq, "gptq", b)["both"] - _row(ptq, "rtn", b)["both"]}
                for b in sorted({r["bits"] for r in ptq if r["method"] == "rtn"})}
    return {
        "hs": {"tiny": {k: hs.get(k) for k in HS_KEYS}, "pretrained": {k: pre["hs"].get(k) for k in HS_KEYS}},
        "ptq_tiny": {"rows": ptq, **per_bits},
        "ptq_pretrained": {"rows": pre["ptq"]},
        "qat": {f"b{b}": qat_metrics(qat, ptq, b) for b in qat_bits},
        "sweep": sweep,
    }


def table1(m: dict, bits: int) -> str:
    tiny, pre = m["ptq_tiny"]["rows"], m["ptq_pretrained"]["rows"]
    q = m["qat"][f"b{bits}"]
    pre_bits = bits if any(r["bits"] == bits for r in pre) else max(r["bits"] for r in pre if r["method"] != "fp")
    cell = lambda rows, meth, b: (f"{_row(rows, meth, b)['shakespeare']:.2f} / {_row(rows, meth, b)['kjv']:.2f}"
                                  if any(r["method"] == meth and r["bits"] == b for r in rows) else "–")
    qcell = lambda meth: f"{q[meth]['value']:.3f} ± {q[meth]['sd'] or 0:.3f}" if meth in q else "–"
    lines = [f"## Table 1 layout: perplexity at {bits} bits (Shakespeare / KJV test; QAT rows: both, mean ± sd "
             "over seeds)", "",
             f"| method | tiny Llama | SmolLM2-135M, {pre_bits}-bit PTQ "
             "| paper, LLaMA2-7B 3-bit g128 (C4) |", "|---|---|---|---|"]
    lines.append(f"| FP | {cell(tiny, 'fp', 16)} | {cell(pre, 'fp', 16)} | 6.97 |")
    lines.append(f"| QAT | {qcell('qat')} | – | 9.25 |")
    lines.append(f"| GPTQ | {cell(tiny, 'gptq', bits)} | {cell(pre, 'gptq', pre_bits)} | 8.28 |")
    lines.append(f"| RTN | {cell(tiny, 'rtn', bits)} | {cell(pre, 'rtn', pre_bits)} | – |")
    lines.append(f"| RTN + impact cherries (PTQ) | {cell(tiny, 'rtn+impact', bits)} | "
                 f"{cell(pre, 'rtn+impact', pre_bits)} | – |")
    lines.append(f"| RTN + magnitude cherries (PTQ) | {cell(tiny, 'rtn+magnitude', bits)} | "
                 f"{cell(pre, 'rtn+magnitude', pre_bits)} | – |")
    lines.append(f"| **CherryQ** (QAT + impact cherries) | {qcell('impact')} | – | 7.39 |")
    lines.append(f"| QAT + random cherries | {qcell('random')} | – | – |")
    lines.append(f"| QAT + magnitude cherries | {qcell('magnitude')} | – | – |")
    return "\n".join(lines)


def report(ctx) -> None:
    from llmrepro.cherryq.claims import CLAIMS

    qat_bits = sorted(ctx.params.cherryq.tiny.qat.methods, reverse=True)
    bits = qat_bits[0]  # the paper's width leads the table
    m = metrics(ctx.dep, qat_bits)
    hs = m["hs"]
    rows = [("HS, impact vs magnitude (median)", "mostly 1.5-10 vs 1.1-1.5",
             f"tiny {hs['tiny']['median_impact']:.2f} vs {hs['tiny']['median_magnitude']:.2f}; SmolLM2 "
             f"{hs['pretrained']['median_impact']:.2f} vs {hs['pretrained']['median_magnitude']:.2f}"),
            ("HS of impact at random init (median)", "–",
             f"tiny {hs['tiny']['median_impact_init']:.2f}; SmolLM2 {hs['pretrained']['median_impact_init']:.2f}"),
            *[(f"RTN {b}-bit cost (tiny)", "–", f"{100 * (m['ptq_tiny'][f'b{b}']['rtn_ratio'] - 1):.1f} % perplexity")
              for b in qat_bits],
            *[(f"QAT gap closed by CherryQ, {b} bits", "82 % (7B, 3-bit g128, C4)",
               fmt(m["qat"][f"b{b}"]["qat_gap_closed"])) for b in qat_bits]]
    write_report(Report(
        paper="cherryq", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows,
        extra="\n\n".join(table1(m, b) for b in qat_bits),
        figures=[("sorted_impact.png", "Sorted impact of one matrix (log scale): trained, random init, and |w|"),
                 ("heterogeneity.png", "Heterogeneity score per matrix, impact against magnitude (Fig. 2 analogue)"),
                 ("ppl_vs_bits.png", "Perplexity against bits per weight, per method"),
                 ("cherry_fraction.png", "QAT perplexity against the cherry fraction, impact vs random")]),
        ctx.out.metrics, ctx.out.claims, ctx.out.readme)
