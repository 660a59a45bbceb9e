"""The real-model measurement: load, tokenize held-out text, measure head scales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from llmrepro.attngrad.experiments import head_scales
from llmrepro.data.corpora import read_split
from llmrepro.data.tokenizer import encode_corpus
from llmrepro.models.evaluate import windows
from llmrepro.models.factory import load_causal_lm


def _measure(model, tok, text: str, cfg) -> dict[str, Any]:
    w = windows(encode_corpus(tok, text), cfg.seq_len, cfg.windows)
    return head_scales(model, torch.from_numpy(w))


def real_heads(cfg, model_dir: Path, corpus_dir: Path) -> dict[str, Any]:
    model, tok = load_causal_lm(model_dir)
    out = {"smollm2/shakespeare": _measure(model, tok, read_split(corpus_dir, "test"), cfg)}
    if cfg.hub_dataset is not None:
        from llmrepro.data.sources import load_hub_text

        text = load_hub_text(cfg.hub_dataset)
        for ref in cfg.hub_models:
            model, tok = load_causal_lm(ref.id, ref.revision)
            out[f"{ref.id}/{cfg.hub_dataset.id}"] = _measure(model, tok, text, cfg)
    return out
