"""The stages at paper scale (`sami.paper_scale` set): the base and instruct models from the
hub at pinned revisions, TL;DR posts, the official constitutions, SAMI's loop and loss
unchanged, and the LLM judge. Responses are kept as text; the judge reads them.

What differs from the mini: no pretraining (the hub models are the base and the instruct
comparison), no programmatic features; the LLM judge (`full_judge`) reads the stored
greedy responses (the paper's τ = 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.sami import lm
from llmrepro.sami import loss as Lo
from llmrepro.sami import method as M
from llmrepro.sami import text as X
from llmrepro.sami.world import DESIRED


def load(ref, dtype: str):
    import torch

    from llmrepro.models.factory import load_causal_lm

    model, _ = load_causal_lm(ref.id, ref.revision, dtype=dtype)
    return model.to("cuda") if torch.cuda.is_available() else model


def tasks(ps) -> tuple[X.TextTask, X.TextTask]:
    """(evaluation posts, training posts), with the base model's tokenizer."""
    base = ps.models()[0]
    ev = X.build_task(ps, base.id, base.revision, ps.posts)
    return ev, X.TextTask(ev.tokenizer, X.load_posts(ps.train_posts), ev.constitutions)


def evaluate(model, task: X.TextTask, p, seed: int) -> dict:
    """Responses to every evaluation post under the desired constitution (greedy, and
    sampled at the evaluation temperature), and the MI bound on the first `mi_posts` posts."""
    n = min(len(task.posts), p.eval.posts)
    q = np.arange(n)
    prompts = [task.prompt(DESIRED, i) for i in q]
    kw = dict(max_new=p.schedule.max_new, eos=task.eos, pad=task.pad, batch=max(1, p.eval.batch // 64))
    greedy = lm.sample(model, prompts, temperature=0.0, seed=seed, **kw)
    sampled = lm.sample(model, prompts, temperature=p.eval.temperature, seed=seed, **kw)
    m = min(n, p.eval.mi_posts)
    rows = [[task.prompt(k, i) for k in range(4)] for i in range(m)]
    flat = lm.sample(model, [x for r in rows for x in r], temperature=p.eval.temperature, seed=seed + 1, **kw)
    mi = [float(Lo.mi_bound(lm.matrix(model, [rows[i]], [flat[4 * i:4 * i + 4]], task.pad))[0]) for i in range(m)]
    return {"posts": [task.posts[i] for i in q], "constitution": task.constitutions[DESIRED],
            "greedy": [task.text(r) for r in greedy], "sampled": [task.text(r) for r in sampled], "mi": mi}


def pretrain(p, models: Path, evals: Path, progress=None) -> dict:
    ps = p.paper_scale
    ev, _ = tasks(ps)
    out = {}
    for name, ref in zip(("base", "instruct"), ps.models()):
        model = load(ref, ps.dtype)
        for seed in p.seeds:
            io.write_json(evals / f"{name}_s{seed}.json", evaluate(model, ev, p, seed))
        out[name] = {"id": ref.id, "revision": ref.revision}
        del model
    io.write_json(models / "hub.json", out)  # the models stay in the hub cache, pinned here
    return out


def iterate(p, kinds: tuple[str, ...], out: Path, progress=None) -> dict:
    ps = p.paper_scale
    ev, train = tasks(ps)
    runs = {}
    for kind in kinds:
        for seed in p.seeds:
            base = load(ps.models()[0], ps.dtype)

            def evaluate_it(model, i, kind=kind, seed=seed):
                rec = evaluate(model, ev, p, seed)
                io.write_json(out / f"{kind}_s{seed}_it{i}.json", rec)
                return {"mi": float(np.mean(rec["mi"]))}

            runs[f"{kind}/{seed}"] = M.run_chain(base, train, p.schedule, kind, seed, max(1, p.eval.batch // 64),
                                                 evaluate_it, progress)
    io.write_json(out / "runs.json", {"kinds": list(kinds), "seeds": p.seeds, "runs": runs})
    return runs
