"""Schemas for model params: tiny from-scratch configs, where a pretrained model comes
from, and the training loop's settings. Schema only (no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from llmrepro.data.config import HubRef
from llmrepro.pipeline.params import Section


class TinyLM(Section):
    arch: Literal["llama", "gpt2"] = "llama"
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int | None = None  # llama only; None = heads (no GQA)
    intermediate: int = 384  # llama MLP width; gpt2 uses 4*hidden
    context: int = 128
    tie_embeddings: bool = False

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.hidden % self.heads:
            raise ValueError(f"hidden={self.hidden} must be divisible by heads={self.heads}")
        if self.kv_heads and self.heads % self.kv_heads:
            raise ValueError(f"heads={self.heads} must be divisible by kv_heads={self.kv_heads}")
        return self


class ModelSource(Section):
    """Where a stage gets a pretrained model: the DVC output of an upstream stage
    (mini), or the hub at a pinned revision (full). Exactly one is set."""

    local: bool = True
    hub: HubRef | None = None

    @model_validator(mode="after")
    def _one(self):
        if not self.local and self.hub is None:
            raise ValueError("set local: true, or give hub: {id, revision}")
        return self


class TrainCfg(Section):
    steps: int
    batch: int
    lr: float
    warmup: int = 0
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    beta2: float = 0.95
    grad_clip: float = 1.0
    bf16: bool = False
    eval_every: int = 0  # 0: evaluate only at the end
