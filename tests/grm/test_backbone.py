"""The cache's shared-prefix batching against plain, one-sequence forward passes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from grm_fixtures import backbone  # noqa: F401  (the fixture)

from llmrepro.grm.backbone import Trunk, cache_pairs, sample_bon, shortlist
from llmrepro.grm.config import WorldCfg
from llmrepro.grm.world import gold, make_world, prefix_text

MARKER, END = " ok", "\n"


@pytest.fixture(scope="module")
def setup(backbone):
    model, tok = backbone
    world = make_world(WorldCfg(train_pool=6, eval_pairs=3, marker=MARKER, end=END, bon_prompts=1, bon_pool=16,
                                bon_length=2), seed=3)
    trunk = Trunk(model, tok, MARKER, END, bf16=False)
    prefix, _ = trunk.prefix(prefix_text(world))
    return model, tok, world, trunk, prefix


def reference(model, trunk, world, prompt: dict, y: str, marked: bool) -> torch.Tensor:
    """h_mid at every position of one sequence (the same token ids), in one plain forward pass."""
    ids = (trunk.tok(prefix_text(world), add_special_tokens=False)["input_ids"]
           + trunk.encode_prompt(prompt["task"], prompt["x"]) + trunk.digits_of(y)
           + [trunk.marker] * marked + [trunk.end])
    got = {}
    hook = model.model.layers[-1].post_attention_layernorm.register_forward_pre_hook(
        lambda m, a: got.setdefault("h", a[0]))
    with torch.no_grad():
        model.model(input_ids=torch.tensor([ids]))
    hook.remove()
    return got["h"][0].to(torch.bfloat16)


def close(a, b, atol=2e-2, rtol=2e-2):
    return torch.allclose(a.float(), b.float(), atol=atol, rtol=rtol)


def test_every_cached_state_matches_a_plain_forward(setup):
    model, tok, world, trunk, prefix = setup
    pairs = world["pool"]
    c = cache_pairs(trunk, prefix, pairs, batch=4)
    for i, p in enumerate(pairs):
        for side, row in (("chosen", 2 * i), ("rejected", 2 * i + 1)):
            L = len(p[side])
            assert int(c["len"][row]) == L
            plain = reference(model, trunk, world, p, p[side], False)
            marked = reference(model, trunk, world, p, p[side], True)
            # the last prompt token, each digit, then the end token (unmarked) / marker and end (marked)
            assert close(c["S"][row, :L + 1], plain[-(L + 2):-1])
            assert close(c["eA"][row], plain[-1])
            assert close(c["m"][row], marked[-2]) and close(c["eB"][row], marked[-1])
            assert c["y"][row, :L].tolist() == trunk.digits_of(p[side])


def test_bon_samples_share_states_with_plain_forwards(setup):
    model, tok, world, trunk, prefix = setup
    prompt = world["bon"][0]
    s = sample_bon(trunk, prefix, prompt, 16, np.random.default_rng(0))
    assert len(s["sample"]) == 16 and set(s["sample"]) == set(range(len(s["responses"])))
    for u, r in enumerate(s["responses"]):
        assert len(r) == len(prompt["x"]) and s["gold"][u] == gold(prompt["task"], prompt["x"], r)
        plain = reference(model, trunk, world, prompt, r, False)
        assert close(s["S"][u], plain[-(len(r) + 2):-1]) and close(s["eA"][u], plain[-1])
    # the same generator state gives the same pool
    again = sample_bon(trunk, prefix, prompt, 16, np.random.default_rng(0))
    assert again["responses"] == s["responses"] and again["sample"] == s["sample"]


def test_shortlist_holds_the_world_and_reports_its_coverage(setup):
    _, _, world, trunk, prefix = setup
    c = cache_pairs(trunk, prefix, world["pool"], batch=4)
    sl = shortlist(trunk, {"pool": c}, topk=4, positions=20, seed=0)
    assert set(trunk.digits) | {trunk.marker, trunk.end} <= set(sl["ids"])
    assert 0 < sl["coverage_min"] <= sl["coverage_mean"] <= 1 + 1e-6
    full = shortlist(trunk, {"pool": c}, topk=len(trunk.tok), positions=20, seed=0)
    assert full["coverage_min"] == pytest.approx(1.0, abs=1e-5)


def test_a_marker_of_several_tokens_is_refused(backbone):
    model, tok = backbone
    with pytest.raises(ValueError, match="one token"):
        Trunk(model, tok, " okay okay okay", END, bf16=False)


def test_the_one_row_suffix_keeps_its_read_outs_apart(backbone):
    """eA must not see the marker it shares a position with, and eB must follow it. With the random
    tiny model's near-uniform attention a leak hides under bf16 rounding, so the attention is
    sharpened first: then the marker leaking into eA, or a wrong position, moves the read-outs far
    past the tolerance. (eB seeing eA, a second copy of its own token, moves eB by one bf16 step: not
    caught here.)"""
    model, tok = backbone
    sharp = copy.deepcopy(model)
    with torch.no_grad():
        for layer in sharp.model.layers:
            layer.self_attn.q_proj.weight *= 30
            layer.self_attn.k_proj.weight *= 30
    world = make_world(WorldCfg(train_pool=4, eval_pairs=2, marker=MARKER, end=END, bon_prompts=1, bon_pool=4,
                                bon_length=2), seed=5)
    trunk = Trunk(sharp, tok, MARKER, END, bf16=False)
    prefix, _ = trunk.prefix(prefix_text(world))
    pairs = world["pool"]
    c = cache_pairs(trunk, prefix, pairs, batch=4)
    atol = 2e-3  # ~8 bf16 steps at these magnitudes (|h| < 0.07)
    tight = lambda a, b: close(a, b, atol=atol, rtol=0)
    moved = 0.0
    for i, p in enumerate(pairs):
        plain = reference(sharp, trunk, world, p, p["chosen"], False)
        marked = reference(sharp, trunk, world, p, p["chosen"], True)
        assert tight(c["eA"][2 * i], plain[-1]) and tight(c["m"][2 * i], marked[-2])
        assert tight(c["eB"][2 * i], marked[-1])
        moved = max(moved, float((plain[-1].float() - marked[-1].float()).abs().max()))
    assert moved > 5 * atol, "the marker must move the read-out far past the tolerance for a leak to show"
