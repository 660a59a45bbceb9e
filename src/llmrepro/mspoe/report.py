"""mspoe metrics, claims and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.mspoe.evaluate import summary
from llmrepro.mspoe.metrics import dip, recency, signflip_ci, table
from llmrepro.report.pages import Report, cell, fmt, publish

SHORT = ("kv", "mdqa")  # C1: lost in the middle on prompts of a few hundred tokens
LONG = "long"  # C2, C3: where RoPE's long-range decay acts


def dip_ci(results: dict, tasks, **flips) -> dict:
    """acc(ends) - acc(middle): the mean over `tasks` of each task's mean per-context dip."""
    dips = [dip(table(results[t]["rows"])[1]) for t in tasks]
    w = np.concatenate([np.full(len(d), 1.0 / (len(d) * len(dips))) for d in dips])
    return signflip_ci(np.concatenate(dips), w, **flips)


def recency_ci(results: dict, task: str, **flips) -> dict:
    return signflip_ci(recency(table(results[task]["rows"])[1]), **flips)


def _per_context(a: dict, b: dict, middle: bool = False, key: str = "correct") -> np.ndarray:
    ta, tb = table(a["rows"], key)[1], table(b["rows"], key)[1]
    cols = slice(1, -1) if middle else slice(None)
    return (ta[:, cols] - tb[:, cols]).mean(axis=1)


def paired_gain(a: dict, b: dict, middle: bool = False, key: str = "correct", **flips) -> dict:
    """mean(a) - mean(b) over the same questions (all, or the middle positions only), paired per context."""
    bounds = (-1.0, 1.0) if key == "correct" else None
    return signflip_ci(_per_context(a, b, middle, key), bounds=bounds, **flips)


def minus_best(a: dict, others: dict[str, dict], **flips) -> dict:
    """mean(a) - max over the others of their mean, judged as an intersection-union test: a is
    within a margin of the best one only if it is within it of every one, so the interval is
    [min of the lower ends, min of the upper ends] of the paired intervals against each."""
    if not others:
        return {"value": None, "ci": None, "why": "no comparator"}
    each = {k: paired_gain(a, o, **flips) for k, o in others.items()}
    if any(g.get("ci") is None for g in each.values()):
        return {"value": min(g["value"] for g in each.values()), "ci": None, "each": each,
                "why": "a comparison has no interval"}
    best = min(each, key=lambda k: each[k]["value"])
    return {"value": each[best]["value"], "ci": [min(g["ci"][0] for g in each.values()),
                                                 min(g["ci"][1] for g in each.values())],
            "best": best, "each": each, "n": each[best]["n"]}


def metrics(res: dict, n_flips: int = 4000, seed: int = 0) -> dict:
    """Everything the claims and the page read; `n_flips` and `seed` set the random sign
    patterns used beyond 14 contexts (exact enumeration below)."""
    f = {"n_flips": n_flips, "seed": seed}
    variants = {k: v for k, v in res.items() if not k.startswith("_")}
    base = variants["baseline"]
    out: dict = {"variants": {n: {t: summary(r["rows"]) for t, r in v.items()} for n, v in variants.items()}}
    out["contexts"] = {t: len(table(base[t]["rows"])[1]) for t in base}
    out["baseline"] = {"dip": dip_ci(base, SHORT, **f)}
    out["long"] = {"dip": dip_ci(base, (LONG,), **f), "recency": recency_ci(base, LONG, **f)}
    uniform = {k: v[LONG] for k, v in variants.items() if k.startswith("uniform_") and LONG in v}
    for order in ("outlier", "sequential"):
        msp = variants[f"ms_poe_{order}"]
        out["ms_poe" if order == "outlier" else "ms_poe_sequential"] = {
            "mean_gain": paired_gain(msp[LONG], base[LONG], **f),
            "middle_gain": paired_gain(msp[LONG], base[LONG], middle=True, **f),
            "cand_logprob_gain": paired_gain(msp[LONG], base[LONG], key="cand_logprob", **f),
            "minus_best_uniform": minus_best(msp[LONG], uniform, **f),
            "short": {t: {"mean_gain": paired_gain(msp[t], base[t], **f),
                          "middle_gain": paired_gain(msp[t], base[t], middle=True, **f)} for t in SHORT}}
    out["uniform"] = {k: paired_gain(v, base[LONG], **f) for k, v in uniform.items()}
    out["prompt_tokens"] = res["_prompt_tokens"]
    out["model_window"] = res["_window"]
    out["model"] = res["_model"]
    return out


def model_name(src) -> str:
    return "SmolLM2-135M-Instruct (from its Q4_1 GGUF)" if src.local else f"`{src.hub.id}`"


def _ci(m: dict) -> str:
    return fmt(m.get("value")) + (f" [{fmt(m['ci'][0])}, {fmt(m['ci'][1])}]" if m.get("ci") else "")


def report(ctx) -> None:
    from llmrepro.mspoe.claims import CHANGES, CLAIMS

    p = ctx.params.mspoe
    res = io.read_json(ctx.dep.scores)
    m = metrics(res, p.n_flips, p.seed)
    v = m["variants"]
    pos = lambda name, t: ", ".join(f"{q}: {a:.2f}" for q, a in v[name][t]["acc_by_position"].items())
    rows = [(f"baseline accuracy by gold position, {t} ({m['contexts'][t]} contexts)",
             "U-shaped (Liu et al.)", pos("baseline", t)) for t in (*SHORT, LONG)]
    rows += [(f"Ms-PoE (outlier order) by position, {t}", "middle rises most", pos("ms_poe_outlier", t))
             for t in (*SHORT, LONG)]
    rows += [(f"Ms-PoE minus baseline, mean accuracy, {t}: outlier / sequential", "+3.8 avg. on ZeroSCROLLS",
              f"{_ci(m['ms_poe']['short'][t]['mean_gain'])} / {_ci(m['ms_poe_sequential']['short'][t]['mean_gain'])}")
             for t in SHORT]
    rows += [("Ms-PoE minus baseline, long: outlier / sequential", "+3.8 avg. on ZeroSCROLLS",
              f"{_ci(m['ms_poe']['mean_gain'])} / {_ci(m['ms_poe_sequential']['mean_gain'])}"),
             ("same, gold log-probability over the candidates (nats), long", "-",
              f"{_ci(m['ms_poe']['cand_logprob_gain'])} / {_ci(m['ms_poe_sequential']['cand_logprob_gain'])}")]
    rows += [(f"uniform r = {k.split('_', 1)[1]} minus baseline, long", "helps, then hurts (Fig. 3)", _ci(g))
             for k, g in m["uniform"].items()]
    rows += [("best uniform ratio r > 1 on the long task (chosen on the same examples)", "-",
              m["ms_poe"]["minus_best_uniform"].get("best", "-")),
             ("prompt tokens (min-max) / model window", "within the window",
              ", ".join("{} {}-{}".format(t, *m["prompt_tokens"][t]) for t in (*SHORT, LONG))
              + f" / {m['model_window']}")]
    tasks = p.tasks
    narrative = (Path(__file__).parent / "report.md").read_text().format(
        kv_n=tasks.kv.n, mdqa_n=tasks.mdqa.n, long_n=tasks.long.n, long_cand=tasks.long.candidates or tasks.long.n,
        kv_cand=tasks.kv.candidates or tasks.kv.n, mdqa_cand=tasks.mdqa.candidates or tasks.mdqa.n,
        n_pos=len(tasks.kv.positions), long_min=m["prompt_tokens"][LONG][0], window=m["model_window"],
        skip=p.ms_poe.skip_layers, model=model_name(p.model), **m["model"], r_min=p.ms_poe.r_min, r_max=p.ms_poe.r_max,
        ratios=", ".join(f"{r:g}" for r in p.uniform_ratios))
    g, n_long = m["ms_poe"]["mean_gain"], m["contexts"][LONG]
    publish(ctx, Report(
        paper="mspoe", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale, narrative=narrative, rows=rows,
        changes=CHANGES,
        notes=[", ".join(f"{t}: {m['contexts'][t]} contexts x {len(getattr(tasks, t).positions)} gold positions"
                         for t in (*SHORT, LONG))
               + "; every interval is a 95 % interval over contexts from an exact sign-flip test (metrics.py), "
                 "paired where two configurations are compared.",
               f"Resolution: with n contexts the smallest two-sided p a sign-flip test can reach is 2 / 2^n, so no "
               f"95 % interval excludes zero below 6 contexts. The long task has {n_long}: Ms-PoE's paired accuracy "
               f"gain there is {_ci(g)}; effects of the paper's size (a few points) need many more contexts."],
        figures=[("acc_by_position.png", "Accuracy against gold position, baseline and Ms-PoE in both head orders "
                                         "(Fig. 1 analogue). Bars: 95 % Wilson intervals for the share of contexts "
                                         "answered correctly at that position."),
                 ("uniform_sweep.png", "Long task: mean accuracy and ends-minus-middle dip against a uniform ratio "
                                       "(Fig. 3 analogue; r = 1 is the baseline). Horizontal lines: Ms-PoE, dotted "
                                       "in outlier order, dash-dot in sequential order. Bars: 95 % exact sign-flip "
                                       "intervals over contexts, as in the claims."),
                 ("head_scores.png", "Per-head position-awareness (attention-outlier) scores at prefill, long task: "
                                     "mean over prompts")]))
