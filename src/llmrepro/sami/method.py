"""SAMI (Algorithm 1) on the synthetic world: pretrain the base, then iterate: sample
constitution pairs for fresh queries, let the previous iterate respond under each, and
train a fresh copy of the *base* model on the contrastive matrix.

Every arm (SAMI, self-SFT, the one-sided losses) goes through the same code with the same
data sizes, steps and learning rate; only the loss differs. The loop sees a task only through
`queries`, `prompt`, `eos` and `pad` (`world.WorldTask` here, `text.TextTask` at full scale).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from llmrepro.models import factory
from llmrepro.models import train as T
from llmrepro.models.config import TrainCfg
from llmrepro.sami import lm
from llmrepro.sami import loss as Lo
from llmrepro.sami import world as W
from llmrepro.sami.config import PretrainCfg, ScheduleCfg, WorldCfg


# ---------------------------------------------------------------- pretraining

def corpus_batches(wcfg: WorldCfg, ids: W.Ids, rho: float, batch: int, seed: int) -> Callable[[int], dict]:
    """Fresh corpus rows every step (an endless seeded stream), padded; padding is not a target."""
    rng = np.random.default_rng(seed)

    def next_batch(step: int) -> dict:
        rows = [ids.prompt(c, p) + ids.summary(s) for c, p, s in W.corpus_rows(rng, batch, wcfg, rho)]
        width = max(len(r) for r in rows)
        x = torch.full((batch, width), ids.pad, dtype=torch.long)
        for i, r in enumerate(rows):
            x[i, :len(r)] = torch.as_tensor(r)
        return {"input_ids": x, "labels": x.masked_fill(x == ids.pad, -100)}

    return next_batch


def pretrain(wcfg: WorldCfg, cfg: PretrainCfg, ids: W.Ids, vocab_size: int, seed: int, progress=None):
    """The base: a from-scratch tiny LM on the rho corpus (the weak link)."""
    model = factory.build(cfg.model, vocab_size, seed=seed)
    hist, _ = T.train(model, corpus_batches(wcfg, ids, wcfg.rho, cfg.train.batch, seed), cfg.train,
                      progress=progress)
    return model, hist


def instruct(base, wcfg: WorldCfg, cfg: PretrainCfg, ids: W.Ids, seed: int, progress=None):
    """The instruct baseline: the base trained further on fully adherent data (rho = 1)."""
    model = copy.deepcopy(base)
    tcfg = cfg.train.model_copy(update={"steps": cfg.instruct_steps, "lr": cfg.instruct_lr, "warmup": 0})
    torch.manual_seed(seed)
    hist, _ = T.train(model, corpus_batches(wcfg, ids, 1.0, cfg.train.batch, seed + 7919), tcfg, progress=progress)
    return model, hist


# ---------------------------------------------------------------- self-generated data

@dataclass
class Pairs:
    """Per query: a post, two constitutions, and the response sampled under each."""

    posts: np.ndarray  # (n, ...) the task's query handles
    cons: np.ndarray  # (n, 2) constitution indices
    responses: list[list[list[int]]]  # [query][j] token ids

    def __len__(self) -> int:
        return len(self.posts)

    def take(self, keep: np.ndarray) -> Pairs:
        idx = np.flatnonzero(keep)
        return Pairs(self.posts[idx], self.cons[idx], [self.responses[i] for i in idx])


def constitution_pairs(rng: np.random.Generator, n: int, how: str) -> np.ndarray:
    """(desired, one of the other three) per query, as the official code samples them;
    or `random`: two distinct constitutions, as Algorithm 1 reads."""
    if how == "desired":
        return np.stack([np.full(n, W.DESIRED), 1 + rng.integers(0, 3, n)], axis=1)
    first = rng.integers(0, 4, n)
    return np.stack([first, (first + 1 + rng.integers(0, 3, n)) % 4], axis=1)


def self_generate(model, task, sched: ScheduleCfg, n: int, seed: int, batch: int) -> Pairs:
    """n queries with responses from `model`; pairs whose two responses are identical are
    dropped (they carry no contrast), so more queries are drawn than needed."""
    rng = np.random.default_rng(seed)
    m = int(np.ceil(n * sched.overgenerate))
    posts = task.queries(rng, m)
    cons = constitution_pairs(rng, m, sched.pair)
    prompts = [task.prompt(int(k), p) for p, ks in zip(posts, cons) for k in ks]
    flat = lm.sample(model, prompts, max_new=sched.max_new, temperature=sched.temperature, seed=seed,
                     eos=task.eos, pad=task.pad, batch=batch)
    pairs = Pairs(posts, cons, [flat[2 * i:2 * i + 2] for i in range(m)])
    keep = np.array([r[0] != r[1] for r in pairs.responses])
    pairs = pairs.take(keep)
    return pairs.take(np.arange(len(pairs)) < n)


# ---------------------------------------------------------------- training from the base

def pair_batches(pairs: Pairs, task, queries: int, seed: int) -> Callable[[int], dict]:
    """Step s trains on the next `queries` queries of a seeded permutation (cycling if the
    data run out): each query gives the 2 x 2 rows (c_i, y_j)."""
    order = np.random.default_rng(seed).permutation(len(pairs))

    def next_batch(step: int) -> dict:
        idx = order[np.arange(step * queries, (step + 1) * queries) % len(order)]
        prompts = [[task.prompt(int(k), pairs.posts[q]) for k in pairs.cons[q]] for q in idx]
        resp = [pairs.responses[q] for q in idx]
        flat_p = [p[i] for p in prompts for i in range(2) for _ in range(2)]
        flat_r = [r[j] for r in resp for _ in range(2) for j in range(2)]
        x, mask = lm.pack(flat_p, flat_r, task.pad)
        return {"input_ids": x, "mask": mask, "queries": len(idx)}

    return next_batch


def loss_of(kind: str) -> Callable:
    """SAMI and its one-sided ablations score the 2 x 2 matrix of mean per-token
    log-probs; self-SFT is plain SFT on the same rows' diagonal (each response under the
    constitution it was sampled for): the token-level negative log-likelihood."""
    def fn(model, batch: dict) -> torch.Tensor:
        total, n = lm.sum_logprobs(model, batch["input_ids"], batch["mask"])
        if kind == "sft":
            diag = torch.tensor([True, False, False, True], device=total.device).repeat(batch["queries"])
            return -total[diag].sum() / n[diag].sum()
        return Lo.loss((total / n.clamp(min=1)).view(batch["queries"], 2, 2), kind)

    return fn


def schedule_cfg(sched: ScheduleCfg, steps: int) -> TrainCfg:
    """Constant learning rate, no warm-up, no weight decay (the official trainer's setting)."""
    return TrainCfg(steps=steps, batch=sched.queries, lr=sched.lr, warmup=0, min_lr_ratio=1.0, weight_decay=0.0,
                    beta2=sched.beta2, grad_clip=sched.grad_clip)


def train_from_base(base, pairs: Pairs, task, sched: ScheduleCfg, kind: str, steps: int, seed: int,
                    evaluate_at: dict[int, Callable] | None = None):
    """A fresh copy of the base, trained `steps` steps with loss `kind`; `evaluate_at`
    maps a step count to a callback run on the model at that point."""
    model = copy.deepcopy(base)
    torch.manual_seed(seed)
    on_step = None
    if evaluate_at:
        def on_step(step, m):
            if step + 1 in evaluate_at:
                m.eval()
                with torch.no_grad():
                    evaluate_at[step + 1](m)
                m.train()
    hist, _ = T.train(model, pair_batches(pairs, task, sched.queries, seed), schedule_cfg(sched, steps),
                      loss_fn=loss_of(kind), on_step=on_step)
    return model, hist


def run_chain(base, task, sched: ScheduleCfg, kind: str, seed: int, batch: int,
              evaluate: Callable, progress=None, evaluate_last_only: bool = False) -> list[dict]:
    """Iterations 1..N: data from the previous iterate (the base first), training from the base;
    `evaluate(model, iteration)` after each (or only after the last)."""
    gen, out = base, []
    its = range(len(sched.steps))
    for it in progress(its, total=len(its), desc=f"{kind} seed {seed}") if progress else its:
        data_seed = int(np.random.SeedSequence([seed, it, 1]).generate_state(1)[0])
        pairs = self_generate(gen, task, sched, sched.steps[it] * sched.queries, data_seed, batch)
        model, hist = train_from_base(base, pairs, task, sched, kind, sched.steps[it], seed + 1000 * (it + 1))
        last = it + 1 == len(sched.steps)
        out.append({"iteration": it + 1, "queries": len(pairs), "steps": sched.steps[it],
                    "loss_first": hist["loss"][0], "loss_last": hist["loss"][-1],
                    **(evaluate(model, it + 1) if last or not evaluate_last_only else {})})
        gen = model
    return out
