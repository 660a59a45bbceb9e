"""facts metrics (over seeds), claims, decay-constant table and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.facts import metrics as M
from llmrepro.facts.claims import BEFORE_REVIEW, CHANGES, CLAIMS
from llmrepro.facts.world import RELATIONS
from llmrepro.report.pages import Report, cell, fmt, publish
from llmrepro.stats import mean_ci

SCEN = M.INJECTED
TYPES = M.TYPES
REPEATED = ("paraphrase", "duplication")  # the scenarios with a forgetting curve after several injections
VERBATIM = ("duplication", "once")  # C2: the paper's mem-semantic gap vanishes under paraphrase


def load_runs(d: Path) -> tuple[dict, list[dict]]:
    meta = io.read_json(d / "runs.json")
    runs = [{**r, "logprobs": np.load(d / f"logprobs_seed{r['seed']}.npy")} for r in meta["runs"]]
    return meta, runs


def per_seed_metrics(d: Path) -> tuple[dict, list[dict]]:
    meta, runs = load_runs(d)
    return meta, [M.run_metrics(r, meta["window"], meta["horizon"], meta["bins"]) for r in runs]


def decay_of(fit: dict | None) -> float:
    """A fit's power-law decay constant, NaN where there is no fit or no decay value."""
    d = ((fit or {}).get("power") or {}).get("decay")
    return float("nan") if d is None else float(d)


def _mean(xs) -> float:
    """Mean that stays NaN when any part is missing (mean_ci then drops that seed)."""
    xs = [np.nan if x is None else x for x in xs]
    return float(np.mean(xs)) if len(xs) else float("nan")


def mean_curve(per: list[dict], key: str) -> dict:
    """The seed-averaged binned R(t) (bins are the same in every run) and its fits: the paper
    fits the mean curve. `ci`: the t-interval over seeds per bin, for the figure."""
    R = np.array([m["retainability"][key]["R"] for m in per], dtype=float)
    t = np.array([m["retainability"][key]["t"] for m in per], dtype=float)
    ok = np.isfinite(R)
    with np.errstate(invalid="ignore"):
        mean = np.where(ok.any(0), np.nansum(np.where(ok, R, 0), 0) / np.maximum(ok.sum(0), 1), np.nan)
        tb = np.exp(np.nanmean(np.log(t), 0))
    ci = [mean_ci(R[:, j])["ci"] for j in range(R.shape[1])]
    return {"t": tb.tolist(), "R": mean.tolist(), "ci": ci, "fit": M.compare_fits(tb, mean)}


def variant_metrics(meta: dict, per: list[dict], runs_meta: list[dict]) -> dict:
    seeds = [r["seed"] for r in runs_meta]
    eff = {t: mean_ci([m["effectivity"][t] for m in per]) for t in TYPES}
    eff.update({f"{s}/{t}": mean_ci([m["effectivity"][f"{s}/{t}"]["adjusted"] for m in per])
                for s in SCEN for t in TYPES})
    ret = lambda key, f: mean_ci([f(m["retainability"][key]) for m in per])
    keys = [f"{s}/{t}" for s in SCEN for t in TYPES]
    r0 = runs_meta[0]
    return {
        "meta": {**{k: meta[k] for k in ("model", "batch_scale", "window", "horizon", "bins", "interval", "injections")},
                 "rows": r0["rows"], "per_scenario": r0["per_scenario"], "injected_rows_per_step": r0["injected_rows_per_step"],
                 "injected_fraction": r0["injected_fraction"], "passages_per_row": r0["passages_per_row"],
                 "lr": r0["lr"], "steps": r0["steps"]},
        "seeds": seeds,
        "effectivity": eff,
        "decay": {k: ret(k, lambda r: decay_of(r["fit"])) for k in keys},
        "exp_minus_power": {k: ret(k, lambda r: r["fit"].get("exp_minus_power")) for k in keys},
        "gain_at_peak": {k: ret(k, lambda r: r["gain_at_peak"]) for k in keys},
        "mean_curve": {k: mean_curve(per, k) for k in keys},
    }


def _per_seed(per: list[dict], f) -> list[float]:
    return [f(m) for m in per]


def mem_decay(m: dict) -> float:
    """One seed's memorization decay constant: mean of paraphrase and duplication."""
    return _mean([decay_of(m["retainability"][f"{s}/memorization"]["fit"]) for s in REPEATED])


def verbatim_effectivity(m: dict, ptype: str) -> float:
    return _mean([m["effectivity"][f"{s}/{ptype}"]["adjusted"] for s in VERBATIM])


def claim_metrics(per: dict[str, list[dict]]) -> dict:
    """The claims' statistics, each over seeds. `per` maps a variant to its per-seed metrics;
    variants are paired by seed (the same seeds run in every variant)."""
    base = per["base"]
    ver = {t: _per_seed(base, lambda m, t=t: verbatim_effectivity(m, t)) for t in TYPES}
    dec = lambda sc: _per_seed(base, lambda m: decay_of(m["retainability"][f"{sc}/memorization"]["fit"]))
    fit_gap = _per_seed(base, lambda m: _mean([m["retainability"][f"{s}/memorization"]["fit"].get("exp_minus_power")
                                               for s in REPEATED]))
    eff_mem = lambda v: _per_seed(per[v], lambda m: m["effectivity"]["memorization"])
    return {
        "effectivity_memorization": mean_ci(eff_mem("base")),
        "verbatim_effectivity": {t: mean_ci(v) for t, v in ver.items()},
        "mem_minus_sem": mean_ci(np.subtract(ver["memorization"], ver["semantic"])),
        "sem_minus_comp": mean_ci(np.subtract(ver["semantic"], ver["composition"])),
        "forgetting_memorization": mean_ci(_per_seed(base, mem_decay)),
        "exp_minus_power_memorization": mean_ci(fit_gap),
        "dup_minus_para_decay": mean_ci(np.subtract(dec("duplication"), dec("paraphrase"))),
        "forgetting_memorization_large_batch": mean_ci(_per_seed(per["large_batch"], mem_decay)),
        "small_minus_large_batch_decay": mean_ci(np.subtract(_per_seed(base, mem_decay),
                                                             _per_seed(per["large_batch"], mem_decay))),
        "base_minus_small_model_effectivity": mean_ci(np.subtract(eff_mem("base"), eff_mem("small_model"))),
    }


def metrics(dirs: dict[str, Path]) -> dict:
    out, per = {}, {}
    for k, d in dirs.items():
        meta, runs = load_runs(d)
        per[k] = [M.run_metrics(r, meta["window"], meta["horizon"], meta["bins"]) for r in runs]
        out[k] = variant_metrics(meta, per[k], meta["runs"])
    seeds = {k: v["seeds"] for k, v in out.items()}
    if len({tuple(s) for s in seeds.values()}) != 1:
        raise ValueError(f"variants are paired by seed, but their seeds differ: {seeds}")
    return {"variants": out, "claims": claim_metrics(per)}


def decay_table(m: dict) -> str:
    lines = ["## Forgetting fits (seed-averaged R in log-spaced bins of t)", "",
             "Power law R = c − a log10 t against exponential R = A exp(−b t); RMSE held out one bin at a time. "
             "The per-seed decay column is the mean [95 % CI] of the power-law decay fitted to each seed's curve.", "",
             "| variant | scenario | probe | decay a | R² | x-intercept (steps) | held-out RMSE power / exp "
             "| decay a per seed |", "|---|---|---|---|---|---|---|---|"]
    for name, v in m["variants"].items():
        for s in SCEN:
            for t in TYPES:
                f = v["mean_curve"][f"{s}/{t}"]["fit"]
                p = f["power"]
                d = v["decay"][f"{s}/{t}"]
                ci = f" [{fmt(d['ci'][0])}, {fmt(d['ci'][1])}]" if d.get("ci") else ""
                lines.append(f"| {name} | {s} | {t} | {fmt(p.get('decay'))} | {fmt(p.get('r2'))} | "
                             f"{fmt(p.get('x_intercept_steps'))} | {fmt(f.get('cv_rmse_power'))} / "
                             f"{fmt(f.get('cv_rmse_exp'))} | {fmt(d['value'])}{ci} |")
    return "\n".join(lines)


def narrative(p, m: dict) -> str:
    """report.md with its numbers filled in from params and metrics (so every scale's page is right)."""
    b, lb = m["variants"]["base"]["meta"], m["variants"]["large_batch"]["meta"]
    w = p.world
    values = {
        "recurring": w.recurring, "per_scenario": w.per_scenario, "rare_pct": fmt(100 * w.rare_template_fraction),
        "relations": len(RELATIONS),
        "injections": b["injections"], "interval": b["interval"], "window": b["window"], "horizon": b["horizon"],
        "bins": b["bins"], "steps": b["steps"], "rows": b["rows"], "inj_rows": b["injected_rows_per_step"],
        "per_row": b["passages_per_row"], "frac_pct": fmt(100 * b["injected_fraction"]),
        "large_rows": lb["rows"], "large_inj_rows": lb["injected_rows_per_step"], "scale": lb["batch_scale"],
        "lr": fmt(b["lr"]), "momentum_left": fmt(0.9 ** b["window"]), "seeds": len(m["variants"]["base"]["seeds"]),
        "context": p.models.base.model.context, "pretrain_steps": p.models.base.train.steps,
        "base_model": f"{p.models.base.model.layers} layers × {p.models.base.model.hidden}",
        "small_model": f"{p.models.small.model.layers} layers × {p.models.small.model.hidden}",
    }
    return (Path(__file__).parent / "report.md").read_text().format(**values)


def review_settings(before: dict, m: dict) -> str:
    """What the review changed in the experiment, before and now, from before_review.json and metrics;
    the old checks themselves are in the page's "Claim changes" table (`claims.CHANGES`)."""
    o, b, lb = before["params"], m["variants"]["base"]["meta"], m["variants"]["large_batch"]["meta"]
    oi = o["inject"]
    last = (oi["injections"] - 1) * oi["interval"]
    rows = before["injected_rows"]
    return (f"**The experiment the review changed** (issue 11; claims C2-C5 revised, their tests fixed before the "
            f"rerun). Before (commit {before['commit']}): injections every {oi['interval']} steps with t_w = "
            f"{oi['window']} (0.9^t_w = {fmt(0.9 ** oi['window'])} of AdamW's momentum left), the last at step "
            f"{last} of {oi['steps']}, so {oi['steps'] - last} steps of forgetting; a learning rate of "
            f"{fmt(oi['lr'])} after pretraining ended at {fmt(o['pretrain_final_lr'])}; {rows['step0']} (first "
            f"round) and {rows['later']} (later rounds) of {rows['batch_rows']} rows injected; "
            f"{o['per_scenario']} entities per scenario, {len(oi['seeds'])} seeds, a {o['large_batch_scale']}x batch "
            f"contrast; retainability on uncorrected log-probabilities, fitted over evenly spaced t. Now: every "
            f"{b['interval']} steps with t_w = {b['window']} ({fmt(0.9 ** b['window'])} left), {b['horizon']} steps "
            f"after the last window, the pretraining's final rate {fmt(b['lr'])} throughout, "
            f"{b['injected_rows_per_step']} of {b['rows']} rows, {b['per_scenario']} entities per scenario, "
            f"{len(m['variants']['base']['seeds'])} seeds, a {lb['batch_scale']}x contrast at equal learning rate and "
            "injected fraction; retainability on control-corrected log-probabilities in log-spaced bins.")


def report(ctx) -> None:
    m = metrics({k: getattr(ctx.dep, k) for k in ("base", "large_batch", "small_model")})
    b, c = m["variants"]["base"], m["claims"]
    ve = c["verbatim_effectivity"]
    mc = lambda s: b["mean_curve"][f"{s}/memorization"]["fit"]["power"].get("r2")
    rows = [("effectivity, memorization / semantic / composition (control-adjusted, nats, all scenarios)",
             "mem > sem > comp; jumps then decays (Fig. 2)",
             " / ".join(fmt(b["effectivity"][t]["value"]) for t in TYPES)),
            ("effectivity on verbatim scenarios (duplication, once): mem / sem / comp", "mem > sem > comp",
             " / ".join(fmt(ve[t]["value"]) for t in TYPES)),
            ("R² of the power law on the mean R, memorization (paraphrase / duplication)", "> 0.8",
             " / ".join(fmt(mc(s)) for s in REPEATED)),
            ("held-out RMSE, exponential − power law (memorization)", "power law fits (Fig. 4)",
             fmt(c["exp_minus_power_memorization"]["value"])),
            ("decay, duplication − paraphrase (memorization)", "> 0 (paraphrase forgets slower)",
             fmt(c["dup_minus_para_decay"]["value"])),
            (f"decay, batch {b['meta']['rows']} − batch {m['variants']['large_batch']['meta']['rows']} (memorization)",
             "> 0; thresholds grow by dozens of times", fmt(c["small_minus_large_batch_decay"]["value"])),
            ("effectivity, base − small model", "> 0 (7B > 1B)", fmt(c["base_minus_small_model_effectivity"]["value"])),
            ("injected rows per update while a round lasts", "120 of 2048 (5.9 %)",
             f"{b['meta']['injected_rows_per_step']} of {b['meta']['rows']} "
             f"({fmt(100 * b['meta']['injected_fraction'])} %)")]
    half = lambda k: fmt((c[k]["ci"][1] - c[k]["ci"][0]) / 2) if c[k].get("ci") else "–"
    notes = [f"What this run can resolve: the 95 % intervals over {len(b['seeds'])} seeds have half-widths of "
             f"{half('mem_minus_sem')} nats for E(mem) − E(sem) (C2), {half('dup_minus_para_decay')} for "
             f"a(dup) − a(para) (C4) and {half('small_minus_large_batch_decay')} for the batch-size difference "
             "in decay constants (C5); a smaller true difference reads as inconclusive."]
    publish(ctx, Report(
        paper="facts", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale, notes=notes,
        narrative=narrative(ctx.params.facts, m), rows=rows,
        extra=decay_table(m) + "\n\n" + review_settings(io.read_json(BEFORE_REVIEW), m), changes=CHANGES,
        figures=[("dlogprob.png", "Control-corrected Δ log-probability of the probe targets against steps since "
                                  "each entity's first injection (its injections dotted), mean over seeds with a "
                                  "band of the 95 % t-interval over seeds (Fig. 2 analogue)"),
                 ("effectivity.png", "Effectivity per scenario and probe type (base), and memorization effectivity "
                                     "across batch size and model size; bars are 95 % t-intervals over seeds"),
                 ("retainability.png", "Retainability R against t after the last injection, in log-spaced bins "
                                       "(mean over seeds, bars: 95 % t-interval over seeds), with the power-law "
                                       "(solid) and exponential (dashed) fits to the mean (Fig. 4 analogue)")]))
