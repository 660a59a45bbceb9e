"""hwgpt metrics, claims and page."""

from __future__ import annotations

from pathlib import Path

from llmrepro import io
from llmrepro.hwgpt import analysis as A
from llmrepro.hwgpt.space import Space
from llmrepro.report.pages import Report, fmt, publish

BOOT_SEED = 0  # the bootstrap's own seed: a resampling detail, not an experimental seed


def build_metrics(p, hist, standalone, ppl, hw, heldout, search) -> dict:
    space = Space.from_params(p.space, ppl["vocab"])
    nb = p.surrogates.n_boot
    se = A.search_metrics(search, p.search.small_budget, p.search.budget)
    return {
        "space": {"size": space.size(), "largest_params": space.params(space.largest),
                  "smallest_params": space.params(space.smallest)},
        "hardware": A.hardware_metrics(hw, ppl["nll"], space, nb, BOOT_SEED),
        "surrogates": A.surrogate_metrics(heldout, nb, BOOT_SEED),
        "supernet": A.supernet_metrics(hist, standalone, ppl, nb, BOOT_SEED),
        "search": se,
        "timings": {"hardware_measure_s": hw["measure_s"], "hardware_warmup_s": hw["warmup_s"],
                    "memory_check_s": hw["memory_check_s"],
                    "search_cpu_s": {d: {k: sum(r["cpu_s"] for r in runs) for k, runs in dev["runs"].items()}
                                     for d, dev in search["devices"].items()},
                    "supernet_tokens_per_s": hist["tokens_per_s"]},
    }


def _ci(m) -> str:
    if not isinstance(m, dict) or m.get("value") is None:
        return "–" if not isinstance(m, dict) else f"– ({m.get('why', '')})"
    s = fmt(m["value"])
    return s + (f" [{fmt(m['ci'][0])}, {fmt(m['ci'][1])}]" if m.get("ci") else "")


def rows(m: dict, p) -> list[tuple[str, str, str]]:
    hw, sn, se = m["hardware"], m["supernet"], m["search"]
    devs = list(hw["devices"])
    out = [("search space", "GPT-S/M/L: 10^12-10^35 architectures, up to GPT-2 large shape",
            f"GPT-XS: {m['space']['size']} architectures ({fmt(m['space']['smallest_params'] / 1e6)}M-"
            f"{fmt(m['space']['largest_params'] / 1e6)}M parameters), enumerated whole"),
           ("devices", "13 (8 GPUs, 5 CPUs); latency, energy, memory",
            "2 operating points of this CPU: " + ", ".join(f"{d} ({v['threads']} thread(s), batch {v['batch']})"
                                                          for d, v in hw["devices"].items())
            + "; energy not measured (" + hw["energy"]["why"] + ")"),
           ("load while measuring", "–", f"1-min load median {fmt(hw['load']['loadavg1_median'])}, max "
            f"{fmt(hw['load']['loadavg1_max'])}; quiet: {fmt(hw['quiet'])}")]
    for d in devs:
        v = hw["devices"][d]
        out.append((f"{d}: latency noise", "heteroscedastic (qualitative)",
                    f"median CV {fmt(v['cv_median'])}; Spearman(mean, std) {_ci(v['heteroscedasticity'])}; "
                    f"split-half tau {_ci(v['split_half_tau'])}; tau(latency, FLOPs) {_ci(v['tau_flops'])}"))
    out.append(("Pareto sets across devices", "differ (qualitative)",
                f"Jaccard {fmt(hw['pareto']['jaccard_between'])} (measured sample); split-half within devices "
                + ", ".join(f"{d} {fmt(j)}" for d, j in hw["pareto"]["jaccard_within"].items())
                + f"; benchmark fronts over the whole space: Jaccard {fmt(se.get('benchmark_front_jaccard'))}"))
    for d in devs:
        s = m["surrogates"][f"latency_{d}"]
        out.append((f"{d}: surrogate calibration (area, main split / 90 % coverage over every split)", "AutoGluon best calibrated (not verified)",
                    "; ".join(f"{k} {fmt(s[k]['area'])} / {_ci(s[k]['coverage90'])}" for k in ("mlp", "ensemble",
                                                                                               "quantile", "gp"))))
    out.append(("supernet vs standalone", "rank-correlated (value not verified)",
                f"Kendall tau {_ci(sn['tau_inherited_standalone'])} over {len(sn['standalone_nll'])} architectures"))
    for d in devs:
        v = se[d]
        out.append((f"{d}: HV at {p.search.small_budget} evaluations", "guided > RS (numbers not verified)",
                    "; ".join(f"{k} {fmt(x['hv_small']['value'])}" for k, x in v["methods"].items())
                    + f" (true front {fmt(v['hv_true'])})"))
    return out


def report(ctx) -> None:
    from llmrepro.hwgpt.claims import CHANGES, CLAIMS

    p = ctx.params.hwgpt
    m = build_metrics(p, io.read_json(ctx.dep.supernet / "history.json"), io.read_json(ctx.dep.standalone),
                      io.read_json(ctx.dep.ppl), io.read_json(ctx.dep.hardware),
                      io.read_json(ctx.dep.surrogates / "heldout.json"), io.read_json(ctx.dep.search))
    hw = m["hardware"]
    lost = [v["preempted_fraction"] for v in hw["devices"].values() if v["preempted_fraction"] is not None]
    notes = [f"Latencies were measured on `{hw['machine']}` with a 1-minute load average of median "
             f"{fmt(hw['load']['loadavg1_median'])} (max {fmt(hw['load']['loadavg1_max'])}; this stage's own threads "
             f"included) on its {hw['machine'].split('|')[1].strip()}; {fmt(100 * max(lost)) if lost else '–'} % of the "
             "one-thread passes lost more than 20 % of their time to other processes; the machine counted as "
             f"{'quiet' if hw['quiet'] else 'NOT quiet: the latency noise here is largely the machine’s (other processes), not the architectures’'}.",
             f"Measurement took {fmt(m['timings']['hardware_measure_s'])} s after {fmt(m['timings']['hardware_warmup_s'])} s "
             f"of warm-ups, plus {fmt(m['timings']['memory_check_s'])} s of peak-RSS checks."]
    sn, se = m["supernet"], m["search"]

    def half(x):
        return None if not isinstance(x, dict) or not x.get("ci") else (x["ci"][1] - x["ci"][0]) / 2

    d0 = next(iter(hw["devices"]))
    rs = se[d0]["methods"]["rs"]["hv_small"]
    notes.append(f"Resolution: Kendall tau of latency against FLOPs is known to +-{fmt(half(hw['devices'][d0]['tau_flops']))} "
                 f"({hw['archs']} architectures); tau of inherited against standalone NLL to "
                 f"+-{fmt(half(sn['tau_inherited_standalone']))} ({len(sn['standalone_nll'])} architectures); random "
                 f"search's mean hypervolume at {p.search.small_budget} evaluations to +-{fmt(half(rs))} "
                 f"({fmt(100 * (half(rs) or 0) / se[d0]['hv_true'])} % of the true front's, {len(p.search.seeds)} seeds).")
    notes.append(f"Standalone noise: two initialisations of {m['supernet']['standalone_keys'][len(m['supernet']['standalone_keys']) // 2]} "
                 f"differ by {fmt(m['supernet']['init_seed_difference'])} nats, against a range of "
                 f"{fmt(m['supernet']['standalone_range'])} nats across architectures; one repeat is a rough estimate "
                 "of training noise.")
    mem = hw["memory"]
    if mem.get("checked"):
        notes.append(f"Memory: analytic fp32 bytes against peak-RSS growth of a fresh process for {mem['checked']} "
                     f"architectures: Pearson {fmt(mem['pearson']['value'])}, median measured/analytic "
                     f"{fmt(mem['ratio_median'])}.")
    publish(ctx, Report(
        paper="hwgpt", metrics=m, claims=CLAIMS, scale=ctx.params.common.scale,
        narrative=(Path(__file__).parent / "report.md").read_text(), rows=rows(m, p), notes=notes, changes=CHANGES,
        figures=[("latency_std_vs_mean.png", "Heteroscedasticity: std of the round-robin repeats against their mean, per "
                  "architecture and device; colour: the share of that architecture's 1-thread passes that waited "
                  "> 25 % of their time for the CPU (other processes)"),
                 ("calibration.png", "Calibration on held-out architectures: observed against nominal coverage of "
                  "central intervals; bands: 95 % bootstrap over held-out architectures"),
                 ("predicted_vs_measured.png", "Predicted against measured means on held-out architectures, with "
                  "the surrogates' 90 % intervals for one measurement"),
                 ("pareto_fronts.png", "Perplexity against median latency for the measured architectures (bars: "
                  "inter-quartile range of the repeats) with each device's Pareto set"),
                 ("hypervolume.png", "Hypervolume regret against evaluations on the surrogate benchmark; bands: "
                  "95 % interval of the mean over seeds; dotted: the small budget of C4"),
                 ("supernet_vs_standalone.png", "Left: inherited against standalone validation NLL (labels: "
                  "parameters; bar: two initialisations of one architecture). Right: the sandwich training losses")]))
