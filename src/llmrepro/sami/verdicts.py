"""The judge stage: every model's responses under `brief all` against the base model's and
the instruct model's, post by post, with the A/B order randomized (numpy only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro.sami import judge as J

KINDS = ("sami", "sft", "rows", "cols")
STAGE_OF = {"sami": "sami", "sft": "sft", "rows": "ablate", "cols": "ablate"}
CURVES = ("sami", "sft")  # evaluated at every iteration; the one-sided losses only at the last


def iterations(kind: str, n: int) -> range:
    return range(1, n + 1) if kind in CURVES else range(n, n + 1)


def load(path: Path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def compare(a: dict, b: dict, rng_seed: list[int], noisy) -> dict:
    """Model a against model b: the programmatic judge on the sampled responses (tau = 1),
    the noisy judge on the same, and the programmatic judge on the greedy ones (tau = 0)."""
    rngs = [np.random.default_rng(np.random.SeedSequence([*rng_seed, k])) for k in range(3)]
    main = J.pairwise(J.score(a), J.score(b), a["desired_length"], b["desired_length"], rngs[0])
    loud = J.pairwise(J.score(a), J.score(b), a["desired_length"], b["desired_length"], rngs[1],
                      noisy.position_bias, noisy.flip)
    greedy = J.pairwise(J.score(a, "greedy")[:, None], J.score(b, "greedy")[:, None], a["greedy_length"][:, None],
                        b["greedy_length"][:, None], rngs[2])
    return {"win": main["win"], "sem": main["sem"], "win_length_corrected": main["win_length_corrected"],
            "frac_longer": main["frac_longer"], "win_noisy": loud["win"], "win_greedy": greedy["win"]}


def judge_all(p, dirs: dict[str, Path]) -> dict:
    """{seed: {"<model>": {"base": comparison, "instruct": comparison}}}; models are
    `instruct`, `<kind>/it<i>` and `overtrain/x<k>`. At paper scale, the LLM judge."""
    if p.paper_scale is not None:
        from llmrepro.sami import full_judge

        return full_judge.judge_all(p, dirs)
    out = {}
    for s in p.seeds:
        base, inst = load(dirs["pretrain"] / f"base_s{s}.npz"), load(dirs["pretrain"] / f"instruct_s{s}.npz")
        models = {"base": base, "instruct": inst}
        for kind in KINDS:
            for i in iterations(kind, len(p.schedule.steps)):
                models[f"{kind}/it{i}"] = load(dirs[STAGE_OF[kind]] / f"{kind}_s{s}_it{i}.npz")
        for k in p.overtrain.evaluate_at:
            models[f"overtrain/x{k}"] = load(dirs["overtrain"] / f"over_s{s}_x{k}.npz")
        row = {}
        for mi, (name, rec) in enumerate(models.items()):
            row[name] = {ref: compare(rec, models[ref], [p.judge_seed, s, mi, ri], p.noisy_judge)
                         for ri, ref in enumerate(("base", "instruct")) if ref != name}
        out[str(s)] = row
    return {"seeds": p.seeds, "judged": out}

