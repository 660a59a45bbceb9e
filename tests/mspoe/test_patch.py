"""Ms-PoE patch: identity at ratio 1, position interpolation, per-head assignment, GQA."""

from __future__ import annotations

import math

import pytest
import torch

from llmrepro.mspoe.patch import MsPoECfg, Patch, assign, outlier_scores, patched, slot_ratios


@pytest.fixture(scope="module")
def model():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=48, num_hidden_layers=3, num_attention_heads=6,
                      num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128)
    return LlamaForCausalLM(cfg).eval()


IDS = torch.randint(0, 64, (2, 40), generator=torch.Generator().manual_seed(1))


def _logits(model, **kw):
    with torch.no_grad():
        return model(input_ids=IDS, use_cache=False, **kw).logits


@pytest.mark.parametrize("cfg", [MsPoECfg(order="uniform", ratio=1.0),
                                 MsPoECfg(order="sequential", r_min=1.0, r_max=1.0),
                                 MsPoECfg(order="outlier", r_min=1.0, r_max=1.0, skip_layers=0)])
def test_ratio_one_reproduces_the_baseline_bit_for_bit(model, cfg):
    base = _logits(model)
    with patched(model, cfg):
        assert torch.equal(_logits(model), base)
    assert torch.equal(_logits(model), base)  # removed cleanly


def test_uniform_ratio_is_position_interpolation(model):
    import copy

    r = 2.5
    with patched(model, MsPoECfg(order="uniform", ratio=r)):
        ours = _logits(model)
    # positions m / r under RoPE are frequencies / r at positions m: an unpatched copy with scaled frequencies
    pi = copy.deepcopy(model)
    pi.model.rotary_emb.inv_freq /= r
    assert torch.allclose(ours, _logits(pi), atol=1e-5)
    assert not torch.allclose(ours, _logits(model), atol=1e-3)


def _reference_attention(att, rotary, x, ratios):
    """Per-head RoPE attention written out: head h uses positions m / r_h for q and k."""
    b, L, _ = x.shape
    H, d = att.config.num_attention_heads, att.head_dim
    g = att.num_key_value_groups
    q = att.q_proj(x).view(b, L, H, d)
    k = att.k_proj(x).view(b, L, -1, d).repeat_interleave(g, dim=2)
    v = att.v_proj(x).view(b, L, -1, d).repeat_interleave(g, dim=2)
    inv = 1.0 / (rotary.config.rope_parameters["rope_theta"] ** (torch.arange(0, d, 2).float() / d))
    outs = []
    for h in range(H):
        ang = (torch.arange(L).float() / ratios[h])[:, None] * inv[None]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        rot = lambda t: t * cos + torch.cat([-t[..., d // 2:], t[..., : d // 2]], -1) * sin
        qh, kh = rot(q[:, :, h]), rot(k[:, :, h])
        s = qh @ kh.transpose(1, 2) / math.sqrt(d)
        s = s.masked_fill(torch.triu(torch.ones(L, L, dtype=torch.bool), 1), float("-inf"))
        outs.append(torch.softmax(s, -1) @ v[:, :, h])
    return att.o_proj(torch.stack(outs, 2).reshape(b, L, H * d))


def test_mixed_ratios_within_a_kv_group_match_a_per_head_reference(model):
    att = model.model.layers[0].self_attn
    x = torch.randn(2, 12, 48, generator=torch.Generator().manual_seed(3))
    pos = torch.arange(12).expand(2, -1)
    cfg = MsPoECfg(order="sequential", r_min=1.2, r_max=1.8, skip_layers=0)
    p = Patch(model, cfg)
    try:
        with torch.no_grad():
            ours, _ = att(x, position_embeddings=model.model.rotary_emb(x, pos), attention_mask=None, position_ids=pos)
            ref = _reference_attention(att, model.model.rotary_emb, x, slot_ratios(6, 1.2, 1.8))
    finally:
        p.remove()
    assert torch.allclose(ours, ref, atol=1e-5)


def test_slots_follow_the_paper_formula_and_the_most_position_aware_head_gets_the_smallest_ratio():
    assert slot_ratios(4, 1.2, 1.8).tolist() == pytest.approx([1.2, 1.35, 1.5, 1.65])
    table = slot_ratios(4, 1.2, 1.8)
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3]])
    # head 1 scores highest -> slot 0 (1.2); head 2 -> 1.35; head 3 -> 1.5; head 0 -> 1.65.
    # (Indexing the table with the argsort, as the official code does, would give head 0 ratio 1.35.)
    assert assign(scores, table)[0].tolist() == pytest.approx([1.65, 1.2, 1.35, 1.5])


def test_outlier_score_counts_keys_above_three_times_the_mean():
    # one query, 4 keys; logits chosen so the softmax is [0.85, 0.05, 0.05, 0.05]: only key 0 exceeds 3 x 0.25
    w = torch.tensor([0.85, 0.05, 0.05, 0.05]).log()
    q = torch.tensor([[[[1.0]]]])
    k = w.view(1, 1, 4, 1)
    assert outlier_scores(q, k, scaling=1.0).item() == pytest.approx(0.25)


def test_first_layers_are_left_alone(model):
    p = Patch(model, MsPoECfg(order="sequential", skip_layers=2))
    try:
        assert [l.self_attn for l in model.model.layers[2:]] == p.layers
        assert "forward" not in vars(model.model.layers[0].self_attn)
    finally:
        p.remove()
    assert all("forward" not in vars(l.self_attn) for l in model.model.layers)
