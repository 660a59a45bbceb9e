"""Ms-PoE: per-head rescaled RoPE positions, patched into a transformers Llama in place.

Each attention head h of a patched layer rotates its queries and keys with
positions m / r_h instead of m. Ratios follow the paper's code:
r_i = r_min + (r_max - r_min) * i / H for slot i = 0..H-1, and a head gets a slot
either in head order ("sequential") or by its position-awareness score at prefill
("outlier"): the fraction of keys whose attention weight from the last query,
under the original RoPE, exceeds 3x the row mean. The head with the highest score
gets slot 0, i.e. the ratio nearest 1. (The official code indexes the ratio table
by the argsort itself, which assigns slots by the inverse permutation; this
implementation assigns them as the paper describes.) "uniform" gives every head the
same ratio: plain position interpolation.

Grouped-query attention: when every query head of a KV group shares one ratio,
keys are rotated once per KV head and transformers' own attention function runs
unchanged, so ratio 1 reproduces the unpatched model bit for bit. Otherwise keys
are repeated per query head and each copy is rotated with its query head's ratio,
so q and k of one head always share a position scale (the official code rotates a
group's keys with the ratio of its first query head only).
"""

from __future__ import annotations

import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb, repeat_kv, rotate_half

from llmrepro.mspoe.config import MsPoERatios


class MsPoECfg(MsPoERatios):
    order: Literal["uniform", "sequential", "outlier"]
    ratio: float = 1.0  # uniform only


def slot_ratios(n_heads: int, r_min: float, r_max: float) -> torch.Tensor:
    return torch.tensor([r_min + (r_max - r_min) * i / n_heads for i in range(n_heads)], dtype=torch.float32)


def outlier_scores(q_last: torch.Tensor, k: torch.Tensor, scaling: float) -> torch.Tensor:
    """Fraction of keys with attention weight > 3x the row mean, per (batch, head);
    q_last: (b, H, 1, d) for each row's last real token, k: (b, H, L, d)."""
    w = torch.softmax((q_last @ k.transpose(-1, -2)).float() * scaling, dim=-1)  # b, H, 1, L
    return (w > 3.0 / w.shape[-1]).float().mean(dim=(-1, -2))


def assign(scores: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Ratios (b, H): the k-th highest-scoring head of each row gets table[k]."""
    order = torch.argsort(-scores, dim=-1, stable=True)
    slot = torch.empty_like(order)
    slot.scatter_(-1, order, torch.arange(scores.shape[-1]).expand_as(order))
    return table[slot]


@dataclass
class _State:
    cfg: MsPoECfg
    rotary: torch.nn.Module
    last: torch.Tensor | None = None  # (b,) index of each row's last real token, for right-padded batches
    scores: dict[int, torch.Tensor] | None = None  # layer -> outlier scores (b, H), when order is "outlier"


def _rope(rotary, x: torch.Tensor, pos: torch.Tensor, ratios: torch.Tensor):
    """cos, sin of shape (b, H, L, d) for positions pos / ratio per head; the same
    rotary module the model uses, so ratio 1 gives the model's own tables."""
    b, H = ratios.shape
    coss, sins = [], []
    for r in ratios.unique().tolist():
        cos, sin = rotary(x, pos.float() / r)
        coss.append((r, cos))
        sins.append((r, sin))
    cos = torch.zeros(b, H, pos.shape[-1], coss[0][1].shape[-1], dtype=coss[0][1].dtype)
    sin = torch.zeros_like(cos)
    for (r, c), (_, s) in zip(coss, sins):
        m = (ratios == r)[..., None, None]  # b, H, 1, 1
        cos = torch.where(m, c[:, None], cos)
        sin = torch.where(m, s[:, None], sin)
    return cos, sin


def _forward(self, hidden_states, position_embeddings=None, attention_mask=None, cache=None, **kwargs):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.llama.modeling_llama import eager_attention_forward

    st: _State = self._mspoe
    if cache is not None and cache.get_seq_length(self.layer_idx) > 0:
        raise NotImplementedError("the Ms-PoE patch scores full prompts; call the model with use_cache=False")
    shape = (*hidden_states.shape[:-1], -1, self.head_dim)
    q = self.q_proj(hidden_states).view(shape).transpose(1, 2)
    k = self.k_proj(hidden_states).view(shape).transpose(1, 2)
    v = self.v_proj(hidden_states).view(shape).transpose(1, 2)
    b, H, L, _ = q.shape
    groups = self.num_key_value_groups
    pos = kwargs["position_ids"].expand(b, L)
    cfg = st.cfg
    if cfg.order == "uniform":
        ratios = torch.full((b, H), cfg.ratio)
    else:
        table = slot_ratios(H, cfg.r_min, cfg.r_max)
        if cfg.order == "sequential":
            ratios = table.expand(b, H)
        else:
            cos0, sin0 = position_embeddings
            q0, k0 = apply_rotary_pos_emb(q, k, cos0, sin0)
            last = st.last if st.last is not None else torch.full((b,), L - 1)
            q_last = q0[torch.arange(b), :, last].unsqueeze(2)
            scores = outlier_scores(q_last, repeat_kv(k0, groups), self.scaling)
            if st.scores is not None:
                st.scores[self.layer_idx] = scores
            ratios = assign(scores, table)
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
    out, weights = attn(module, q, k, v, attention_mask, dropout=0.0, scaling=self.scaling, **kwargs)
    return self.o_proj(out.reshape(*hidden_states.shape[:-1], -1).contiguous()), weights


class Patch:
    """Ms-PoE applied to a model; `remove()` restores the original attention."""

    def __init__(self, model, cfg: MsPoECfg):
        self.model = model
        self.state = _State(cfg, model.model.rotary_emb)
        skip = 0 if cfg.order == "uniform" else cfg.skip_layers
        self.layers = [layer.self_attn for layer in model.model.layers[skip:]]
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
