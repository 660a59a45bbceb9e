"""in2 metrics (over fine-tuning seeds), claims, the Avg/Gap table and the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.in2.data import STYLES
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.stats import mean_ci

ARMS = ("natural", "natural_long", "in2")
LABEL = {"natural": "natural (short contexts, answers at the ends)",
         "natural_long": "ablation (long contexts, answers at the ends)", "in2": "IN2"}
# The paper's Table 1 (VaL Probing, Avg / Gap in %), per style in our order.
PAPER = {"Mistral-7B-Instruct-v0.2": {"forward": (47.5, 77.0), "backward": (20.3, 59.5),
                                      "bidirectional": (74.2, 32.1), "all": (47.3, 56.2)},
         "FILM-7B": {"forward": (89.0, 16.8), "backward": (83.3, 18.7), "bidirectional": (85.4, 6.1),
                     "all": (85.9, 13.9)}}


def dip(r: dict, style: str) -> float:
    """Lost in the middle, one run: mean of the first and last buckets minus the middle third."""
    s = r["long"][style]
    return s["ends"] - s["middle_third"]


def short_mean(r: dict) -> float:
    return float(np.mean([r["short"][s] for s in STYLES]))


def arm_metrics(res: dict, chance: float) -> dict:
    runs = res["runs"]
    out = {}
    for s in STYLES:
        curves = np.array([r["long"][s]["buckets"] for r in runs], float)
        out[s] = {"buckets": [mean_ci(curves[:, b]) for b in range(curves.shape[1])],
                  **{k: mean_ci([r["long"][s][k] for r in runs]) for k in ("avg", "gap", "middle_third", "ends")},
                  "last_bucket": mean_ci(curves[:, -1]), "first_bucket": mean_ci(curves[:, 0]),
                  "middle_over_chance": mean_ci([r["long"][s]["middle_third"] / chance for r in runs]),
                  "ends_over_chance": mean_ci([r["long"][s]["ends"] / chance for r in runs]),
                  "dip": mean_ci([dip(r, s) for r in runs])}
    hist = np.array([r["supervised_positions"] for r in runs], float).sum(0)
    out["short"] = mean_ci([short_mean(r) for r in runs])
    out["integration"] = mean_ci([r["integration"] for r in runs])
    out["final_loss"] = mean_ci([r["final_loss"] for r in runs])
    out["short_by_style"] = {s: mean_ci([r["short"][s] for r in runs]) for s in STYLES}
    out["all"] = {k: mean_ci([np.mean([r["long"][s][k] for s in STYLES]) for r in runs]) for k in ("avg", "gap")}
    out["supervised_middle_third"] = float(hist[3:7].sum() / hist.sum()) if hist.sum() else None
    out["mix"] = res["mix"]
    out["steps"] = res["steps"]
    for k in ("tokens", "answer_tokens", "rows", "seed"):
        out[k + ("s" if k == "seed" else "")] = [r[k] for r in runs]
    out["cpu_seconds"] = [r["cpu_seconds"] for r in runs]
    return out


def paired(a: dict, b: dict, fn) -> dict:
    """mean_ci over seeds of fn(run of a) - fn(run of b), runs paired by seed."""
    rb = {r["seed"]: r for r in b["runs"]}
    return mean_ci([fn(r) - fn(rb[r["seed"]]) for r in a["runs"] if r["seed"] in rb])


def versus(other: dict, in2: dict) -> dict:
    return {s: {"gap_reduction": paired(other, in2, lambda r: r["long"][s]["gap"]),
                "avg_gain": paired(in2, other, lambda r: r["long"][s]["avg"])} for s in STYLES}


def like_for_like(other: dict, in2: dict) -> dict:
    tok = lambda res: sum(r["tokens"] for r in res["runs"])
    return {"same_steps": other["steps"] == in2["steps"] and
                          [r["seed"] for r in other["runs"]] == [r["seed"] for r in in2["runs"]],
            "token_ratio": tok(other) / tok(in2) if tok(in2) else None}


def metrics(retrieval: dict, arms: dict[str, dict], valprobe: dict, n: int, short_n: int) -> dict:
    chance = 1.0 / n
    return {
        "stage1": {k: retrieval[k] for k in ("gate", "final_loss", "tokens", "tokens_per_s", "cpu_seconds",
                                              "params", "vocab")},
        "chance": {"long": chance, "short": 1.0 / short_n},
        "arms": {a: arm_metrics(arms[a], chance) for a in ARMS},
        "like_for_like": {a: like_for_like(arms[a], arms["in2"]) for a in ("natural", "natural_long")},
        "c1": {s: mean_ci([dip(r, s) for r in arms["natural"]["runs"]]) for s in STYLES},
        "vs_natural": versus(arms["natural"], arms["in2"]),
        "vs_natural_long": versus(arms["natural_long"], arms["in2"]),
        "c3": {"short_diff": paired(arms["in2"], arms["natural"], short_mean)},
        "valprobe": valprobe,
    }


def pct(ci: dict) -> str:
    v = ci.get("value")
    return "–" if v is None else f"{100 * v:.1f}"


def table(m: dict) -> str:
    """Avg / Gap per style, the paper's Table 1 layout, ours next to the paper's."""
    head = "| model | " + " | ".join(f"{s} Avg / Gap" for s in (*STYLES, "all")) + " |"
    lines = ["## VaL-lite: Avg / Gap (%), mean over seeds", "", head, "|---" * 5 + "|"]
    for name, p in PAPER.items():
        lines.append(f"| paper: {name} | " + " | ".join(f"{p[s][0]} / {p[s][1]}" for s in (*STYLES, "all")) + " |")
    for arm in ARMS:
        a, label = m["arms"][arm], f"ours: {LABEL[arm]}"
        cells = [f"{pct(a[s]['avg'])} / {pct(a[s]['gap'])}" for s in STYLES]
        cells.append(f"{pct(a['all']['avg'])} / {pct(a['all']['gap'])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    vp = m["valprobe"].get("models", {})
    for name, r in vp.items():
        cells = [f"{100 * r[k]['avg']:.1f} / {100 * r[k]['gap']:.1f}" for k in
                 ("database_forward_32k", "code_backward_32k", "document_bi_32k", "all") if k in r]
        lines.append(f"| ours, VaL Probing: {name} | " + " | ".join(cells) + " |")
    lines += ["", "Paper: forward = database, backward = code, bi-directional = document (VaL Probing-32K). "
                  "Ours: mean over fine-tuning seeds of per-seed Avg and Gap on the toy tasks."]
    return "\n".join(lines)


def rows(m: dict, p) -> list[tuple[str, str, str]]:
    a = m["arms"]
    half = lambda ci: "–" if not ci.get("ci") else fmt((ci["ci"][1] - ci["ci"][0]) / 2)
    curve = lambda arm, s: " / ".join(fmt(a[arm][s][k]["value"]) for k in ("first_bucket", "middle_third",
                                                                            "last_bucket"))
    out = [(f"{s}: accuracy first bucket / middle third / last bucket, natural → ablation → IN2",
            "U-shape → flat (Fig. 1)", " → ".join(curve(arm, s) for arm in ARMS)) for s in STYLES]
    out += [(f"{s}: Gap reduction, natural − IN2 (± half-width of the 95 % CI over seeds)",
             f"{PAPER['Mistral-7B-Instruct-v0.2'][s][1] - PAPER['FILM-7B'][s][1]:.1f} points (Mistral − FILM)",
             f"{pct(m['vs_natural'][s]['gap_reduction'])} ± {pct_half(m['vs_natural'][s]['gap_reduction'])} points")
            for s in STYLES]
    out += [("short contexts: accuracy natural / ablation / IN2 (mean over styles)", "kept (MMLU 59.3 → 59.2, ...)",
             " / ".join(fmt(a[arm]["short"]["value"]) for arm in ARMS)),
            ("integration questions (two records), accuracy: natural / ablation / IN2", "trained by IN2 only",
             " / ".join(fmt(a[arm]["integration"]["value"]) for arm in ARMS)),
            ("stage-2 answer loss at the end (nats): natural / ablation / IN2", "–",
             " / ".join(fmt(a[arm]["final_loss"]["value"]) for arm in ARMS)),
            ("share of stage-2 answers in the middle third: natural / ablation / IN2", "IN2: uniform",
             " / ".join(fmt(a[arm]["supervised_middle_third"]) for arm in ARMS)),
            ("stage-2 rows, answer tokens, tokens per run (seed means): natural / ablation / IN2",
             "same steps and tokens", "; ".join(
                 f"{np.mean(a[arm]['rows']):.0f}, {np.mean(a[arm]['answer_tokens']):.0f}, "
                 f"{np.mean(a[arm]['tokens']):.0f}" for arm in ARMS)),
            ("stage 1 (every model): lowest accuracy at its longest context, per style",
             f"gate ≥ {m['stage1']['gate']['threshold']}",
             ", ".join(f"{s} {fmt(v)}" for s, v in m["stage1"]["gate"]["accuracy"].items()))]
    return out


def pct_half(ci: dict) -> str:
    return "–" if not ci.get("ci") else f"{100 * (ci['ci'][1] - ci['ci'][0]) / 2:.1f}"


def report(ctx) -> None:
    from llmrepro.in2.claims import CHANGES, CLAIMS

    p = ctx.params.in2
    arms = {a: io.read_json(getattr(ctx.dep, a)) for a in ARMS}
    m = metrics(io.read_json(ctx.dep.retrieval), arms, io.read_json(ctx.dep.valprobe), p.probe.n, p.probe.short_n)
    where = lambda v: (f"{100 * v.p_ends:.0f} % of answers in the first or last {v.ends} records, the rest anywhere"
                       if v.p_ends else "answers anywhere (uniform)")
    arm_text = "; ".join(f"{LABEL[k]}: {v.n_min}-{v.n_max} records, {where(v)}, {100 * v.integration:.0f} % "
                         "integration questions"
                         for k, v in (("natural", p.arms.natural), ("natural_long", p.arms.natural_long),
                                      ("in2", p.arms.in2)))
    publish(ctx, Report(
        paper="in2", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows(m, p), extra=table(m), changes=CHANGES,
        notes=[f"Arms ({p.finetune.train.steps} steps each, {p.finetune.tokens_per_step} tokens per step): "
               f"{arm_text}.",
               f"{len(p.finetune.seeds)} seeds per arm (fine-tuning seeds {', '.join(map(str, p.finetune.seeds))}); "
               f"seed i starts from its own stage-1 model (stage-1 seeds {', '.join(map(str, p.retrieval.seeds))}, "
               "each shared by the three arms) and is probed on its own held-out contexts (the same for every arm), "
               "so arms are paired by seed and the Student-t 95 % intervals over seeds cover the variance between "
               "stage-1 models, fine-tuning runs and probe sets. What stays outside: the stage-1 and stage-2 "
               "recipes (steps, sizes, model) and the toy task itself. Probes: {p.probe.n} records per "
               f"context, {p.probe.per_position} held-out contexts per record position and style (the same for "
               f"every arm of a seed), {p.probe.buckets} position buckets; short contexts: {p.probe.short_n} records. "
               f"Chance (a guess among the context's records): {fmt(m['chance']['long'])}."],
        figures=[("acc_by_position.png", "Accuracy against the relative position of the queried record, one panel "
                                         "per probe style, for the three stage-2 arms (seed i of every arm "
                                         "starts from the same stage-1 model i); error bars: 95 % t-intervals "
                                         "over seeds, each with its own stage-1 model and probe set "
                                         "(the paper's Fig. 1 analogue)"),
                 ("training.png", "Answer loss in stage 1 and in stage 2 (one line per seed and model), and where each "
                                  "arm's supervised answers sit in the context")]))
