"""What each sami stage computes. Models are evaluated where they are trained, so a stage
loads each base once and never saves the iterates (only their evaluations)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.data.tokenizer import word_level
from llmrepro.pipeline import pool
from llmrepro.sami import evaluate as E
from llmrepro.sami import method as M
from llmrepro.sami import world as W

ARMS = {"sami": ("sami",), "sft": ("sft",), "ablate": ("rows", "cols")}  # stage -> loss kinds
ABLATIONS = ("rows", "cols")  # evaluated after the last iteration only (the budget)


def world(p) -> tuple:
    tok = word_level(W.words(p.world.n_facts, p.world.fillers))
    return tok, W.Ids.from_vocab(tok.get_vocab(), p.world.n_facts, p.world.fillers)


def eval_seed(seed: int, tag: int) -> int:
    """The sampling seed of one evaluation: fixed per (run seed, model), distinct across both."""
    return int(np.random.SeedSequence([seed, tag, 7]).generate_state(1)[0])


def save_eval(path: Path, rec: dict) -> dict:
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in rec.items()})
    return E.scalars(rec)


def load_eval(path: Path) -> dict:
    with np.load(path) as z:
        return {k: (z[k].item() if z[k].ndim == 0 else z[k]) for k in z.files}


def pretrain(p, models: Path, evals: Path, progress=None) -> dict:
    """Per seed: the base (weak link, rho) and the instruct baseline (rho = 1), each evaluated.
    At paper scale: the hub's base and instruct models, evaluated."""
    from llmrepro.models import factory
    from llmrepro.models.train import save_checkpoint

    if p.paper_scale is not None:
        from llmrepro.sami import full

        return full.pretrain(p, models, evals, progress)

    rows = pool.run(_pretrain_one, [(p, models, evals, seed) for seed in p.seeds], progress=progress, desc="seeds")
    out = {str(seed): row for seed, row in zip(p.seeds, rows)}
    io.write_json(evals / "pretrain.json", out)
    return out


def _pretrain_one(p, models: Path, evals: Path, seed: int) -> dict:
    from llmrepro.models import factory
    from llmrepro.models.train import save_checkpoint

    tok, ids = world(p)
    held = E.heldout(p.world, p.world_seed, p.eval, seed)
    base, hist = M.pretrain(p.world, p.pretrain, ids, len(tok), seed)
    inst, ihist = M.instruct(base, p.world, p.pretrain, ids, seed)
    row = {"params": factory.n_params(base), "final_loss": float(np.mean(hist["loss"][-20:])),
           "instruct_final_loss": float(np.mean(ihist["loss"][-20:])), "tokens_per_s": hist["tokens_per_s"],
           "loss": hist["loss"][:: max(1, len(hist["loss"]) // 100)]}
    for name, model in (("base", base), ("instruct", inst)):
        save_checkpoint(models / f"{name}_s{seed}", model, tokenizer=tok)
        rec = E.evaluate(model, ids, held, p.eval, p.schedule.max_new, eval_seed(seed, 0 if name == "base" else 1))
        row[name] = save_eval(evals / f"{name}_s{seed}.npz", rec)
    return row


def _base(models: Path, seed: int):
    from llmrepro.models.factory import load_causal_lm

    return load_causal_lm(models / f"base_s{seed}")[0]


def iterate(p, stage: str, models: Path, out: Path, progress=None) -> dict:
    """SAMI's iterations (or a control's, with its own loss) for every seed."""
    if p.paper_scale is not None:
        from llmrepro.sami import full

        return full.iterate(p, ARMS[stage] if stage != "ablate" else (), out, progress)
    jobs = [(p, kind, models, out, seed) for kind in ARMS[stage] for seed in p.seeds]
    done = pool.run(_iterate_one, jobs, progress=progress, desc="runs")
    runs = {f"{kind}/{seed}": run for (_, kind, _, _, seed), run in zip(jobs, done)}
    io.write_json(out / "runs.json", {"kinds": list(ARMS[stage]), "seeds": p.seeds, "runs": runs})
    return runs


def _iterate_one(p, kind: str, models: Path, out: Path, seed: int) -> dict:
    _, ids = world(p)
    base = _base(models, seed)
    held = E.heldout(p.world, p.world_seed, p.eval, seed)

    def evaluate(model, i):
        rec = E.evaluate(model, ids, held, p.eval, p.schedule.max_new, eval_seed(seed, 10 * i + 2))
        return save_eval(out / f"{kind}_s{seed}_it{i}.npz", rec)

    return M.run_chain(base, W.WorldTask(ids, p.world), p.schedule, kind, seed, p.eval.batch, evaluate,
                       evaluate_last_only=kind in ABLATIONS)


def overtrain(p, models: Path, out: Path, progress=None) -> dict:
    """The degeneration control: SAMI on the base's own data (the size of the last
    iteration's), trained for `factor` times the last iteration's steps. Not run at paper scale."""
    if p.paper_scale is not None:
        io.write_json(out / "runs.json", {"seeds": p.seeds, "evaluate_at": p.overtrain.evaluate_at,
                                          "not_run": "the over-training control runs at mini scale only"})
        return {}
    last = p.schedule.steps[-1]
    done = pool.run(_overtrain_one, [(p, models, out, seed) for seed in p.seeds], progress=progress, desc="seeds")
    runs = {str(seed): run for seed, run in zip(p.seeds, done)}
    io.write_json(out / "runs.json", {"seeds": p.seeds, "evaluate_at": p.overtrain.evaluate_at, "steps_unit": last,
                                      "runs": runs})
    return runs


def _overtrain_one(p, models: Path, out: Path, seed: int) -> dict:
    _, ids = world(p)
    last = p.schedule.steps[-1]
    base = _base(models, seed)
    held = E.heldout(p.world, p.world_seed, p.eval, seed)
    data_seed = int(np.random.SeedSequence([seed, 0, 1]).generate_state(1)[0])  # iteration 1's data stream
    task = W.WorldTask(ids, p.world)
    pairs = M.self_generate(base, task, p.schedule, last * p.schedule.queries, data_seed, p.eval.batch)
    rows = {}

    def at(k):
        def fn(model):
            rec = E.evaluate(model, ids, held, p.eval, p.schedule.max_new, eval_seed(seed, 100 + k))
            rows[k] = save_eval(out / f"over_s{seed}_x{k}.npz", rec)
        return fn

    _, hist = M.train_from_base(base, pairs, task, p.schedule, "sami", last * p.overtrain.factor, seed + 5000,
                                evaluate_at={last * k: at(k) for k in p.overtrain.evaluate_at})
    return {"queries": len(pairs), "steps": last * p.overtrain.factor,
            "loss": hist["loss"][:: max(1, len(hist["loss"]) // 100)],
            "at": {str(k): rows[k] for k in sorted(rows)}}
