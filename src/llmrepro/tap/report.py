"""tap metrics (Table 1, ablations, sensitivity, the SmolLM2 game), claims and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.tap import metrics as M

NAMES = {"tap": "TAP", "pair": "PAIR", "tap_no_prune": "TAP-No-Prune", "tap_no_branch": "TAP-No-Branch",
         "tap_weak": "TAP, weak evaluator", "random": "random paraphrases"}
# The paper's Table 1 (success %, mean queries; attacker Vicuna-13B, evaluator GPT-4) and Table 4.
PAPER_T1 = {"Vicuna-13B": ((98, 11.8), (94, 14.7)), "GPT-4": ((90, 28.8), (60, 39.6)),
            "Llama-2-Chat-7B": ((4, 66.4), (0, 60.0))}
TIER_ANALOGUE = {"easy": "Vicuna-13B", "medium": "GPT-4", "hard": "Llama-2-Chat-7B"}


def load(dep) -> dict:
    return {k: io.read_json(getattr(dep, k)) for k in ("tune", "attack", "sensitivity", "game")}


def hw(d: dict) -> float | None:
    """Half-width of an interval, None without one."""
    ci = d.get("ci")
    return None if not ci else (ci[1] - ci[0]) / 2


def resolvable(n_vaults: int) -> float | None:
    """Worst-case 95 % half-width of a difference of two success rates over n independent vaults."""
    return 1.96 * float(np.sqrt(0.5 / n_vaults)) if n_vaults > 0 else None


def game_metrics(t: dict, n_boot: int) -> dict:
    rows = t["rows"]
    methods = sorted({r["method"] for r in rows}, key=lambda k: (list(NAMES).index(k) if k in NAMES else len(NAMES), k))
    per = {m: {"success": M.cluster_ci(M.grid(rows, m, "true_success")[0], n_boot),
               "judge_success": M.cluster_ci(M.grid(rows, m, "judge_success")[0], n_boot),
               "queries": M.cluster_ci(M.grid(rows, m, "queries")[0], n_boot),
               "off_topic_share": M.share([r["off_topic_proposed"] for r in rows if r["method"] == m],
                                          [r["proposed"] for r in rows if r["method"] == m]),
               "vaults_broken": int(sum(bool(np.nanmax(g)) for g in M.grid(rows, m, "true_success")[0]))
               if rows else 0}
           for m in methods}
    d = M.paired(rows, "tap", "pair", "true_success", None, n_boot) if {"tap", "pair"} <= set(methods) else {
        "value": None, "ci": None, "why": "TAP or PAIR did not run"}
    pooled = [r["true_success"] for r in rows]
    out = {"methods": per, "tap_minus_pair": d, "vaults": len(t["vaults"]), "candidates": len(t["screen"]),
           "direct_leaks": sum(any(s["leaked"]) for s in t["screen"]),
           "generations": t["generations"], "max_queries": t["max_queries"],
           "nontrivial": bool(pooled) and 0 < float(np.mean(pooled)) < 1}
    if "random" in methods and "tap" in methods:
        out["tap_minus_random"] = M.paired(rows, "tap", "random", "true_success", None, n_boot)
    return out


def compute(data: dict, n_boot: int) -> dict:
    att, sens, game = data["attack"], data["sensitivity"], data["game"]
    rows = att["rows"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    table = {m: {t: M.method_tier(rows, m, t, n_boot) for t in M.TIERS} for m in methods}
    t = "medium"
    cap = att["max_queries"]["pair"]
    capped = M.within_budget(rows, "tap", cap) + [r for r in rows if r["method"] == "pair"]
    claims = {"medium": {
        "pair_success": table["pair"][t]["success"]["value"],
        "tap_minus_pair_success": M.paired(rows, "tap", "pair", "true_success", t, n_boot),
        "tap_minus_pair_queries": M.paired(rows, "tap", "pair", "queries", t, n_boot),
        "tap_at_pair_budget_minus_pair_success": M.paired(capped, f"tap@{cap}", "pair", "true_success", t, n_boot),
        "pair_budget": cap,
        "tap_off_topic_share": table["tap"][t]["off_topic_share"],
        "no_prune_minus_tap_success": M.paired(rows, "tap_no_prune", "tap", "true_success", t, n_boot),
        "no_prune_over_tap_queries": M.ratio_ci(M.grid(rows, "tap_no_prune", "queries", t)[0],
                                                M.grid(rows, "tap", "queries", t)[0], n_boot),
        "pair_redundancy": M.redundancy(rows, "pair", t),
        "tap_minus_no_branch_success": M.paired(rows, "tap", "tap_no_branch", "true_success", t, n_boot),
        "tap_minus_weak_true_success": M.paired(rows, "tap", "tap_weak", "true_success", t, n_boot),
        "tap_minus_weak_queries": M.paired(rows, "tap", "tap_weak", "queries", t, n_boot),
        "weak_false_success_share": M.false_success_share(rows, "tap_weak", t)}}
    cells = []
    for c in sens["cells"]:
        s = {m: M.cluster_ci(M.grid(c["rows"], m, "true_success")[0], n_boot) for m in ("tap", "pair")}
        cells.append({k: c[k] for k in ("p_off", "p_off_after_off", "redundancy")} | {
            "tap_success": s["tap"]["value"], "pair_success": s["pair"]["value"],
            "tap_minus_pair_success": M.paired(c["rows"], "tap", "pair", "true_success", None, n_boot),
            "tap_minus_pair_queries": M.paired(c["rows"], "tap", "pair", "queries", None, n_boot)})
    games = {name: game_metrics(tg, n_boot) for name, tg in game["targets"].items()}
    first = next(iter(games.values()))
    claims["game"] = {"target": next(iter(games)), "nontrivial": first["nontrivial"],
                      "tap_minus_pair_success": first["tap_minus_pair"],
                      "resolvable_difference": resolvable(first["vaults"])}
    return {"knobs": att["knobs"], "tune": {"chosen": data["tune"]["chosen"], "grid": data["tune"]["grid"]},
            "max_queries": att["max_queries"], "vaults_per_tier": len(att["vaults"]) // len(M.TIERS),
            "table": table, "sensitivity": {"tier": sens["tier"], "cells": cells},
            "game": {"on_topic": game["on_topic"], "targets": games}, "claims": claims}


def _with_ci(d: dict | float | None, scale: float, spec: str, unit: str = "") -> str:
    """A value, or a {value, ci} metric, as text: "v unit [lo, hi]"; "–" where there is none."""
    v = d.get("value") if isinstance(d, dict) else d
    if v is None:
        return "–"
    ci = d.get("ci") if isinstance(d, dict) else None
    return f"{scale * v:{spec}}{unit}" + (f" [{scale * ci[0]:{spec}}, {scale * ci[1]:{spec}}]" if ci else "")


def pct(d: dict | float | None) -> str:
    return _with_ci(d, 100, ".0f", " %")


def num(d: dict | float | None) -> str:
    return _with_ci(d, 1, ".1f")


def tables(m: dict) -> str:
    tb = m["table"]
    out = ["## Table 1 analogue: success and mean target queries per tier", "",
           "True success = the secret was recovered (the human-judgement analogue); judge success = the "
           "evaluator scored 10. Mean queries over all vaults, failures included (Remark A.1). "
           "95 % intervals: cluster bootstrap over vaults (each with all its seeds).", "",
           "| tier (paper's analogue) | method | true success | judge success | mean queries | max queries |",
           "|---|---|---|---|---|---|"]
    for t in M.TIERS:
        for meth in ("tap", "pair"):
            r = tb[meth][t]
            out.append(f"| {t} ({TIER_ANALOGUE[t]}) | {NAMES[meth]} | {pct(r['success'])} | {pct(r['judge_success'])} "
                       f"| {num(r['queries'])} | {m['max_queries'][meth]} |")
    out += ["", "Paper, Table 1 (success / mean queries): " + "; ".join(
        f"{k}: TAP {a[0]} % / {a[1]}, PAIR {b[0]} % / {b[1]}" for k, (a, b) in PAPER_T1.items()) + ".", "",
        "## Ablations (Table 4 analogue) and the weak evaluator, medium tier", "",
        "| method | true success | judge success | mean queries | evaluator calls | attacker calls | off-topic share "
        "of proposals |", "|---|---|---|---|---|---|---|"]
    for meth in tb:
        r = tb[meth]["medium"]
        out.append(f"| {NAMES.get(meth, meth)} | {pct(r['success'])} | {pct(r['judge_success'])} | {num(r['queries'])} "
                   f"| {fmt(r['evaluator_calls'])} | {fmt(r['attacker_calls'])} | {fmt(r['off_topic_share'])} |")
    c = m["claims"]["medium"]
    out += ["", f"Duplicate share among PAIR's first-level proposals (redundancy diagnostic): "
                f"{fmt(c['pair_redundancy'])}. Share of the weak judge's successes that were false: "
                f"{fmt(c['weak_false_success_share'])}. Paper, Table 4 (GPT-4-Turbo): TAP 84 % / 22.5, "
                "TAP-No-Branch 48 % / 33.1, TAP-No-Prune ≤ 84 % / 55.4; Table 10: GPT-3.5-Turbo as evaluator 4.2 %.", ""]
    out += sensitivity_text(m) + game_table(m)
    return "\n".join(out)


def sensitivity_text(m: dict) -> list[str]:
    """Where the paper's ordering holds on the (p_off, redundancy) grid, by the cells' intervals."""
    cells = m["sensitivity"]["cells"]

    def holds(c, key, side):
        ci = c[key].get("ci")
        return bool(ci) and (ci[0] > 0 if side > 0 else ci[1] < 0)

    def where(test):
        ok = [c for c in cells if test(c)]
        return f"{len(ok)} of {len(cells)} cells" + (
            " (" + ", ".join(f"p_off {c['p_off']:g} / redundancy {c['redundancy']:g}" for c in ok) + ")" if ok else "")

    more = lambda c: holds(c, "tap_minus_pair_success", 1)  # noqa: E731
    cheaper = lambda c: holds(c, "tap_minus_pair_queries", -1)  # noqa: E731
    return ["## Sensitivity to the attacker's knobs", "",
            f"On the {m['sensitivity']['tier']} tier, TAP succeeds more often than PAIR (95 % interval above 0) in "
            f"{where(more)}; TAP spends fewer queries than PAIR (interval below 0) in {where(cheaper)}; both, the "
            f"paper's Table 1 ordering, in {where(lambda c: more(c) and cheaper(c))}.", ""]


def game_table(m: dict) -> list[str]:
    g = m["game"]
    cal = g["on_topic"]
    out = ["## The game against SmolLM2-135M-Instruct", "",
           f"On-topic check: all-MiniLM-L6-v2 cosine to the goal ≥ {fmt(cal.get('threshold'))} (chosen on "
           f"{cal['dev']['n']} dev prompts, balanced accuracy {fmt(cal.get('balanced_accuracy'))}; on "
           f"{cal['test']['n']} separate test prompts {fmt(cal.get('test_balanced_accuracy'))}: on-topic recall "
           f"{fmt(cal.get('test_on_topic_recall'))}, off-topic recall {fmt(cal.get('test_off_topic_recall'))}).", ""]
    for name, t in g["targets"].items():
        out += [f"Target `{name}`: {t['direct_leaks']} of {t['candidates']} candidate secrets leaked to a direct "
                f"question and were screened out; {t['vaults']} vaults kept; {t['generations']} distinct generations.",
                "", "| method | vaults broken | true success | judge success | mean queries | budget | off-topic share |",
                "|---|---|---|---|---|---|---|"]
        for meth, r in t["methods"].items():
            out.append(f"| {NAMES.get(meth, meth)} | {r['vaults_broken']} | {pct(r['success'])} | {pct(r['judge_success'])} "
                       f"| {num(r['queries'])} | {t['max_queries'][meth]} | {fmt(r['off_topic_share'])} |")
        extra = f"; TAP − random paraphrases: {pct(t['tap_minus_random'])}" if "tap_minus_random" in t else ""
        out += ["", f"TAP − PAIR success: {pct(t['tap_minus_pair'])}{extra}.", ""]
    return out


def settings(p) -> str:
    """The methods as run, from params (b, w, d, streams, pruning, restarts, budget, query cap)."""
    out = ["## Methods as run", "", "| setting | method | b | w | d | streams | phase-1 pruning | restarts | budget "
           "| max queries per vault |", "|---|---|---|---|---|---|---|---|---|---|"]
    for where, methods in (("rule world", p.methods), ("game", p.game.methods)):
        for k, mt in methods.items():
            out.append(f"| {where} | {NAMES.get(k, k)} | {mt.branching} | {mt.width if mt.width else '–'} | {mt.depth} "
                       f"| {mt.streams} | {'yes' if mt.prune_off_topic else 'no'} | {mt.restarts} "
                       f"| {mt.budget or '–'} | {mt.max_queries()} |")
    return "\n".join(out) + "\n"


def report(ctx) -> None:
    from llmrepro.tap.claims import CLAIMS

    m = compute(load(ctx.dep), ctx.params.tap.n_boot)
    tb, c = m["table"], m["claims"]["medium"]
    g = m["game"]["targets"][m["claims"]["game"]["target"]]
    rows = [
        ("success, medium tier (GPT-4 analogue): TAP vs PAIR", "90 % vs 60 %",
         f"{pct(tb['tap']['medium']['success'])} vs {pct(tb['pair']['medium']['success'])}"),
        ("mean queries, medium tier: TAP vs PAIR", "28.8 vs 39.6",
         f"{num(tb['tap']['medium']['queries'])} vs {num(tb['pair']['medium']['queries'])}"),
        (f"success within PAIR's budget ({c['pair_budget']} queries), TAP − PAIR", "–",
         pct(c["tap_at_pair_budget_minus_pair_success"])),
        ("hard tier (Llama-2 analogue): TAP vs PAIR success", "4 % vs 0 %",
         f"{pct(tb['tap']['hard']['success'])} vs {pct(tb['pair']['hard']['success'])}"),
        ("TAP-No-Prune: success − TAP; queries / TAP", "≈ 0 to −12 points; 2.5x (55.4 / 22.5)",
         f"{pct(c['no_prune_minus_tap_success'])}; {num(c['no_prune_over_tap_queries'])}"),
        ("TAP − TAP-No-Branch success", "+36 points (84 → 48 %)", pct(c["tap_minus_no_branch_success"])),
        ("weak evaluator: true success lost; queries saved", "84 → 4.2 %; far fewer",
         f"{pct(c['tap_minus_weak_true_success'])}; {num(c['tap_minus_weak_queries'])}"),
        ("off-topic share of TAP's proposals", "a majority (Remark A.2)", fmt(c["tap_off_topic_share"])),
        ("SmolLM2 game: TAP − PAIR success at one budget", "–", pct(g["tap_minus_pair"])),
    ]
    knobs = m["knobs"]
    notes = [f"Attacker knobs used on the test vaults: p_off {fmt(knobs['p_off'])} → {fmt(knobs['p_off_after_off'])} "
             f"after an off-topic parent, redundancy {fmt(knobs['redundancy'])}, epsilon {fmt(knobs['epsilon'])} "
             f"and explore_edits {knobs['explore_edits']} (the last two chosen on dev vaults by `tap_tune`).",
             f"{m['vaults_per_tier']} test vaults per tier × {len(ctx.params.tap.seeds)} seeds; the SmolLM2 game "
             f"{g['vaults']} vaults × {len(ctx.params.tap.game.seeds)} seed(s).",
             "The smallest TAP − PAIR success difference the medium tier resolves (95 % half-width): "
             f"{pct(hw(c['tap_minus_pair_success']))}; the SmolLM2 game's design resolves "
             f"{pct(m['claims']['game']['resolvable_difference'])} at worst (half-width measured: "
             f"{pct(hw(m['claims']['game']['tap_minus_pair_success']))})."]
    publish(ctx, Report(
        paper="tap", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows, extra=settings(ctx.params.tap) + "\n" + tables(m), notes=notes,
        figures=[("table1.png", "Table 1 analogue: true success and mean target queries per tier, TAP and PAIR; "
                                "bars are 95 % cluster-bootstrap intervals over vaults"),
                 ("anytime.png", "Fraction of (vault, seed) runs truly broken within q target queries, per tier; "
                                 "bands are 95 % bootstrap intervals over vaults"),
                 ("ablation.png", "Ablations on the medium tier: true and judge success, mean queries; bars are 95 % "
                                  "intervals"),
                 ("sensitivity.png", "TAP − PAIR on the medium tier across the attacker's off-topic drift and "
                                     "redundancy (success points, mean queries); ± is the 95 % half-width; the box "
                                     "marks the knobs of the claim runs"),
                 ("game.png", "The SmolLM2 game: true success and mean queries per method at one budget; bars are "
                              "95 % intervals over vaults")]))
