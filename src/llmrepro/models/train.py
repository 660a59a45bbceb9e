"""The one training loop every from-scratch model uses.

AdamW, linear warm-up then cosine decay to a floor, gradient clipping, optional
bf16 autocast, fixed seeds, a progress bar on stderr, and throughput in tokens
per second so the benchmark can compare it with the matmul ceiling.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from llmrepro.models.config import TrainCfg


def lr_at(step: int, cfg: TrainCfg, total: int | None = None) -> float:
    total = total or cfg.steps
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, total - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def window_batches(ids: np.ndarray, batch: int, context: int, seed: int) -> Callable[[int], Any]:
    """Random contiguous windows of `context` tokens; the same seed gives the same stream."""
    import torch

    rng = np.random.default_rng(seed)
    hi = len(ids) - context
    if hi <= 0:
        raise ValueError(f"corpus of {len(ids)} tokens is shorter than the context {context}")

    def next_batch(step: int):
        starts = rng.integers(0, hi, batch)
        return torch.from_numpy(np.stack([ids[s:s + context] for s in starts]).astype(np.int64))

    return next_batch


def make_optimizer(model, cfg: TrainCfg):
    import torch

    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2), weight_decay=cfg.weight_decay)


def train(model, next_batch: Callable[[int], Any], cfg: TrainCfg, *, optimizer=None,
          evaluate: Callable[[Any], dict] | None = None, on_step: Callable[[int, Any], None] | None = None,
          loss_fn: Callable[[Any, Any], Any] | None = None, progress=None, start_step: int = 0,
          total_steps: int | None = None) -> dict[str, Any]:
    """Train for cfg.steps steps; return the loss curve, evaluations and throughput.

    `next_batch(step)` gives input ids (labels are the inputs, shifted inside the
    model) or a dict of model kwargs; `loss_fn(model, batch)` replaces the LM loss;
    `on_step(step, model)` runs after each update (probe logging, for example).
    """
    import torch

    from llmrepro.models.device import autocast, device, to_device

    model.to(device())
    optimizer = optimizer or make_optimizer(model, cfg)
    model.train()
    hist: dict[str, Any] = {"step": [], "loss": [], "lr": [], "eval": []}
    tokens, t_train = 0, 0.0
    steps = range(start_step, start_step + cfg.steps)
    it = progress(steps, total=cfg.steps, desc="train") if progress else steps
    for step in it:
        batch = to_device(next_batch(step))
        lr = lr_at(step, cfg, total_steps)
        for g in optimizer.param_groups:
            g["lr"] = lr
        t0 = time.perf_counter()
        with autocast(cfg.bf16):
            if loss_fn is not None:
                loss = loss_fn(model, batch)
            elif isinstance(batch, dict):
                loss = model(**batch).loss
            else:
                loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        t_train += time.perf_counter() - t0
        ids = batch["input_ids"] if isinstance(batch, dict) else batch
        tokens += ids.numel()
        hist["step"].append(step + 1)
        hist["loss"].append(float(loss.detach()))
        hist["lr"].append(lr)
        if on_step is not None:
            on_step(step, model)
        last = step == start_step + cfg.steps - 1
        if evaluate is not None and (last or (cfg.eval_every and (step + 1) % cfg.eval_every == 0)):
            model.eval()
            with torch.no_grad():
                hist["eval"].append({"step": step + 1, **evaluate(model)})
            model.train()
    model.eval()
    hist["tokens"] = tokens
    hist["train_seconds"] = t_train
    hist["tokens_per_s"] = tokens / t_train if t_train else None
    return hist, optimizer


def save_checkpoint(out_dir: Path, model, optimizer=None, tokenizer=None, meta: dict | None = None) -> None:
    """Weights as safetensors (save_pretrained); optimizer state beside them, so a
    later stage can continue training exactly where this one stopped."""
    import torch

    from llmrepro import io

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(out_dir)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), out_dir / "optimizer.pt")
    if meta is not None:
        io.write_json(out_dir / "train_meta.json", meta)


def flops_per_token(n_params: int, n_layers: int, context: int, hidden: int) -> float:
    """Training FLOPs per token: 6N for the weights plus attention (Kaplan et al.)."""
    return 6 * n_params + 12 * n_layers * context * hidden
