"""sami metrics (over seeds), claims and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.sami import world as W
from llmrepro.sami.verdicts import CURVES, KINDS, STAGE_OF, iterations, load
from llmrepro.stats import bootstrap_ci, mean_ci

BRIEF, LONG, ALL, SOME = [0, 1], [2, 3], [0, 2], [1, 3]  # constitution indices by side of each principle


def gaps(rec: dict) -> dict[str, np.ndarray]:
    """Per held-out post, each principle's link: fillers per fact under `long` minus under
    `brief`, and coverage under `all` minus under `some` (both > 0 in the principle's direction)."""
    f, c = rec["cons_fillers"], rec["cons_coverage"]
    return {"brevity": f[:, LONG].mean(1) - f[:, BRIEF].mean(1), "coverage": c[:, ALL].mean(1) - c[:, SOME].mean(1)}


def model_stats(rec: dict, base: dict) -> dict:
    """One model's scalars; perplexities relative to the same seed's base."""
    g = gaps(rec)
    return {"mi": float(rec["mi"].mean()), "brevity_gap": float(g["brevity"].mean()),
            "coverage_gap": float(g["coverage"].mean()),
            "fillers_desired": float(rec["desired_fillers"].mean()), "coverage_desired": float(rec["desired_coverage"].mean()),
            "errors_desired": float(rec["desired_errors"].mean()), "valid": float(rec["desired_valid"].mean()),
            "length": float(rec["desired_length"].mean()),
            "ppl_copy_ratio": float(rec["ppl_copy"] / base["ppl_copy"]),
            "ppl_corpus_ratio": float(rec["ppl_corpus"] / base["ppl_corpus"]),
            "ppl_post_ratio": float(rec["ppl_post"] / base["ppl_post"]),
            "adherence": {W.constitution_text(k): {"fillers": float(rec["cons_fillers"][:, k].mean()),
                                                   "coverage": float(rec["cons_coverage"][:, k].mean())}
                          for k in range(4)}}


def gate(base: dict, inst: dict) -> dict:
    """The precondition, per seed: the base's link per principle with a bootstrap interval
    over posts, and the instruct model's competence (coverage under `brief all`)."""
    g = gaps(base)
    return {"brevity": bootstrap_ci(g["brevity"], np.mean), "coverage": bootstrap_ci(g["coverage"], np.mean),
            "instruct_coverage": float(inst["desired_coverage"].mean())}


def gate_over_seeds(per_seed: dict[str, dict]) -> dict:
    """The precondition over seeds. Each seed pretrains its own base, so the bases' links differ
    by more than the posts' noise: the gate asks whether this recipe's bases have the link, with
    a t interval over seeds of each seed's mean gap (the claims' intervals are over seeds too).
    The old statistic, the smallest per-seed lower bound over posts, is kept as a diagnostic: a
    minimum of per-seed bounds fails more often the more seeds run, and sat on its threshold."""
    def lower(g: dict) -> float:
        return g["ci"][0] if g.get("ci") else np.nan

    rows = list(per_seed.values())
    return {"per_seed": per_seed,
            "brevity_link": mean_ci([g["brevity"]["value"] for g in rows]),
            "coverage_link": mean_ci([g["coverage"]["value"] for g in rows]),
            "brevity_min_lower": _min([lower(g["brevity"]) for g in rows]),
            "coverage_min_lower": _min([lower(g["coverage"]) for g in rows]),
            "instruct_coverage_min": _min([g["instruct_coverage"] for g in rows])}


WIN_KEYS = ("win", "win_length_corrected", "win_noisy", "win_greedy")
STAT_KEYS = ("mi", "brevity_gap", "coverage_gap", "fillers_desired", "coverage_desired", "errors_desired", "valid",
             "length", "ppl_copy_ratio", "ppl_corpus_ratio", "ppl_post_ratio")


def _over_seeds(rows: list[dict]) -> dict:
    return {k: mean_ci([r.get(k) for r in rows]) for k in rows[0] if k != "adherence"} | {
        "adherence": {c: {q: float(np.mean([r["adherence"][c][q] for r in rows])) for q in ("fillers", "coverage")}
                      for c in rows[0]["adherence"]}}


def metrics(dirs: dict[str, Path], steps: list[int], evaluate_at: list[int]) -> dict:
    judged = io.read_json(dirs["judged"])
    seeds = judged["seeds"]
    per_seed: dict[str, dict] = {}
    for s in seeds:
        base, inst = load(dirs["pretrain"] / f"base_s{s}.npz"), load(dirs["pretrain"] / f"instruct_s{s}.npz")
        j = judged["judged"][str(s)]
        models = {"base": base, "instruct": inst}
        models.update({f"{k}/it{i}": load(dirs[STAGE_OF[k]] / f"{k}_s{s}_it{i}.npz")
                       for k in KINDS for i in iterations(k, len(steps))})
        models.update({f"overtrain/x{x}": load(dirs["overtrain"] / f"over_s{s}_x{x}.npz") for x in evaluate_at})
        row = {}
        for name, rec in models.items():
            st = model_stats(rec, base)
            for ref in ("base", "instruct"):
                for wk in WIN_KEYS:
                    st[f"{wk}_vs_{ref}"] = 0.5 if name == ref else j[name][ref][wk]
            row[name] = st
        per_seed[str(s)] = {"models": row, "gate": gate(base, inst)}

    def over(name: str) -> dict:
        return _over_seeds([per_seed[str(s)]["models"][name] for s in seeds])

    def curve(kind: str) -> list[dict]:  # iteration 0 is the base model
        return [over("base")] + [over(f"{kind}/it{i}") for i in range(1, len(steps) + 1)]

    def col(name: str, key: str) -> list[float]:
        return [per_seed[str(s)]["models"][name][key] for s in seeds]

    last = f"sami/it{len(steps)}"
    over_last = f"overtrain/x{evaluate_at[-1]}"
    return {
        "seeds": seeds, "steps": steps, "overtrain_at": evaluate_at,
        "gate": gate_over_seeds({s: v["gate"] for s, v in per_seed.items()}),
        "curves": {k: curve(k) for k in CURVES},
        "ablations": {k: over(f"{k}/it{len(steps)}") for k in KINDS if k not in CURVES},
        "instruct": over("instruct"),
        "overtrain": {str(x): over(f"overtrain/x{x}") for x in evaluate_at},
        "per_seed": {s: {n: {k: v[k] for k in ("mi", "win_vs_base", "win_vs_instruct", "ppl_copy_ratio")}
                         for n, v in d["models"].items()} for s, d in per_seed.items()},
        "claims": {
            "mi_gain": mean_ci(np.subtract(col(last, "mi"), col("base", "mi"))),
            "win_it3": mean_ci(col(last, "win_vs_base")),
            "sami_minus_sft_mi": mean_ci(np.subtract(col(last, "mi"), col(f"sft/it{len(steps)}", "mi"))),
            "sami_minus_sft_win": mean_ci(np.subtract(col(last, "win_vs_base"),
                                                      col(f"sft/it{len(steps)}", "win_vs_base"))),
            "ppl_copy_ratio_it3": mean_ci(col(last, "ppl_copy_ratio")),
            "overtrain_ppl_copy_ratio": mean_ci(col(over_last, "ppl_copy_ratio")),
            "overtrain_minus_sami_win": mean_ci(np.subtract(col(over_last, "win_vs_base"), col(last, "win_vs_base"))),
            "brevity_gap_gain": mean_ci(np.subtract(col(last, "brevity_gap"), col("base", "brevity_gap"))),
            "coverage_gap_gain": mean_ci(np.subtract(col(last, "coverage_gap"), col("base", "coverage_gap"))),
            "desired_fillers_change": mean_ci(np.subtract(col(last, "fillers_desired"), col("base", "fillers_desired"))),
            "desired_coverage_change": mean_ci(np.subtract(col(last, "coverage_desired"),
                                                           col("base", "coverage_desired"))),
            "win_it3_vs_instruct": mean_ci(col(last, "win_vs_instruct")),
            "win_it3_length_corrected": mean_ci(col(last, "win_length_corrected_vs_base")),
            "win_it3_noisy": mean_ci(col(last, "win_noisy_vs_base")),
            "win_it3_greedy": mean_ci(col(last, "win_greedy_vs_base")),
        },
    }


def _min(xs: list[float]) -> dict | float:
    x = np.asarray(xs, float)
    if not np.isfinite(x).all():
        return {"value": None, "why": "a seed's statistic is undefined"}
    return float(x.min())


def _half(m: dict) -> float | None:
    return None if not m.get("ci") else (m["ci"][1] - m["ci"][0]) / 2


def ci_text(m: dict) -> str:
    if m.get("value") is None:
        return "–"
    ci = m.get("ci")
    return fmt(m["value"]) + (f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "")


def curve_table(m: dict) -> str:
    lines = ["## Per iteration (mean over seeds [95% CI]; iteration 0 is the base model)", "",
             "| arm | iteration | steps | MI bound (nats) | win vs base | win vs instruct | length-corrected win | "
             "fillers/fact (`brief all`) | coverage (`brief all`) | valid | copy ppl / base |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind, rows in m["curves"].items():
        for i, r in enumerate(rows):
            steps = "–" if i == 0 else str(m["steps"][i - 1])
            lines.append(f"| {kind} | {i} | {steps} | {ci_text(r['mi'])} | {ci_text(r['win_vs_base'])} | "
                         f"{ci_text(r['win_vs_instruct'])} | {ci_text(r['win_length_corrected_vs_base'])} | "
                         f"{ci_text(r['fillers_desired'])} | {ci_text(r['coverage_desired'])} | {ci_text(r['valid'])} | "
                         f"{ci_text(r['ppl_copy_ratio'])} |")
    r = m["instruct"]
    lines.append(f"| instruct | – | – | {ci_text(r['mi'])} | {ci_text(r['win_vs_base'])} | – | "
                 f"{ci_text(r['win_length_corrected_vs_base'])} | {ci_text(r['fillers_desired'])} | "
                 f"{ci_text(r['coverage_desired'])} | {ci_text(r['valid'])} | {ci_text(r['ppl_copy_ratio'])} |")
    for kind, r in m["ablations"].items():
        lines.append(f"| {kind} only | {len(m['steps'])} | {m['steps'][-1]} | {ci_text(r['mi'])} | "
                     f"{ci_text(r['win_vs_base'])} | {ci_text(r['win_vs_instruct'])} | "
                     f"{ci_text(r['win_length_corrected_vs_base'])} | {ci_text(r['fillers_desired'])} | "
                     f"{ci_text(r['coverage_desired'])} | {ci_text(r['valid'])} | {ci_text(r['ppl_copy_ratio'])} |")
    for x, r in m["overtrain"].items():
        lines.append(f"| over-trained | 1 | {int(x) * m['steps'][-1]} | {ci_text(r['mi'])} | {ci_text(r['win_vs_base'])} | "
                     f"{ci_text(r['win_vs_instruct'])} | {ci_text(r['win_length_corrected_vs_base'])} | "
                     f"{ci_text(r['fillers_desired'])} | {ci_text(r['coverage_desired'])} | {ci_text(r['valid'])} | "
                     f"{ci_text(r['ppl_copy_ratio'])} |")
    return "\n".join(lines)


def adherence_table(m: dict) -> str:
    lines = ["## Each principle under each constitution (mean over seeds)", "",
             "Fillers per fact should be low under `brief` and high under `long`; coverage high under `all` and low "
             "under `some`. SAMI's objective cannot tell these directions apart; only the base model's link sets them.",
             "", "| model | " + " | ".join(f"`{W.constitution_text(k)}` fillers / coverage" for k in range(4)) + " |",
             "|---|" + "---|" * 4]
    rows = [("base", m["curves"]["sami"][0]), ("instruct", m["instruct"])]
    rows += [(f"{k} it. {i}", m["curves"][k][i]) for k in CURVES for i in range(1, len(m["steps"]) + 1)]
    rows += [(f"{k} only, it. {len(m['steps'])}", r) for k, r in m["ablations"].items()]
    for name, r in rows:
        a = r["adherence"]
        lines.append(f"| {name} | " + " | ".join(f"{fmt(a[c]['fillers'])} / {fmt(a[c]['coverage'])}" for c in a) + " |")
    gate_rows = ["", "Base model link per seed (bootstrap 95% CI over held-out posts), and the instruct model's coverage:",
                 "", "| seed | brevity gap | coverage gap | instruct coverage |", "|---|---|---|---|"]
    for s, g in m["gate"]["per_seed"].items():
        gate_rows.append(f"| {s} | {ci_text(g['brevity'])} | {ci_text(g['coverage'])} | {fmt(g['instruct_coverage'])} |")
    return "\n".join(lines + gate_rows)


def notes(m: dict) -> list[str]:
    """What the tables say about the gate, the one-sided losses and validity, in numbers."""
    weak = {s: [k for k in ("brevity", "coverage") if not g[k]["ci"] or g[k]["ci"][0] <= 0]
            for s, g in m["gate"]["per_seed"].items()}
    weak = {s: k for s, k in weak.items() if k}
    base, last = m["curves"]["sami"][0], m["curves"]["sami"][-1]
    g = m["gate"]
    out = [f"Base link over seeds (the gate): brevity {ci_text(g['brevity_link'])}, completeness "
           f"{ci_text(g['coverage_link'])}. "
           + (("Seeds whose own base link has a bootstrap interval over posts reaching zero: "
               + ", ".join(f"{s} ({' and '.join(k)})" for s, k in weak.items()) + "; they stay in every interval.")
              if weak else "Every seed's own base link is above zero (bootstrap over posts).")]
    out += [f"One-sided losses at the last iteration, win rate vs base: {k} only {ci_text(r['win_vs_base'])}, "
            f"MI bound {ci_text(r['mi'])}, valid responses {ci_text(r['valid'])}." for k, r in m["ablations"].items()]
    out.append(f"Valid responses under `brief all` (post facts in order, no wrong facts, ended in time): base "
               f"{ci_text(base['valid'])}, SAMI last iteration {ci_text(last['valid'])}, instruct "
               f"{ci_text(m['instruct']['valid'])}.")
    out.append(f"Corpus perplexity relative to the base: SAMI last iteration {ci_text(last['ppl_corpus_ratio'])}, "
               f"instruct {ci_text(m['instruct']['ppl_corpus_ratio'])} (a sharp link alone raises it).")
    return out


def narrative(p, pretrain: dict) -> str:
    """report.md with its numbers filled in from the params and the pretraining record."""
    w = p.world
    return (Path(__file__).parent / "report.md").read_text().format(
        facts=w.facts, n_facts=w.n_facts, keep_some=w.keep_some, fill_brief=w.fill_brief, fill_long=w.fill_long,
        rho=w.rho, params=f"{next(iter(pretrain.values()))['params']:,}", steps=" / ".join(map(str, p.schedule.steps)),
        queries=p.schedule.queries, lr=f"{p.schedule.lr:g}", factor=p.overtrain.factor, n_seeds=len(p.seeds))


def report(ctx) -> None:
    from llmrepro.sami.claims import CHANGES, CLAIMS, heldout_note

    p = ctx.params.sami
    dirs = {k: getattr(ctx.dep, k) for k in ("pretrain", "sami", "sft", "ablate", "overtrain", "judged")}
    if "judge" in io.read_json(dirs["judged"]):  # paper scale: the LLM judge's win rates and the MI bound
        from llmrepro.sami import full_judge

        m = full_judge.metrics(dirs, p.schedule.steps)
        publish(ctx, Report(paper="sami", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
                            narrative=(Path(__file__).parent / "report.md").read_text().split("**Setting")[0]))
        return
    m = metrics(dirs, p.schedule.steps, p.overtrain.evaluate_at)
    c = m["claims"]
    n = len(p.schedule.steps)
    rows = [("win rate vs base, last iteration (`brief all`, programmatic judge, τ = 1)",
             "66 % / 77 % (HH-RLHF, length-corrected); 70.8 % (TL;DR, mistral-7b, weak writer)", ci_text(c["win_it3"])),
            ("length-corrected win rate vs base, last iteration", "66–77 %", ci_text(c["win_it3_length_corrected"])),
            ("win rate vs base with the noisy judge", "–", ci_text(c["win_it3_noisy"])),
            ("win rate vs base, greedy decoding (τ = 0)", "the paper's decoding", ci_text(c["win_it3_greedy"])),
            ("win rate vs the instruct model, last iteration", "47.2 % (mistral-7b) to 64.8 % (mixtral), TL;DR",
             ci_text(c["win_it3_vs_instruct"])),
            ("MI bound gain, iteration 0 → " + str(n) + " (nats)", "rises (e.g. 0.10 → higher, TL;DR)",
             ci_text(c["mi_gain"])),
            ("SAMI − self-SFT, win rate at the last iteration", "(not in the paper)", ci_text(c["sami_minus_sft_win"])),
            ("effect this run resolves: half-width of the win rate's 95% CI over seeds",
             "effect reported: 0.16–0.27 above one half", fmt(_half(c["win_it3"]))),
            ("copy perplexity ratio to base, last iteration", "(not measured; over-training gives gibberish)",
             ci_text(c["ppl_copy_ratio_it3"])),
            (f"copy perplexity ratio, over-trained ({p.overtrain.factor}× the last iteration's steps)", "gibberish",
             ci_text(c["overtrain_ppl_copy_ratio"]))]
    publish(ctx, Report(
        paper="sami", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale, notes=[*notes(m), heldout_note()],
        changes=CHANGES,
        narrative=narrative(p, io.read_json(dirs["pretrain"] / "pretrain.json")), rows=rows,
        extra=curve_table(m) + "\n\n" + adherence_table(m),
        figures=[("mi_bound.png", "Conditional MI lower bound against iteration (Fig. 2a analogue): mean over seeds "
                                  "with 95% CI bars; dashed lines: base and instruct models"),
                 ("win_rates.png", "Win rate under `brief all` against the base and against the instruct model per "
                                   "iteration (Fig. 2b/4 analogue): mean over seeds, bars ± SEM over seeds"),
                 ("length.png", "Response length under `brief all` per iteration (mean over seeds, ± SEM)"),
                 ("principles.png", "Each principle's link (brevity gap, coverage gap) and the desired "
                                    "constitution's adherence per iteration, SAMI against self-SFT and the one-sided "
                                    "losses (mean ± SEM over seeds)"),
                 ("overtrain.png", "Over-training: win rate and copy perplexity against SAMI steps on the base's "
                                   "data (mean ± SEM over seeds)")]))
