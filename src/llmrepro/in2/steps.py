"""What each in2 stage computes: the shared retrieval stage (gated), one fine-tuning
arm over seeds, and (full scale) VaL probing of real models."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.in2 import data as D
from llmrepro.in2 import probing as P
from llmrepro.in2 import training as TR
from llmrepro.pipeline import pool


class GateError(RuntimeError):
    """Stage 1 did not teach general retrieval: fine-tuning on top of it could not test the paper."""


def _thin(xs: list[float], k: int = 200) -> list[float]:
    return [float(x) for x in xs[:: max(1, len(xs) // k)]]


def retrieval(p, out_model: Path, progress=None) -> dict:
    """Stage 1, one model per seed in `retrieval.seeds` (saved as seed<k>): a fresh tiny
    Llama first copies random sequences forwards and backwards (dense supervision:
    content-based look-up in both directions), then answers questions on short contexts
    (curriculum on the record count, uniform positions, all three probe styles). Every
    model must pass the gate."""
    runs = pool.run(_retrieval_one, [(p, seed) for seed in p.retrieval.seeds], progress=progress, desc="seeds")
    r = p.retrieval
    acc = {s: min(m["gate"]["accuracy"][s] for m, _ in runs) for s in D.STYLES}
    res = {"gate": {"threshold": r.gate, "n": r.n_max, "accuracy": acc,
                    "ends": {s: min(m["gate"]["ends"][s] for m, _ in runs) for s in D.STYLES},
                    "passed": all(m["gate"]["passed"] for m, _ in runs)},
           "final_loss": float(np.mean([m["final_loss"] for m, _ in runs])),
           "tokens": sum(m["tokens"] for m, _ in runs),
           "tokens_per_s": float(np.mean([m["tokens_per_s"] for m, _ in runs])),
           "cpu_seconds": sum(m["cpu_seconds"] for m, _ in runs),
           "params": runs[0][0]["params"], "vocab": runs[0][0]["vocab"], "runs": [m for m, _ in runs]}
    failed = [m for m, _ in runs if not m["gate"]["passed"]]
    if failed:
        raise GateError(
            "stage 1 did not learn general retrieval: " + "; ".join(
                f"seed {m['seed']} at {r.n_max} records " + ", ".join(f"{s} {a:.3f}" for s, a in m["gate"]["accuracy"].items())
                for m in failed)
            + f" (gate: every style >= {r.gate}). Fine-tuning on this model could not test IN2; "
              "raise in2.retrieval.train.steps or shrink in2.vocab_keys.")
    from llmrepro.models import train as T

    vocab = D.Vocab(p.vocab_keys)
    for m, model in runs:
        T.save_checkpoint(out_model / f"seed{m['seed']}", model, tokenizer=vocab.tokenizer(),
                          meta={k: v for k, v in m.items() if not k.endswith("loss")})
    return res


def _retrieval_one(p, seed: int, progress=None):
    import torch

    from llmrepro.models import factory

    torch.manual_seed(seed)
    r = p.retrieval
    vocab = D.Vocab(p.vocab_keys)
    model = TR.build(p.model, vocab.size, seed=seed)
    t0 = time.process_time()
    copy = {"loss": []}
    if r.copy_steps:
        copy_cfg = r.train.model_copy(update={"steps": r.copy_steps, "min_lr_ratio": 1.0})
        copy = TR.run(model, TR.copy_batches(vocab, r.copy_min, r.copy_max, r.train.batch, seed), copy_cfg,
                      progress)
    mix = D.Mix(n_min=r.n_min, n_max=r.n_max, queries=r.queries)
    nb = TR.batches(vocab, lambda step: mix, TR.curriculum(r.n_min, r.n_max, r.ramp_steps, r.train.batch),
                    mix.max_len, seed)
    hist = TR.run(model, nb, r.train, progress)
    # The gate: held-out contexts at the longest stage-1 length, every position and style.
    gate = P.probe(model, vocab, r.n_max, r.gate_per_position, min(r.n_max, 4), seed=seed + 10_000)
    acc = {s: gate[s]["mean"] for s in D.STYLES}
    ends = {s: float(np.mean([gate[s]["per_position"][0], gate[s]["per_position"][-1]])) for s in D.STYLES}
    res = {"seed": seed, "gate": {"accuracy": acc, "ends": ends, "passed": bool(min(acc.values()) >= r.gate)},
           "copy_loss": _thin(copy["loss"]), "loss": _thin(hist["loss"]), "final_loss": float(np.mean(hist["loss"][-20:])),
           "tokens": hist["tokens"], "tokens_per_s": hist["tokens_per_s"],
           "cpu_seconds": time.process_time() - t0, "params": factory.n_params(model), "vocab": vocab.size}
    return res, model


def finetune(p, arm: str, model_dir: Path, out_models: Path, progress=None) -> dict:
    """Stage 2 for one arm, once per seed: start from that seed's stage-1 model (the
    i-th fine-tuning seed from retrieval.seeds[i]), train with the arm's context lengths
    and answer positions at a fixed token budget per step, then probe every position and
    style on held-out contexts drawn for that seed (the same for every arm, so arms stay
    paired by seed, while seeds differ in stage-1 model and probe set alike)."""
    from llmrepro.models import train as T

    f = p.finetune
    jobs = [(p, arm, model_dir, seed, stage1) for seed, stage1 in zip(f.seeds, p.retrieval.seeds, strict=True)]
    done = pool.run(_finetune_one, jobs, progress=progress, desc="seeds")
    for run, model, tok in done:
        T.save_checkpoint(out_models / f"seed{run['seed']}", model, tokenizer=tok)
    return {"arm": arm, "mix": getattr(p.arms, arm).model_dump(), "steps": f.train.steps, "runs": [r for r, _, _ in done]}


def _finetune_one(p, arm: str, model_dir: Path, seed: int, stage1: int):
    import torch

    from llmrepro.models import factory

    f, a, pr = p.finetune, getattr(p.arms, arm), p.probe
    vocab = D.Vocab(p.vocab_keys)
    mix = D.Mix(n_min=a.n_min, n_max=a.n_max, queries=f.queries, p_ends=a.p_ends, ends=a.ends,
                integration=a.integration)
    torch.manual_seed(seed)
    model, tok = factory.load_causal_lm(model_dir / f"seed{stage1}")
    audit: dict = {}
    nb = TR.budget_batches(vocab, mix, f.tokens_per_step, f.train.batch, seed, audit)
    t0 = time.process_time()
    hist = TR.run(model, nb, f.train)
    cpu_train = time.process_time() - t0
    t1 = time.process_time()
    long = P.probe(model, vocab, pr.n, pr.per_position, pr.buckets, (pr.probe_seed, seed, 0), pr.batch)
    short = P.probe(model, vocab, pr.short_n, pr.short_per_position, min(pr.short_n, pr.buckets),
                    (pr.probe_seed, seed, 1), pr.batch)
    integ = P.integration(model, vocab, pr.n, max(1, pr.n * pr.per_position // 4), (pr.probe_seed, seed, 0),
                          pr.batch)
    rel = np.concatenate(audit["rel"])
    run = {"seed": seed, "stage1_seed": stage1, "long": long, "short": {s: short[s]["mean"] for s in D.STYLES},
           "integration": integ,
           "loss": _thin(hist["loss"]), "final_loss": float(np.mean(hist["loss"][-20:])),
           "tokens": audit["tokens"], "answer_tokens": audit["answers"], "rows": audit["rows"],
           "supervised_positions": np.histogram(rel, bins=10, range=(0, 1))[0].tolist(),
           "cpu_seconds": {"train": cpu_train, "probe": time.process_time() - t1}}
    return run, model, tok
