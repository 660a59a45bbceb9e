"""freq metrics, claims and page."""

from __future__ import annotations

from pathlib import Path

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.stats import mean_ci


def mini_metrics(counts: dict, zs: dict, seeds: list[int]) -> dict:
    runs = [f"seed{s}" for s in seeds]
    per = {}
    for name in [*runs, "uniform"]:
        c, a = counts[name]["counts"]["integrated"], zs[name]["acc"]
        per[name] = {**A.per_concept(c, a), "binned_rho": A.binned_rho(c, a), "mean_acc": zs[name]["mean_acc"],
                     "slope_pp_per_decade": A.slope_ci(c, a), "rare": A.rare_gap(c, a),
                     "decades": counts[name]["decades"]}
    ex = [counts[r] for r in runs]
    return {
        "per_world": per,
        "slope_pp_per_decade": A.pooled_slope_ci([(counts[r]["counts"]["integrated"], zs[r]["acc"]) for r in runs]),
        "pearson_r": mean_ci([per[r]["pearson_r"] for r in runs]),
        "binned_rho": mean_ci([per[r]["binned_rho"] for r in runs]),
        "rare_gap": mean_ci([per[r]["rare"]["gap"] for r in runs]),
        "mean_acc": mean_ci([per[r]["mean_acc"] for r in runs]),
        "uniform": {"pearson_r": per["uniform"]["pearson_r"], "abs_pearson_r": abs(per["uniform"]["pearson_r"]),
                    "mean_acc": per["uniform"]["mean_acc"]},
        "extraction": {
            "spearman_min": min(e["spearman_integrated_vs_true"] for e in ex),
            "recall_lemmatized_min": min(e["recall"]["lemmatized"] for e in ex),
            "recall_lowercased_max": max(e["recall"]["lowercased"] for e in ex),
            "recall_gain_min": min(e["recall"]["lemmatized"] - e["recall"]["lowercased"] for e in ex),
            "misalignment_degree": [e["misalignment_degree"] for e in ex],
            "zero_integrated": [e["zero_integrated"] for e in ex],
        },
    }


def report(ctx) -> None:
    from llmrepro.freq.claims import CLAIMS

    rp = io.read_json(ctx.dep.replay)
    mini = mini_metrics(io.read_json(ctx.dep.counts), io.read_json(ctx.dep.zeroshot), ctx.params.freq.mini.seeds)
    metrics = {
        "replay": {"pairs": {k: {f: v[f] for f in ("binned_rho", "legend_rho", "abs_diff", "pearson_r", "spearman",
                                                    "slope_pp_per_decade", "n", "zero_counts")}
                             for k, v in rp["pairs"].items()},
                   "max_abs_diff": rp["max_abs_diff"],
                   "let_it_wag": {k: rp["let_it_wag"][k] for k in ("models", "mean_drop_pp")}},
        "mini": mini,
    }
    rows = [(f"binned ρ, {k}", fmt(v["legend_rho"]), f"{v['binned_rho']:.3f} (per-concept r {v['pearson_r']:.2f}, "
             f"{v['slope_pp_per_decade']['value']:.1f} pp/decade)") for k, v in metrics["replay"]["pairs"].items()]
    rows += [("Let It Wag! drop from ImageNet", "≈ 21 pp", f"{rp['let_it_wag']['mean_drop_pp']:.1f} pp over "
              f"{rp['let_it_wag']['models']} models (replay)"),
             ("mini: per-concept r / binned ρ", "–", f"{mini['pearson_r']['value']:.2f} / {mini['binned_rho']['value']:.2f}"),
             ("mini: slope", "3-11 pp/decade (replay)", f"{mini['slope_pp_per_decade']['value']:.1f} pp/decade; "
              "not comparable across regimes, compare signs and r"),
             ("mini: uniform-frequency control r", "– (not runnable on web data)", f"{mini['uniform']['pearson_r']:.2f}")]
    publish(ctx, Report(
        paper="freq", metrics=metrics, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows,
        figures=[("replay_log_linear.png", "Replay: accuracy against pretraining frequency, binned as in the paper "
                  "(lines) and per concept (dots), from the released data"),
                 ("mini_log_linear.png", "Zipf-CLIP: per-concept zero-shot accuracy against counted frequency"),
                 ("long_tail.png", "Long tail: sorted normalised concept frequency"),
                 ("rarest_decile.png", "Rarest decile against all concepts (Let It Wag! analogue)"),
                 ("uniform_control.png", "Causal control: the same model trained on uniform concept frequencies")]))
