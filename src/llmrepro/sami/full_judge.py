"""The paper-scale judge stage and page numbers: the LLM judge on the stored responses, and
the MI bound and win rates per iteration over seeds. Kept apart from `full` so that the
training stages do not depend on the judge's code."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io


def judge_all(p, dirs: dict[str, Path]) -> dict:
    """The LLM judge: every model's greedy responses against the base's and the instruct model's."""
    from llmrepro.sami import judge as J
    from llmrepro.sami.llm_judge import Client, compare

    client = Client(p.paper_scale.judge)
    out = {}
    for s in p.seeds:
        ref = {r: io.read_json(dirs["pretrain"] / f"{r}_s{s}.json") for r in ("base", "instruct")}
        models = {"instruct": ref["instruct"]}
        for kind, stage in (("sami", "sami"), ("sft", "sft")):
            for i in range(1, len(p.schedule.steps) + 1):
                models[f"{kind}/it{i}"] = io.read_json(dirs[stage] / f"{kind}_s{s}_it{i}.json")
        row = {}
        for mi, (name, rec) in enumerate(models.items()):
            row[name] = {}
            for ri, r in enumerate(("base", "instruct")):
                if r == name:
                    continue
                rng = np.random.default_rng(np.random.SeedSequence([p.judge_seed, s, mi, ri]))
                v = compare(client, rec["posts"], rec["constitution"], rec["greedy"], ref[r]["greedy"], rng)
                longer = np.array([len(a.split()) > len(b.split()) for a, b in zip(rec["greedy"], ref[r]["greedy"])])
                row[name][r] = {"win": float(v.mean()), "sem": float(v.std(ddof=1) / np.sqrt(len(v))),
                                **{k: w for k, w in J.length_corrected(v, longer).items()
                                   if k in ("win_length_corrected", "frac_longer")}}
        out[str(s)] = row
    return {"seeds": p.seeds, "judged": out, "judge": p.paper_scale.judge.model}


def metrics(dirs: dict[str, Path], steps: list[int]) -> dict:
    """The paper-scale page's numbers: MI bound and LLM-judge win rates per iteration, over
    seeds. The mini's programmatic measurements (links, copy perplexity) do not exist here,
    so the claims that read them are inconclusive ("not measured")."""
    from llmrepro.stats import mean_ci

    judged = io.read_json(dirs["judged"])
    seeds = judged["seeds"]

    def mi(name: str, s: int) -> float:
        kind, _, it = name.partition("/")
        path = dirs[kind] / f"{kind}_s{s}_{it}.json" if it else dirs["pretrain"] / f"{name}_s{s}.json"
        return float(np.mean(io.read_json(path)["mi"]))

    win = lambda name, s, ref="base": judged["judged"][str(s)][name][ref]["win"]
    last = f"sami/it{len(steps)}"
    curve = {k: [{"mi": mean_ci([mi("base", s) for s in seeds])}] +
             [{"mi": mean_ci([mi(f"{k}/it{i}", s) for s in seeds]),
               "win_vs_base": mean_ci([win(f"{k}/it{i}", s) for s in seeds]),
               "win_vs_instruct": mean_ci([win(f"{k}/it{i}", s, "instruct") for s in seeds])}
              for i in range(1, len(steps) + 1)] for k in ("sami", "sft")}
    return {"seeds": seeds, "steps": steps, "judge": judged["judge"], "curves": curve,
            "claims": {"mi_gain": mean_ci([mi(last, s) - mi("base", s) for s in seeds]),
                       "win_it3": mean_ci([win(last, s) for s in seeds]),
                       "sami_minus_sft_mi": mean_ci([mi(last, s) - mi(f"sft/it{len(steps)}", s) for s in seeds]),
                       "sami_minus_sft_win": mean_ci([win(last, s) - win(f"sft/it{len(steps)}", s) for s in seeds]),
                       "win_it3_vs_instruct": mean_ci([win(last, s, "instruct") for s in seeds])}}
