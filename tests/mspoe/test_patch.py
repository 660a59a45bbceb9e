"""Ms-PoE patch: identity at ratio 1, position interpolation, per-head assignment, the official
head scores (before RoPE, 4x the mean, pad keys masked), the official sequential order, GQA, KV cache.
Every test builds its own model: a patch never touches a model another test uses."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from helpers import tiny_llama

from llmrepro.mspoe.patch import MsPoECfg, Patch, assign, outlier_scores, patched, sequential, slot_ratios

IDS = torch.randint(0, 64, (2, 40), generator=torch.Generator().manual_seed(1))


@pytest.fixture
def model():
    return tiny_llama()


def _logits(model, ids=IDS, **kw):
    with torch.no_grad():
        return model(input_ids=ids, use_cache=False, **kw).logits


@pytest.mark.parametrize("cfg", [MsPoECfg(order="uniform", ratio=1.0, skip_layers=0),
                                 MsPoECfg(order="sequential", r_min=1.0, r_max=1.0),
                                 MsPoECfg(order="outlier", r_min=1.0, r_max=1.0, skip_layers=0)])
def test_ratio_one_reproduces_the_baseline_bit_for_bit(model, cfg):
    base = _logits(model)
    with patched(model, cfg):
        assert torch.equal(_logits(model), base)
    assert torch.equal(_logits(model), base)  # removed cleanly


def test_uniform_ratio_is_position_interpolation(model):
    r = 2.5
    with patched(model, MsPoECfg(order="uniform", ratio=r, skip_layers=0)):
        ours = _logits(model)
    # positions m / r under RoPE are frequencies / r at positions m: an unpatched copy with scaled frequencies
    pi = copy.deepcopy(model)
    pi.model.rotary_emb.inv_freq /= r
    assert torch.allclose(ours, _logits(pi), atol=1e-5)
    assert not torch.allclose(ours, _logits(model), atol=1e-3)


def test_uniform_leaves_the_same_first_layers_alone_as_ms_poe(model):
    p = Patch(model, MsPoECfg(order="uniform", ratio=1.5, skip_layers=2))
    try:
        assert p.layers == [model.model.layers[2].self_attn]
    finally:
        p.remove()


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
    p = Patch(model, MsPoECfg(order="sequential", r_min=1.2, r_max=1.8, skip_layers=0))
    try:
        with torch.no_grad():
            ours, _ = att(x, position_embeddings=model.model.rotary_emb(x, pos), attention_mask=None, position_ids=pos)
            ref = _reference_attention(att, model.model.rotary_emb, x, sequential(slot_ratios(6, 1.2, 1.8)))
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


def test_sequential_is_the_official_normal_order():
    # head_type="normal": head_orders = H - arange(H) - 1 indexes the ratio table, so head 0 gets the largest ratio
    assert sequential(slot_ratios(4, 1.2, 1.8)).tolist() == pytest.approx([1.65, 1.5, 1.35, 1.2])


def _one_query(weights: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """q (1, 1, 1, 1) = 1 and keys whose logits are log(weights): the softmax gives back the weights."""
    return torch.ones(1, 1, 1, 1), torch.tensor(weights).log().view(1, 1, -1, 1)


def test_outlier_score_counts_keys_above_four_times_the_row_mean():
    # 4 keys, mean weight 0.25: 0.85 is above 3x the mean but not above 4x, so the 4x rule counts none
    q, k = _one_query([0.85, 0.05, 0.05, 0.05])
    assert outlier_scores(q, k, scaling=1.0).item() == 0.0
    # 8 keys, mean 0.125: 0.51 > 0.5 = 4x the mean, 0.07 is not: one outlier in eight
    q, k = _one_query([0.51] + [0.07] * 7)
    assert outlier_scores(q, k, scaling=1.0).item() == pytest.approx(1 / 8)


def test_outlier_score_masks_keys_after_the_last_real_token():
    q, k = _one_query([0.51] + [0.07] * 7)
    padded = torch.cat([k, torch.full((1, 1, 3, 1), 50.0)], dim=2)  # three pad keys that would take every weight
    assert outlier_scores(q, padded, 1.0, last=torch.tensor([7])).item() == pytest.approx(1 / 8)
    assert outlier_scores(q, padded, 1.0).item() != pytest.approx(1 / 8)  # unmasked, the pads do count


def test_head_scores_come_from_q_and_k_before_rope(model):
    att = model.model.layers[1].self_attn
    with torch.no_grad():  # sharper attention, so the scores are not all zero
        att.q_proj.weight *= 8
        att.k_proj.weight *= 8
    captured = {}
    hook = att.register_forward_hook(lambda m, a, kw, out: captured.setdefault("x", kw["hidden_states"]),
                                     with_kwargs=True)
    with patched(model, MsPoECfg(order="outlier", skip_layers=1)) as p, torch.no_grad():
        p.state.scores = {}
        model(input_ids=IDS, use_cache=False)
    hook.remove()
    x = captured["x"]
    q = att.q_proj(x).view(2, 40, 6, 8).transpose(1, 2)
    k = att.k_proj(x).view(2, 40, 2, 8).transpose(1, 2).repeat_interleave(3, dim=1)
    w = torch.softmax(q[:, :, -1:] @ k.transpose(-1, -2) / math.sqrt(8), dim=-1)
    expect = (w > 4 / 40).float().mean(dim=(-1, -2))
    assert torch.allclose(p.state.scores[1], expect)
    assert expect.std() > 0
    # the same statistic after RoPE differs on these inputs, so the test tells the two apart
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    cos, sin = model.model.rotary_emb(x, torch.arange(40)[None])
    qr, kr = apply_rotary_pos_emb(q, k, cos, sin)
    after = (torch.softmax(qr[:, :, -1:] @ kr.transpose(-1, -2) / math.sqrt(8), dim=-1) > 4 / 40).float()
    assert not torch.allclose(after.mean(dim=(-1, -2)), expect)


def test_first_layers_are_left_alone(model):
    p = Patch(model, MsPoECfg(order="sequential", skip_layers=2))
    try:
        assert [l.self_attn for l in model.model.layers[2:]] == p.layers
        assert "forward" not in vars(model.model.layers[0].self_attn)
    finally:
        p.remove()
    assert all("forward" not in vars(l.self_attn) for l in model.model.layers)


@pytest.mark.parametrize("cfg", [None, MsPoECfg(order="sequential", skip_layers=1),
                                 MsPoECfg(order="uniform", ratio=1.3, skip_layers=1)])
def test_a_cached_prefix_gives_the_whole_prompts_logits(model, cfg):
    with patched(model, cfg), torch.no_grad():
        whole = _logits(model)[:, -1]
        cache = model.model(input_ids=IDS[:, :30], use_cache=True).cache
        hidden = model.model(input_ids=IDS[:, 30:], cache=cache, position_ids=torch.arange(30, 40)[None],
                             use_cache=True).last_hidden_state
        split = model.lm_head(hidden[:, -1])
    assert torch.allclose(whole, split, atol=1e-5)


def test_outlier_order_refuses_a_filled_cache(model):
    with patched(model, MsPoECfg(order="outlier", skip_layers=1)), torch.no_grad():
        cache = model.model(input_ids=IDS[:, :30], use_cache=True).cache
        with pytest.raises(NotImplementedError, match="whole prompt|full prompt"):
            model.model(input_ids=IDS[:, 30:], cache=cache, position_ids=torch.arange(30, 40)[None], use_cache=True)
