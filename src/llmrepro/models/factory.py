"""Models: tiny from-scratch configs built from transformers' own classes, and the
loaders for pretrained ones (a DVC-tracked local folder, or the hub at a pin)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator

from llmrepro.data.sources import HubRef
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


def build(cfg: TinyLM, vocab_size: int, seed: int | None = None):
    """A randomly initialised tiny causal LM (seeded when `seed` is given)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    if seed is not None:
        torch.manual_seed(seed)
    if cfg.arch == "llama":
        conf = LlamaConfig(vocab_size=vocab_size, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
                           num_attention_heads=cfg.heads, num_key_value_heads=cfg.kv_heads or cfg.heads,
                           intermediate_size=cfg.intermediate, max_position_embeddings=cfg.context,
                           tie_word_embeddings=cfg.tie_embeddings, bos_token_id=1, eos_token_id=2,
                           pad_token_id=3)
        model = LlamaForCausalLM(conf)
    else:
        conf = GPT2Config(vocab_size=vocab_size, n_embd=cfg.hidden, n_layer=cfg.layers, n_head=cfg.heads,
                          n_positions=cfg.context, tie_word_embeddings=cfg.tie_embeddings,
                          bos_token_id=1, eos_token_id=2)
        model = GPT2LMHeadModel(conf)
    return model


def n_params(model, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


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


def load_causal_lm(path_or_id: Path | str, revision: str | None = None, dtype: str = "float32"):
    """`from_pretrained` for a local folder or a pinned hub id; same code path for both."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"revision": revision} if revision else {}
    tok = AutoTokenizer.from_pretrained(path_or_id, **kw)
    model = AutoModelForCausalLM.from_pretrained(path_or_id, dtype=getattr(torch, dtype), **kw)
    model.eval()
    return model, tok


def load_source(src: ModelSource, local_dir: Path, dtype: str = "float32"):
    if src.local:
        return load_causal_lm(local_dir, dtype=dtype)
    return load_causal_lm(src.hub.id, src.hub.revision, dtype=dtype)
