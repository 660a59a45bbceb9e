"""freq metrics, claims and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.stats import corr, mean_ci


def _min(values):
    """The smallest value that exists (None where none does)."""
    v = [x for x in values if x is not None]
    return min(v) if v else None


def _max(values):
    v = [x for x in values if x is not None]
    return max(v) if v else None


def _spread(values) -> dict:
    v = np.array([np.nan if x is None else x for x in values], float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()), "n": int(len(v))}


def world_metrics(cnt: dict, zs: dict, min_bin: int) -> dict:
    """One world: accuracy against measured (integrated) and true counts, the paper's binned
    rho and one over bins of at least `min_bin` concepts, the rarest decile, and the
    extraction's fidelity (tagger precision and recall per concept, text recall by form)."""
    c, t, a = cnt["counts"]["integrated"], cnt["counts"]["true_integrated"], zs["acc"]
    rec = cnt["tagger"]["recall"]
    ok = [i for i, r in enumerate(rec) if r is not None]
    return {
        **A.per_concept(c, a), "true": A.per_concept(t, a), "mean_acc": zs["mean_acc"],
        "binned": A.binned_rho(c, a), "binned_min_size": A.binned_rho(c, a, min_size=min_bin),
        "slope_pp_per_decade": A.slope(c, a), "rare": A.rare_gap(c, a), "decades": cnt["decades"],
        "tagger_recall": _spread(rec), "tagger_precision": _spread(cnt["tagger"]["precision"]),
        "text_precision": _spread(cnt["text"]["precision"]),
        "r_tagger_recall_acc": corr([rec[i] for i in ok], [a[i] for i in ok])["value"],
        "recall": cnt["recall"], "spearman_integrated_vs_true": cnt["spearman_integrated_vs_true"],
        "zero_integrated": cnt["zero_integrated"], "misalignment_degree": cnt["misalignment_degree"],
    }


def _columns(counts: dict, zs: dict, name: str, *keys: str) -> tuple[np.ndarray, ...]:
    """Per-concept columns of one world, over the concepts the tagger could be scored on."""
    cols = {"measured": A.log10_count(counts[name]["counts"]["integrated"]),
            "true": A.log10_count(counts[name]["counts"]["true_integrated"]),
            "raw_measured": np.asarray(counts[name]["counts"]["integrated"], float),
            "acc": np.asarray(zs[name]["acc"], float),
            "recall": np.array([np.nan if r is None else r for r in counts[name]["tagger"]["recall"]])}
    ok = np.isfinite(cols["recall"]) if "recall" in keys else np.ones(len(cols["acc"]), bool)
    return tuple(cols[k][ok] for k in keys)


def _r_diff(m, t, a):
    return A.pearson_rows(m, a) - A.pearson_rows(t, a)


def mini_metrics(counts: dict, zs: dict, seeds: list[int], control_seeds: list[int], min_bin: int = 5) -> dict:
    """Intervals are Student-t over worlds of the per-world statistic (A.worlds_ci)."""
    runs, ctrl = [f"seed{s}" for s in seeds], [f"uniform{s}" for s in control_seeds]
    per = {name: world_metrics(counts[name], zs[name], min_bin) for name in [*runs, *ctrl]}
    cols = lambda names, *keys: [[_columns(counts, zs, n, *keys) for n in names]]
    everywhere = [*runs, *ctrl]
    return {
        "per_world": per,
        # C2: the Zipf worlds, measured counts; t-interval over worlds
        "slope_pp_per_decade": A.worlds_slope_ci([(counts[r]["counts"]["integrated"], zs[r]["acc"]) for r in runs]),
        "pearson_r": A.worlds_ci(cols(runs, "measured", "acc"), A.pearson_rows),
        "binned_rho": mean_ci([per[r]["binned"]["value"] for r in runs]),
        "binned_rho_min_size": mean_ci([per[r]["binned_min_size"]["value"] for r in runs]),
        "empty_bins": [per[r]["binned"]["empty_bins"] for r in runs],
        "min_bin": min_bin,
        "mean_acc": mean_ci([per[r]["mean_acc"] for r in runs]),
        # C3: the rarest decile's gap, in the Zipf worlds and beyond the matched uniform controls
        "rare_gap": A.worlds_ci(cols(runs, "raw_measured", "acc"), A.rare_gap_rows),
        "rare_gap_control": A.worlds_ci(cols(ctrl, "raw_measured", "acc"), A.rare_gap_rows),
        "rare_gap_excess": A.worlds_ci(cols(runs, "raw_measured", "acc") + cols(ctrl, "raw_measured", "acc"),
                                       A.rare_gap_rows, weights=[1, -1]),
        # C4: the uniform controls, against the generator's true counts
        "uniform": {
            "pearson_r_true": A.worlds_ci(cols(ctrl, "true", "acc"), A.pearson_rows),
            "pearson_r_measured": A.worlds_ci(cols(ctrl, "measured", "acc"), A.pearson_rows),
            "mean_acc": mean_ci([per[r]["mean_acc"] for r in ctrl]),
            "acc_minus_zipf": float(np.mean([per[r]["mean_acc"] for r in ctrl])
                                    - np.mean([per[r]["mean_acc"] for r in runs])),
        },
        # C5: extraction against the generator's truth, Zipf and uniform worlds alike
        "extraction": {
            "spearman_min": _min(per[r]["spearman_integrated_vs_true"] for r in runs),
            "recall_lemmatized_plural_min": _min(per[r]["recall"]["lemmatized_plural"] for r in everywhere),
            "recall_lemmatized_singular_min": _min(per[r]["recall"]["lemmatized_singular"] for r in everywhere),
            "recall_lowercased_plural_max": _max(per[r]["recall"]["lowercased_plural"] for r in everywhere),
            "tagger_recall_median": {r: per[r]["tagger_recall"]["median"] for r in everywhere},
            "tagger_recall_min": _min(per[r]["tagger_recall"]["min"] for r in everywhere),
            "tagger_precision_median": {r: per[r]["tagger_precision"]["median"] for r in everywhere},
            "text_precision_min": _min(per[r]["text_precision"]["min"] for r in everywhere),
            "misalignment_degree": {r: per[r]["misalignment_degree"] for r in everywhere},
            "zero_integrated": {r: per[r]["zero_integrated"] for r in everywhere},
        },
        # C6: the tagger-recall confound, in the uniform controls
        "confound": {
            "r_tagger_recall_acc": A.worlds_ci(cols(ctrl, "recall", "acc"), A.pearson_rows),
            "r_measured_minus_true": A.worlds_ci(cols(ctrl, "measured", "true", "acc"), _r_diff),
        },
    }


def replay_metrics(rp: dict) -> dict:
    keep = ("set", "pretrain", "model", "prompt", "count_type", "drop", "binned_rho", "legend_rho", "figure", "read",
            "abs_diff", "empty_bins", "pearson_r", "spearman", "slope_pp_per_decade", "n", "zero_counts")
    pairs = {k: {f: v[f] for f in keep} for k, v in rp["pairs"].items()}
    slopes = [v["slope_pp_per_decade"]["value"] for v in pairs.values() if v["set"] != "control"]
    rs = [v["pearson_r"] for v in pairs.values() if v["set"] != "control"]
    return {"pairs": pairs, "sets": rp["sets"],
            "slope_range": [min(slopes), max(slopes)], "pearson_r_range": [min(rs), max(rs)],
            "let_it_wag": {k: rp["let_it_wag"][k] for k in ("models", "mean_drop_pp")}}


def rows(metrics: dict) -> list[tuple[str, str, str]]:
    rp, mini = metrics["replay"], metrics["mini"]
    out = [(f"binned ρ, {v['pretrain']} {v['model']} ({v['prompt']} prompt)", f"{fmt(v['legend_rho'])} "
            f"(`{Path(v['figure']).name}`)", f"{fmt(v['binned_rho'])} (per-concept r {fmt(v['pearson_r'])}, "
            f"{fmt(v['slope_pp_per_decade']['value'])} pp/decade)") for v in rp["pairs"].values()]
    lo, hi = rp["slope_range"]
    u = mini["uniform"]
    out += [("Let It Wag! drop from ImageNet", "≈ 21 pp", f"{fmt(rp['let_it_wag']['mean_drop_pp'])} pp over "
             f"{rp['let_it_wag']['models']} models (replay)"),
            ("Zipf-CLIP: per-concept r / binned ρ (paper-style)", "–",
             f"{fmt(mini['pearson_r']['value'])} / {fmt(mini['binned_rho']['value'])}"),
            ("Zipf-CLIP: slope", f"{lo:.1f}–{hi:.1f} pp/decade (replay, classification pairs)",
             f"{fmt(mini['slope_pp_per_decade']['value'])} pp/decade; not comparable across regimes, "
             "compare signs and r"),
            ("Zipf-CLIP: uniform controls, r against true / measured counts", "– (not runnable on web data)",
             f"{fmt(u['pearson_r_true']['value'])} / {fmt(u['pearson_r_measured']['value'])} at mean accuracy "
             f"{fmt(u['mean_acc']['value'])} % (Zipf worlds: {fmt(mini['mean_acc']['value'])} %)")]
    return out


def bins_note(mini: dict) -> str:
    return (f"Paper-style binned ρ over the Zipf worlds leaves out {sum(mini['empty_bins'])} empty bin(s) in all "
            f"(per world: {', '.join(map(str, mini['empty_bins']))}); with bins of at least {mini['min_bin']} "
            f"concepts it is {fmt(mini['binned_rho_min_size']['value'])}.")


def near_threshold(metrics: dict, claims, share: float = 0.25) -> list[str]:
    """Interval checks with a bound closer to a threshold than `share` of the interval's width:
    verdicts that another seed set, or another CPU, can move."""
    from llmrepro.pipeline.claims import lookup_metric

    out = []
    for c in claims.claims:
        for k in c.checks:
            m = lookup_metric(metrics, k.metric)
            ci = m.get("ci") if k.on == "ci" and isinstance(m, dict) else None
            if not ci:
                continue
            thr = tuple(k.threshold) if k.op == "in" else (k.threshold,)
            if min(abs(b - t) for b in ci for t in thr) < share * (ci[1] - ci[0]):
                out.append(f"{c.id} sits near its threshold: {k.label} [{fmt(ci[0])}, {fmt(ci[1])}] against "
                           f"{' and '.join(fmt(t) for t in thr)}; another seed set can move its verdict.")
    return out


def report(ctx) -> None:
    from llmrepro.freq.claims import CHANGES, CLAIMS

    p = ctx.params.freq.mini
    rp = io.read_json(ctx.dep.replay)
    mini = mini_metrics(io.read_json(ctx.dep.counts), io.read_json(ctx.dep.zeroshot), p.seeds, p.control.seeds,
                        p.min_bin)
    metrics = {"replay": replay_metrics(rp), "mini": mini}
    publish(ctx, Report(
        paper="freq", metrics=metrics, claims=CLAIMS, scale=ctx.params.common.scale, changes=CHANGES,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows(metrics),
        notes=[bins_note(mini), *near_threshold(metrics, CLAIMS)],
        figures=[("replay_log_linear.png", "Replay: accuracy against pretraining frequency, binned as in the paper "
                  "(lines) and per concept (dots), from the released data"),
                 ("mini_log_linear.png", "Zipf-CLIP: per-concept zero-shot accuracy against counted frequency, "
                  "binned means with their 95% t-interval over concepts per bin"),
                 ("long_tail.png", "Long tail: sorted normalised concept frequency"),
                 ("rarest_decile.png", "Rarest decile against all concepts, Zipf worlds and uniform controls "
                  "(Let It Wag! analogue); bars: 95% bootstrap interval over concepts"),
                 ("uniform_control.png", "Causal control: uniform concept frequencies at matched accuracy, "
                  "against true and measured counts; and the tagger's recall against accuracy")]))
