"""A tiny random Llama and a word-level tokenizer for the mspoe tests (fresh objects per call)."""

from __future__ import annotations

import re

import torch


def tiny_llama(seed: int = 0, vocab: int = 512, layers: int = 3, sharpen: float = 1.0):
    """`sharpen` scales q and k weights: random weights give near-uniform attention, where
    every head's outlier score is 0 and no head ordering is ever tested."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=48, num_hidden_layers=layers, num_attention_heads=6,
                      num_key_value_heads=2, intermediate_size=64, max_position_embeddings=256)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.q_proj.weight *= sharpen
            layer.self_attn.k_proj.weight *= sharpen
    return model


class WordTok:
    """' word' (with its leading whitespace) is one token; ids are given on first sight, 0 is the pad."""

    pad_token_id = 0

    def __init__(self, vocab: int = 512):
        self.ids: dict[str, int] = {}
        self.vocab = vocab

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        out = []
        for piece in re.findall(r"\s*\S+", text):
            if piece not in self.ids:
                if len(self.ids) + 1 >= self.vocab:
                    raise ValueError("WordTok: vocabulary full")
                self.ids[piece] = len(self.ids) + 1
            out.append(self.ids[piece])
        return {"input_ids": out}
