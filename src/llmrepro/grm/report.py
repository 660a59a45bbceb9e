"""grm metrics, the Table 1 layout, and the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.grm.analysis import (ensemble_outcomes, kl_axis, method_ci, ood_mean, outcomes, over_worlds, peak_drop,
                                   per_seed)
from llmrepro.grm.world import OOD_SETS, SETS
from llmrepro.report.pages import Report, fmt, publish, with_ci

# The paper's Table 1 (Gemma-2B-it, LoRA; accuracy %): (UF, HHH, MT-Bench) at 400K and 40K pairs.
PAPER_TABLE = {"bt": ((72.1, 73.4, 71.2), (68.8, 70.3, 69.1)), "margin": ((72.0, 75.0, 72.6), (69.6, 69.8, 71.0)),
               "label_smoothing": ((71.5, 72.1, 71.2), (68.5, 68.8, 71.9)),
               "ensemble": ((72.8, 76.8, 73.7), (69.9, 72.2, 71.1)),
               "grm_dpo": ((73.8, 79.2, 73.4), (70.2, 71.6, 71.3)),
               "grm_dpo_noref": ((73.9, 79.7, 73.0), (71.4, 76.6, 72.1)),
               "grm_sft": ((73.2, 79.8, 73.4), (71.5, 78.7, 73.0))}
PAPER_C1_EFFECT = 0.084  # HHH gain of GRM-SFT over BT at 40K pairs


def _seeds(runs: list[dict], method: str, size: int) -> list[int]:
    return sorted(r["seed"] for r in runs if r["method"] == method and r["size"] == size)


def _world(runs: list[dict]) -> dict[int, int]:
    return {r["seed"]: r["world"] for r in runs}


def gain(runs: list[dict], a: str, b: str, size: int, sets: tuple[str, ...]) -> dict:
    """acc(a) - acc(b) on `sets`, paired by seed (the seeds both have) and by item; interval over worlds."""
    seeds = sorted(set(_seeds(runs, a, size)) & set(_seeds(runs, b, size)))
    d = outcomes(runs, a, size, sets, seeds) - outcomes(runs, b, size, sets, seeds)
    return over_worlds(d, [_world(runs)[s] for s in seeds])


def metrics(doc: dict, primary: str, comparator: str, ensemble: int) -> dict:
    runs, st = doc["runs"], doc["setup"]
    where = _world(runs)
    main, sizes = st["main_size"], st["sizes"]
    small, large = sizes[0], sizes[-1]
    P = (primary,)
    prim = (lambda r: ood_mean(r)) if primary == "ood_mean" else (lambda r: r["acc"][primary])
    psets = OOD_SETS if primary == "ood_mean" else P
    out: dict = {"setup": {**st, "primary": primary, "comparator": comparator, "cache": doc["cache"],
                           "eval_pairs": {k: len(next(iter(runs))["items"][k]) for k in SETS}}}
    methods = {}
    for m in st["methods"]:
        methods[m] = {"seeds": len(_seeds(runs, m, main)),
                      "acc": {k: method_ci(runs, m, main, lambda r, k=k: r["acc"][k]) for k in SETS},
                      "ood_mean": method_ci(runs, m, main, ood_mean),
                      "lm_nll": method_ci(runs, m, main, lambda r: r["lm_nll"]),
                      "escape": float(np.mean(per_seed(runs, m, main, lambda r: r["acc"]["anti"] > 0.5)))}
    out["methods"] = methods
    bt_seeds = _seeds(runs, "bt", main)
    bt_worlds = [where[s] for s in bt_seeds]
    ens = ensemble_outcomes(doc["bt_rewards"], bt_seeds, ensemble, SETS, bt_worlds)
    n_items = {k: len(runs[0]["items"][k]) for k in SETS}
    bounds = np.cumsum([0, *n_items.values()])
    ens_acc = {k: ens[:, bounds[i]:bounds[i + 1]].mean(1) for i, k in enumerate(SETS)}
    out["ensemble"] = {"members": ensemble, "acc": {k: over_worlds(v, bt_worlds) for k, v in ens_acc.items()},
                       "ood_mean": over_worlds(np.mean([ens_acc[k] for k in OOD_SETS], 0), bt_worlds)}
    cmp_seeds = sorted(set(_seeds(runs, comparator, main)) & set(bt_seeds))
    grm_p = outcomes(runs, comparator, main, psets, cmp_seeds)
    ens_p = np.concatenate([ens[:, bounds[SETS.index(k)]:bounds[SETS.index(k) + 1]] for k in psets], 1)
    ens_p = ens_p[[bt_seeds.index(s) for s in cmp_seeds]]
    out["pre"] = {"bt_id": methods["bt"]["acc"]["id"], "bt_anti": methods["bt"]["acc"]["anti"],
                  "frozen_primary": method_ci(runs, "frozen", main, prim) if "frozen" in methods else
                  {"value": None, "why": "no frozen-backbone method configured"},
                  "bt_anti_smallest": method_ci(runs, "bt", small, lambda r: r["acc"]["anti"]),
                  "bt_anti_largest": method_ci(runs, "bt", large, lambda r: r["acc"]["anti"]),
                  "bon_gold_sd": float(np.mean([b["gold_sd"] for b in doc["cache"]["bon"]]))}
    out["c1"] = {"gain_primary": gain(runs, comparator, "bt", main, psets),
                 "gain_id": gain(runs, comparator, "bt", main, ("id",)),
                 "gain_ood_mean": gain(runs, comparator, "bt", main, OOD_SETS),
                 **{f"gain_{k}": gain(runs, comparator, "bt", main, (k,)) for k in OOD_SETS}}
    ds = {}
    for n in (small, large):
        seeds = sorted(set(_seeds(runs, comparator, n)) & set(_seeds(runs, "bt", n)))
        ds[n] = {s: row for s, row in zip(seeds, outcomes(runs, comparator, n, psets, seeds)
                                          - outcomes(runs, "bt", n, psets, seeds))}
    both = sorted(set(ds[small]) & set(ds[large]))
    out["c2"] = {"gain_smallest": gain(runs, comparator, "bt", small, psets),
                 "gain_largest": gain(runs, comparator, "bt", large, psets),
                 "diff": over_worlds(np.array([ds[small][s] - ds[large][s] for s in both]),
                                     [where[s] for s in both])}
    out["c3"] = {f"vs_{m}": gain(runs, comparator, m, main, psets)
                 for m in ("margin", "label_smoothing", "frozen") if m in methods}
    out["c3"]["vs_ensemble"] = over_worlds(grm_p - ens_p, [where[s] for s in cmp_seeds])
    out["variants"] = {m: {"gain_primary": gain(runs, m, "bt", main, psets),
                           "gain_id": gain(runs, m, "bt", main, ("id",))}
                       for m in st["methods"] if m.startswith("grm")}
    out["sizes"] = {str(n): {m: {"primary": method_ci(runs, m, n, prim),
                                 "ood_mean": method_ci(runs, m, n, ood_mean),
                                 "id": method_ci(runs, m, n, lambda r: r["acc"]["id"]),
                                 "escape": float(np.mean(per_seed(runs, m, n, lambda r: r["acc"]["anti"] > 0.5)))}
                             for m in st["size_methods"]} | {
                         "gain_primary": gain(runs, comparator, "bt", n, psets)} for n in sizes}
    bon = {}
    for m in st["methods"]:
        g = np.array(per_seed(runs, m, main, lambda r: r["bon"]["gold"]))
        bon[m] = {"n": runs[0]["bon"]["n"], "kl": kl_axis(runs[0]["bon"]["n"]), "gold": g.mean(0).tolist(),
                  "proxy": np.mean(per_seed(runs, m, main, lambda r: r["bon"]["proxy"]), 0).tolist(),
                  "drop": peak_drop(g, [where[s] for s in _seeds(runs, m, main)])}
    out["bon"] = bon
    bt_final = dict(zip(bt_seeds, per_seed(runs, "bt", main, lambda r: r["bon"]["gold"][-1])))
    grm_final = dict(zip(_seeds(runs, comparator, main), per_seed(runs, comparator, main,
                                                                  lambda r: r["bon"]["gold"][-1])))
    out["c4"] = {"bt_drop": bon["bt"]["drop"], "grm_drop": bon[comparator]["drop"],
                 "final_gold_gain": over_worlds([grm_final[s] - bt_final[s] for s in cmp_seeds],
                                                [where[s] for s in cmp_seeds])}
    half = out["c1"]["gain_primary"].get("ci")
    out["power"] = {"c1_halfwidth": None if not half else (half[1] - half[0]) / 2, "paper_effect": PAPER_C1_EFFECT}
    return out


def _pct(m: dict) -> str:
    return "–" if m.get("value") is None else f"{100 * m['value']:.1f}"


def table1(m: dict, primary: str) -> str:
    """Our Table 1 next to the paper's: ID / primary OOD / OOD mean at the main size."""
    main = m["setup"]["main_size"]
    lines = [f"## Table 1 layout (accuracy %, {main} preference pairs; the paper: 400K / 40K pairs)", "",
             "| method | paper UF / HHH / MT (400K) | paper UF / HHH / MT (40K) | ours: ID | ours: "
             f"{primary} (primary) | ours: OOD mean | ours: marker reversed | seeds |",
             "|---|---|---|---|---|---|---|---|"]
    rows = [(k, v) for k, v in m["methods"].items()] + [("ensemble", {**m["ensemble"], "seeds": "cyclic"})]
    for name, v in rows:
        p = PAPER_TABLE.get(name)  # the paper's rows are its defaults (alpha 0.01); other variants get none
        paper = [" / ".join(f"{x:.1f}" for x in p[i]) if p else "–" for i in (0, 1)]
        prim = v["ood_mean"] if primary == "ood_mean" else v["acc"][primary]
        lines.append(f"| {name} | {paper[0]} | {paper[1]} | {_pct(v['acc']['id'])} | {_pct(prim)} | "
                     f"{_pct(v['ood_mean'])} | {_pct(v['acc']['anti'])} | {v['seeds']} |")
    return "\n".join(lines)


def _ci(x: dict) -> str:
    if x.get("value") is None:
        return "–"
    return with_ci(x["value"], x.get("ci"))


def report(ctx) -> None:
    from llmrepro.grm.claims import CHANGES, CLAIMS

    p = ctx.params.grm
    doc = io.read_json(ctx.dep.runs)
    m = metrics(doc, p.claims.primary, p.claims.comparator, p.rm.ensemble)
    m["timing"] = {"train_cpu_s": float(sum(r["cpu_s"] for r in doc["runs"]))}
    st, c1 = m["setup"], m["c1"]
    cmp_ = p.claims.comparator
    rows = [("OOD gain of GRM-SFT over BT (primary OOD set, main size)", "+8.4 HHH (40K), +6.4 (400K)",
             _ci(c1["gain_primary"])),
            ("ID gain", "+2.7 (40K), +1.1 (400K)", _ci(c1["gain_id"])),
            ("OOD gain, mean of the three OOD sets", "MT-Bench +3.9 (40K)", _ci(c1["gain_ood_mean"])),
            (f"gain at {st['sizes'][0]} pairs / at {st['sizes'][-1]} pairs", "+8.4 / +6.4 (HHH)",
             f"{_ci(m['c2']['gain_smallest'])} / {_ci(m['c2']['gain_largest'])}"),
            ("LM NLL per answer digit (ID): frozen / BT / GRM-SFT", "GRM keeps the LM",
             " / ".join(fmt(m["methods"][k]["lm_nll"]["value"]) for k in ("frozen", "bt", cmp_)
                        if k in m["methods"])),
            ("BT seeds that escape the shortcut (marker-reversed acc > 0.5)", "–",
             f"{fmt(m['methods']['bt']['escape'])} of {m['methods']['bt']['seeds']}"),
            ("BoN: BT gold drop from its peak / GRM gold minus BT at the largest n", "BT peaks and falls",
             f"{_ci(m['c4']['bt_drop'])} / {_ci(m['c4']['final_gold_gain'])}"),
            ("95% CI half-width of the C1 gain (the smallest effect this run resolves)",
             f"paper's effect {PAPER_C1_EFFECT}", fmt(m["power"]["c1_halfwidth"]))]
    sl = st["cache"]["shortlist"]
    W = len(st["world_seeds"])
    notes = [f"Seeds: {len(st['seeds'])} per claim arm, {len(st['seeds']) // W} in each of {W} worlds (world seeds "
             f"{st['world_seeds']}); preference-set sizes {st['sizes']} (main {st['main_size']}); "
             f"steps per size {st['steps']}; {st['eval_pairs']['id']} test pairs per set and world.",
             f"Regularizer softmax over a {sl['size']}-token shortlist covering {fmt(sl['coverage_mean'])} of the "
             f"frozen model's probability mass on average (min {fmt(sl['coverage_min'])}) at "
             f"{sl['positions']} sampled positions.",
             f"Intervals: Student-t over the {W} world means (each world's mean over its seeds and test items), "
             "for differences and single methods alike: they carry world-to-world variance (see Claim changes)."]
    publish(ctx, Report(
        paper="grm", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows,
        extra=table1(m, p.claims.primary), changes=CHANGES, notes=notes,
        figures=[("accuracy.png", "Pairwise accuracy per method and test set at the main size "
                                  "(mean over seeds, 95% t-intervals over world means)"),
                 ("sizes.png", "OOD accuracy against preference-set size, BT and GRM-SFT (mean, 95% t-intervals "
                               "over world means)"),
                 ("bon.png", "Best-of-n: gold and standardised proxy reward of each proxy's pick against "
                             "KL = log n - (n-1)/n (bands: 95% t-intervals over world means)")]))
