"""attngrad metrics, claims and page."""

from __future__ import annotations

from pathlib import Path

from llmrepro import io
from llmrepro.report.pages import Report, fmt, publish


def metrics(dep) -> dict:
    rt, eb, al, tr, hd = (io.read_json(getattr(dep, k)) for k in ("runtime", "error_vs_b", "alpha", "training",
                                                                  "heads"))
    return {
        "runtime": {k: rt[k] for k in ("d", "B", "degree", "rank", "family", "slope_exact", "slope_fast",
                                       "crossover_n", "max_rel_err", "fast_wins_from_crossover", "c_max")}
        | {"rows": [{k: r[k] for k in ("n", "exact_s", "fast_s", "rel_err")} for r in rt["rows"]]},
        "performance_target": rt["performance_target"],
        "error_vs_b": eb,
        "alpha": al["summary"],
        "training": {k: v for k, v in tr.items() if k != "runs"},
        "heads": {name: {k: v for k, v in r.items() if k != "heads"} for name, r in hd.items()},
    }


def _alpha_table(al: dict) -> str:
    table = al["table"]
    ns = list(next(iter(table.values()))["per_n"])
    lines = ["| c | " + " | ".join(f"n={n}" for n in ns) + " |", "|---" * (len(ns) + 1) + "|"]
    for c, t in table.items():
        cells = [fmt(v["alpha"]) if v["alpha"] is not None else "none ≤ 4n" for v in t["per_n"].values()]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(ctx) -> None:
    from llmrepro.attngrad.claims import CLAIMS

    m = metrics(ctx.dep)
    t = m["performance_target"]
    rt = m["runtime"]
    rows = [
        ("exact gradient cost", "O(n²d) (Lemma C.8)", f"log-log slope {rt['slope_exact']:.2f}"),
        ("fast gradient cost", "n^{1+o(1)} for d = O(log n), B = o(√log n)",
         f"slope {rt['slope_fast']:.2f} at rank {rt['rank']} (Taylor degree {rt['degree']}, d={rt['d']}, "
         f"B={rt['B']})"),
        (f"speed-up at n={t['n']}", "–", f"{t['speedup']:.0f}× (target ≥ {t['target']:.0f}×), error "
         f"{t['max_rel_err']:.1e}"),
        ("where the threshold sits", "B = Θ(√log n)", "α reaches 1 near c = B²/ln n ≈ 0.3 (Taylor features)"),
        ("real heads (SmolLM2, n=512)", "–",
         f"c from {m['heads']['smollm2/shakespeare']['c_min']:.0f} to {m['heads']['smollm2/shakespeare']['c_max']:.0f}"),
    ]
    extra = "## α(c): the rank exponent needed for error 1/n (mean over seeds)\n\n" + _alpha_table(m["alpha"])
    publish(ctx, Report(
        paper="attngrad", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows, extra=extra,
        figures=[("runtime.png", "(a) Exact and fast gradient time against n (log-log)"),
                 ("error_vs_b.png", "(b1) Relative error against B at fixed rank budgets"),
                 ("alpha_vs_c.png", "(b2) Rank exponent α against c = B²/ln n, one line per n"),
                 ("training.png", "(c) Gradient descent with the fast and the exact gradient"),
                 ("real_heads.png", "Where SmolLM2's heads sit in c")]))
