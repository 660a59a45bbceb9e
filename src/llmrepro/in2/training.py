"""Stage 1 (general retrieval on short contexts, shared) and stage 2 (long-context
fine-tuning, "natural" or IN2), both through the project's one training loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llmrepro.in2 import data as D
from llmrepro.models.config import TrainCfg


def build(cfg, vocab_size: int, seed: int):
    """The project's tiny Llama, with the RoPE base set when the config gives one (the
    factory keeps transformers' default); the base is saved in the checkpoint's config."""
    from llmrepro.models import factory

    model = factory.build(cfg, vocab_size, seed=seed)
    if cfg.rope_theta is not None:
        model.config.rope_parameters = {"rope_type": "default", "rope_theta": float(cfg.rope_theta)}
        model.model.rotary_emb = type(model.model.rotary_emb)(model.config)
    return model


def batches(vocab: D.Vocab, mix_at: Callable[[int], D.Mix], n_at: Callable[[int, np.random.Generator], np.ndarray],
            length: int, seed: int):
    """`next_batch(step)` for models.train.train: record counts from `n_at` (its own
    generator), rows from `mix_at(step)`, padded to `length`."""
    import torch

    len_rng = np.random.default_rng([seed, 0])
    data_rng = np.random.default_rng([seed, 1])

    def next_batch(step: int):
        b = D.batch(data_rng, vocab, n_at(step, len_rng), mix_at(step), length)
        return {"input_ids": torch.from_numpy(b["input_ids"]), "labels": torch.from_numpy(b["labels"])}

    return next_batch


def budget_batches(vocab: D.Vocab, mix: D.Mix, budget: int, max_rows: int, seed: int, audit: dict):
    """`next_batch(step)` of rows filling `budget` tokens per step (data.budget_batch).
    `audit` collects the relative positions of supervised records ("rel"), and counts
    real tokens ("tokens"), answer tokens ("answers") and rows ("rows")."""
    import torch

    rng = np.random.default_rng([seed, 1])

    def next_batch(step: int):
        b = D.budget_batch(rng, vocab, mix, budget, max_rows)
        audit.setdefault("rel", []).append(b["rel_pos"])
        for k, v in (("tokens", b["tokens"]), ("answers", int((b["labels"] != D.IGNORE).sum())),
                     ("rows", len(b["input_ids"]))):
            audit[k] = audit.get(k, 0) + v
        return {"input_ids": torch.from_numpy(b["input_ids"]), "labels": torch.from_numpy(b["labels"])}

    return next_batch


def copy_batches(vocab: D.Vocab, len_min: int, len_max: int, rows: int, seed: int):
    """`next_batch(step)` of copy warm-up rows (data.copy_batch)."""
    import torch

    rng = np.random.default_rng([seed, 2])
    length = 2 + 2 * len_max

    def next_batch(step: int):
        return {k: torch.from_numpy(v) for k, v in D.copy_batch(rng, vocab, rows, len_min, len_max, length).items()}

    return next_batch


def curriculum(n_min: int, n_max: int, ramp_steps: int, rows: int):
    """Stage 1's record counts: uniform in [n_min, hi], hi growing linearly from n_min
    to n_max over the first `ramp_steps` steps (short contexts first)."""

    def n_at(step: int, rng: np.random.Generator) -> np.ndarray:
        frac = min(1.0, (step + 1) / ramp_steps) if ramp_steps else 1.0
        hi = n_min + int(round(frac * (n_max - n_min)))
        return rng.integers(n_min, hi + 1, rows)

    return n_at


def run(model, next_batch, cfg: TrainCfg, progress=None, optimizer=None) -> dict:
    from llmrepro.models import train as T

    hist, opt = T.train(model, next_batch, cfg, optimizer=optimizer, progress=progress)
    return {"loss": hist["loss"], "tokens": hist["tokens"], "train_seconds": hist["train_seconds"],
            "tokens_per_s": hist["tokens_per_s"], "optimizer": opt}
