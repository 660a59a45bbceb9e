"""Ms-PoE: per-head rescaled RoPE positions, patched into a transformers Llama in place.

Each attention head h of a patched layer rotates its queries and keys with
positions m / r_h instead of m. Ratios follow the paper's code:
r_i = r_min + (r_max - r_min) * i / H for slot i = 0..H-1, and a head gets a slot
either in the official `head_type="normal"` order ("sequential": head h gets slot
H-1-h, so head 0 gets the largest ratio) or by its position-awareness score at
prefill ("outlier"). The score is the official one: from q and k *before* RoPE,
the fraction of keys whose attention weight from the prompt's last token exceeds
4x the row mean. The head with the highest score gets slot 0, i.e. the ratio
nearest 1. (The official code indexes the ratio table by the argsort itself,
which assigns slots by the inverse permutation; this implementation assigns them
as the paper describes.) "uniform" gives every head the same ratio: plain
position interpolation. Every order leaves the first `skip_layers` layers alone.

Right-padded batches: `state.last` holds each row's last real token, and the
score masks every key after it, so a row's ratios do not depend on its batch.

Grouped-query attention: when every query head of a KV group shares one ratio,
keys are rotated once per KV head and transformers' own attention function runs
unchanged, so ratio 1 reproduces the unpatched model bit for bit. Otherwise keys
are repeated per query head and each copy is rotated with its query head's ratio,
so q and k of one head always share a position scale (the official code rotates a
group's keys with the ratio of its first query head only).

A KV cache works for the orders whose ratios do not depend on the prompt
(sequential, uniform): a shared prefix runs once and its questions run against the
cached keys. The outlier order scores each full prompt, so it refuses a filled cache.
"""

from __future__ import annotations

import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from transformers.models.llama.modeling_llama import repeat_kv, rotate_half

from llmrepro.mspoe.config import MsPoERatios

OUTLIER_FACTOR = 4.0  # `_calculate_outlier` at VITA-Group/Ms-PoE@2d6c295


class MsPoECfg(MsPoERatios):
    order: Literal["uniform", "sequential", "outlier"]
    ratio: float = 1.0  # uniform only


def slot_ratios(n_heads: int, r_min: float, r_max: float) -> torch.Tensor:
    return torch.tensor([r_min + (r_max - r_min) * i / n_heads for i in range(n_heads)], dtype=torch.float32)


def outlier_scores(q_last: torch.Tensor, k: torch.Tensor, scaling: float, last: torch.Tensor | None = None
                   ) -> torch.Tensor:
    """Fraction of real keys with attention weight > 4x the row mean, per (batch, head).
    q_last: (b, H, 1, d), each row's last real token; k: (b, H, L, d); both before RoPE.
    Keys after `last` (b,) are padding: they get no weight and are not counted."""
    b, L = k.shape[0], k.shape[-2]
    last = torch.full((b,), L - 1) if last is None else last
    real = (torch.arange(L)[None] <= last[:, None])[:, None, None, :]  # b, 1, 1, L
    logits = ((q_last @ k.transpose(-1, -2)).float() * scaling).masked_fill(~real, float("-inf"))
    w = torch.softmax(logits, dim=-1)  # b, H, 1, L
    n = (last + 1).float()[:, None]
    return ((w > OUTLIER_FACTOR / n[..., None, None]) & real).float().sum(dim=(-1, -2)) / n


def assign(scores: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Ratios (b, H): the k-th highest-scoring head of each row gets table[k]."""
    order = torch.argsort(-scores, dim=-1, stable=True)
    slot = torch.empty_like(order)
    slot.scatter_(-1, order, torch.arange(scores.shape[-1]).expand_as(order))
    return table[slot]


def sequential(table: torch.Tensor) -> torch.Tensor:
    """The official head_type="normal" order: head h gets slot H-1-h."""
    return table.flip(0)


@dataclass
class _State:
    cfg: MsPoECfg
    rotary: torch.nn.Module
    last: torch.Tensor | None = None  # (b,) index of each row's last real token, for right-padded batches
    scores: dict[int, torch.Tensor] | None = None  # layer -> outlier scores (b, H), when order is "outlier"


def _rope(rotary, x: torch.Tensor, pos: torch.Tensor, ratios: torch.Tensor):
    """cos, sin of shape (b, H, L, d) for positions pos / ratio per head; the same
    rotary module the model uses, so ratio 1 gives the model's own tables. One table
    per distinct ratio, gathered per (row, head) in one allocation."""
    uniq, which = torch.unique(ratios, return_inverse=True)  # which: (b, H) index into uniq
    tables = [rotary(x, pos.float() / r) for r in uniq.tolist()]  # each (b, L, d)
    rows = torch.arange(ratios.shape[0])[:, None].expand_as(which)
    return torch.stack([c for c, _ in tables])[which, rows], torch.stack([s for _, s in tables])[which, rows]


def _ratios(self, st: _State, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    b, H = q.shape[:2]
    cfg = st.cfg
    if cfg.order == "uniform":
        return torch.full((b, H), cfg.ratio)
    table = slot_ratios(H, cfg.r_min, cfg.r_max)
    if cfg.order == "sequential":
        return sequential(table).expand(b, H)
    last = st.last if st.last is not None else torch.full((b,), q.shape[2] - 1)
    q_last = q[torch.arange(b), :, last].unsqueeze(2)
    scores = outlier_scores(q_last, repeat_kv(k, self.num_key_value_groups), self.scaling, last)
    if st.scores is not None:
        st.scores[self.layer_idx] = scores
    return assign(scores, table)


def _forward(self, hidden_states, position_embeddings=None, attention_mask=None, cache=None, **kwargs):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.llama.modeling_llama import eager_attention_forward

    st: _State = self._mspoe
    if st.cfg.order == "outlier" and cache is not None and cache.get_seq_length(self.layer_idx) > 0:
        raise NotImplementedError("outlier-ordered Ms-PoE scores each full prompt: run it without a filled cache")
    shape = (*hidden_states.shape[:-1], -1, self.head_dim)
    q = self.q_proj(hidden_states).view(shape).transpose(1, 2)
    k = self.k_proj(hidden_states).view(shape).transpose(1, 2)
    v = self.v_proj(hidden_states).view(shape).transpose(1, 2)
    b, H, L, _ = q.shape
    groups = self.num_key_value_groups
    pos = kwargs["position_ids"].expand(b, L)
    ratios = _ratios(self, st, q, k)  # before any rotation, as the official statistics
    attn = ALL_ATTENTION_FUNCTIONS.get_interface(self.config._attn_implementation, eager_attention_forward)
    module = self
    cos, sin = _rope(st.rotary, v, pos, ratios)
    q = q * cos + rotate_half(q) * sin
    kv_ratios = ratios.view(b, H // groups, groups)
    if bool((kv_ratios == kv_ratios[..., :1]).all()):  # one ratio per KV group: rotate keys once per KV head
        kc, ks = cos[:, ::groups], sin[:, ::groups]
        k = k * kc + rotate_half(k) * ks
    else:
        k, v = repeat_kv(k, groups), repeat_kv(v, groups)
        k = k * cos + rotate_half(k) * sin
        module = types.SimpleNamespace(num_key_value_groups=1, training=self.training, is_causal=self.is_causal,
                                       config=self.config, layer_idx=self.layer_idx)
    if cache is not None:
        k, v = cache.update(k, v, self.layer_idx)
    out, weights = attn(module, q, k, v, attention_mask, dropout=0.0, scaling=self.scaling, **kwargs)
    return self.o_proj(out.reshape(*hidden_states.shape[:-1], -1).contiguous()), weights


class Patch:
    """Ms-PoE applied to a model; `remove()` restores the original attention."""

    def __init__(self, model, cfg: MsPoECfg):
        self.model = model
        self.state = _State(cfg, model.model.rotary_emb)
        self.layers = [layer.self_attn for layer in model.model.layers[cfg.skip_layers:]]
        for att in self.layers:
            att._mspoe = self.state
            att.forward = types.MethodType(_forward, att)

    def remove(self) -> None:
        for att in self.layers:
            del att.forward  # back to the class's forward
            del att._mspoe
        self.layers = []


@contextmanager
def patched(model, cfg: MsPoECfg | None):
    """Ms-PoE inside the block; cfg None means the unpatched baseline."""
    p = Patch(model, cfg) if cfg is not None else None
    try:
        yield p
    finally:
        if p is not None:
            p.remove()
