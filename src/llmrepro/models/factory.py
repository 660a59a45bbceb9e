"""Models: tiny from-scratch configs built from transformers' own classes, and the
loaders for pretrained ones (a DVC-tracked local folder, or the hub at a pin)."""

from __future__ import annotations

import os
from pathlib import Path

from llmrepro.models.config import ModelSource, TinyLM
from llmrepro.models.device import device

GQA_SWITCH = "TRANSFORMERS_SDPA_FORCE_GQA"


def masked_gqa() -> None:
    """Let SDPA read grouped KV heads in place when it also gets a mask, on the CPU. Otherwise
    transformers copies each KV head out to its query heads (`repeat_kv`) whenever a mask is passed,
    which a KV cache always does, because CUDA's fused kernels take GQA only without a mask. On SmolLM2
    (9 query heads, 3 KV heads) this made attention 2.7x faster and left grm's cached states bit-identical."""
    if device().type == "cpu":
        os.environ.setdefault(GQA_SWITCH, "1")


def build(cfg: TinyLM, vocab_size: int, seed: int | None = None):
    """A randomly initialised tiny causal LM (seeded when `seed` is given)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    masked_gqa()
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


def load_causal_lm(path_or_id: Path | str, revision: str | None = None, dtype: str = "float32"):
    """`from_pretrained` for a local folder or a pinned hub id; same code path for both."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    masked_gqa()
    kw = {"revision": revision} if revision else {}
    tok = AutoTokenizer.from_pretrained(path_or_id, **kw)
    model = AutoModelForCausalLM.from_pretrained(path_or_id, dtype=getattr(torch, dtype), **kw)
    model.eval()
    return model, tok


def load_source(src: ModelSource, local_dir: Path, dtype: str = "float32"):
    if src.local:
        return load_causal_lm(local_dir, dtype=dtype)
    return load_causal_lm(src.hub.id, src.hub.revision, dtype=dtype)
