"""facts metrics (over seeds), claims, decay-constant table and page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.facts import metrics as M
from llmrepro.report.pages import Report, fmt, publish
from llmrepro.stats import mean_ci

SCEN = ("paraphrase", "duplication", "once")
TYPES = ("memorization", "semantic", "composition")


def load_runs(d: Path) -> tuple[dict, list[dict]]:
    meta = io.read_json(d / "runs.json")
    runs = [{**r, "logprobs": np.load(d / f"logprobs_seed{r['seed']}.npy")} for r in meta["runs"]]
    return meta, runs


def mean_curve_fit(per_seed: list[dict], key: str) -> dict | None:
    """The forgetting fit on R(t) averaged over seeds (the paper fits the mean curve)."""
    curves = [np.asarray(m["retainability"][key]["R"], float) for m in per_seed]
    n = min(len(c) for c in curves)
    R = np.nanmean(np.stack([c[:n] for c in curves]), axis=0)
    t = np.arange(1, n + 1)
    good = np.isfinite(R)
    return M.fit_log(t[good], R[good]) if good.sum() >= 3 else None


def decay_of(fit: dict | None) -> float:
    """A fit's decay constant, NaN where there is no fit or no decay value."""
    d = (fit or {}).get("decay")
    return float("nan") if d is None else float(d)


def variant_metrics(d: Path) -> dict:
    meta, runs = load_runs(d)
    per = [M.run_metrics(r, meta["window"]) for r in runs]
    eff = {t: mean_ci([m["effectivity"][t] for m in per]) for t in TYPES}
    eff.update({f"{s}/{t}": mean_ci([m["effectivity"][f"{s}/{t}"]["adjusted"] for m in per]) for s in SCEN for t in TYPES})
    decay = {f"{s}/{t}": mean_ci([decay_of(m["retainability"][f"{s}/{t}"]["fit"]) for m in per])
             for s in SCEN for t in TYPES}
    fits = {f"{s}/{t}": mean_curve_fit(per, f"{s}/{t}") for s in SCEN for t in TYPES}
    return {"meta": {k: meta[k] for k in ("model", "batch_scale", "window")}, "seeds": [r["seed"] for r in runs],
            "per_seed": per, "effectivity": eff, "decay": decay, "mean_curve_fit": fits,
            "injected_rows": {"step0": runs[0]["injected_rows_at_step0"], "later": runs[0]["injected_rows_later"],
                              "batch_rows": runs[0]["rows"]}}


def _mem_decay(m: dict) -> list[float]:
    """Per seed: the memorization decay constant, mean of paraphrase and duplication."""
    out = []
    for s in m["per_seed"]:
        a = [decay_of(s["retainability"][f"{sc}/memorization"]["fit"]) for sc in ("paraphrase", "duplication")]
        out.append(float(np.mean(a)))  # NaN unless both fits have a decay: mean_ci counts it as dropped
    return out


def metrics(dirs: dict[str, Path]) -> dict:
    v = {k: variant_metrics(d) for k, d in dirs.items()}
    base = v["base"]
    per = base["per_seed"]
    eff = lambda m, t: [s["effectivity"][t] for s in m["per_seed"]]
    dec = lambda sc: [decay_of(s["retainability"][f"{sc}/memorization"]["fit"]) for s in per]
    r2 = {sc: (base["mean_curve_fit"][f"{sc}/memorization"] or {}).get("r2") for sc in ("paraphrase", "duplication")}
    return {
        "variants": {k: {kk: vv for kk, vv in m.items() if kk != "per_seed"} for k, m in v.items()},
        "claims": {
            "effectivity_memorization": base["effectivity"]["memorization"],
            "mem_minus_sem": mean_ci(np.subtract(eff(base, "memorization"), eff(base, "semantic"))),
            "sem_minus_comp": mean_ci(np.subtract(eff(base, "semantic"), eff(base, "composition"))),
            "r2_memorization_min": min(x for x in r2.values() if x is not None) if any(r2.values()) else None,
            "r2_memorization": r2,
            "dup_minus_para_decay": mean_ci(np.subtract(dec("duplication"), dec("paraphrase"))),
            "small_minus_large_batch_decay": mean_ci(np.subtract(_mem_decay(base), _mem_decay(v["large_batch"]))),
            "base_minus_small_model_effectivity": mean_ci(np.subtract(eff(base, "memorization"),
                                                                      eff(v["small_model"], "memorization"))),
        },
    }


def decay_table(m: dict) -> str:
    lines = ["## Decay constants (forgetting fit of the seed-averaged R against log10 t)", "",
             "| variant | scenario | probe | decay a | R² | x-intercept (steps) |", "|---|---|---|---|---|---|"]
    for name, v in m["variants"].items():
        for s in SCEN:
            for t in TYPES:
                f = v["mean_curve_fit"][f"{s}/{t}"] or {}
                lines.append(f"| {name} | {s} | {t} | {fmt(f.get('decay'))} | {fmt(f.get('r2'))} | "
                             f"{fmt(f.get('x_intercept_steps'))} |")
    return "\n".join(lines)


def report(ctx) -> None:
    from llmrepro.facts.claims import CLAIMS

    m = metrics({k: getattr(ctx.dep, k) for k in ("base", "large_batch", "small_model")})
    b = m["variants"]["base"]
    rows = [("effectivity, memorization / semantic / composition (control-adjusted, nats)",
             "mem > sem > comp; jumps then decays (Fig. 2)",
             " / ".join(fmt(b["effectivity"][t]["value"]) for t in TYPES)),
            ("R² of R vs log t, memorization (paraphrase / duplication)", "> 0.8",
             " / ".join(fmt(x) for x in m["claims"]["r2_memorization"].values())),
            ("decay, duplication − paraphrase (memorization)", "> 0 (paraphrase forgets slower)",
             fmt(m["claims"]["dup_minus_para_decay"]["value"])),
            ("decay, small − large batch (memorization)", "> 0; thresholds grow by dozens of times",
             fmt(m["claims"]["small_minus_large_batch_decay"]["value"])),
            ("effectivity, base − small model", "> 0 (7B > 1B)",
             fmt(m["claims"]["base_minus_small_model_effectivity"]["value"])),
            ("injected rows per batch at step 0 / later", "120 of 2048 (5.9 %)",
             f"{b['injected_rows']['step0']} / {b['injected_rows']['later']} of {b['injected_rows']['batch_rows']}")]
    publish(ctx, Report(
        paper="facts", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows, extra=decay_table(m),
        figures=[("dlogprob.png", "Δ log-probability of probe targets against step, control-subtracted, with the "
                                  "injection steps marked (Fig. 2 analogue)"),
                 ("effectivity.png", "Effectivity per scenario and probe type, and across batch size and model size"),
                 ("retainability.png", "Retainability against log t after the last injection, with fits (Fig. 4)")]))
