"""Schemas for model params: tiny from-scratch configs, where a pretrained model comes
from, and the training loop's settings. Schema only (no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmrepro.data.config import HubRef
from llmrepro.pipeline.params import Section


class TinyLM(Section):
    arch: Literal["llama", "gpt2"] = "llama"
    hidden: int = Field(128, ge=8, le=16384)
    layers: int = Field(4, ge=1, le=256)
    heads: int = Field(4, ge=1, le=256)
    kv_heads: int | None = Field(None, ge=1)  # llama only; None = heads (no GQA)
    intermediate: int = Field(384, ge=8)  # llama MLP width; gpt2 uses 4*hidden
    context: int = Field(128, ge=2, le=1 << 20)
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
    steps: int = Field(ge=1)
    batch: int = Field(ge=1)
    lr: float = Field(gt=0, le=1)
    warmup: int = Field(0, ge=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    weight_decay: float = Field(0.0, ge=0)
    beta2: float = Field(0.95, gt=0, lt=1)
    grad_clip: float = Field(1.0, ge=0)  # 0: no clipping
    bf16: bool = False
    eval_every: int = Field(0, ge=0)  # 0: evaluate only at the end
