"""hwgpt: the search space and the weight-entangled supernet against HF GPT-2."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import llmrepro  # noqa: F401  (OMP_WAIT_POLICY before torch does anything)
from llmrepro.hwgpt.space import Arch, Space
from llmrepro.hwgpt.supernet import SuperGPT, load_gpt2_state_dict

VOCAB, CTX, HS = 97, 16, 8


@pytest.fixture
def space():
    # the largest member (32 wide, 4 heads of 8) is a GPT-2 shape: attention width == embedding width
    return Space([16, 24, 32], [1, 2, 3], [1, 2, 4], [1, 2, 4], HS, CTX, VOCAB)


def test_space_enumerates_every_architecture_once(space):
    per_layer = 3 * 3
    assert space.size() == 3 * (per_layer + per_layer ** 2 + per_layer ** 3) == len(space.all)
    assert len(set(space.all)) == space.size()
    assert space.largest == Arch(32, (4, 4, 4), (4, 4, 4)) and space.smallest == Arch(16, (1,), (1,))
    rng = np.random.default_rng(0)
    for a in space.sample_distinct(50, rng):
        g = space.encode(a)
        assert space.decode(g) == a and (g <= space.gene_bounds).all()
    # genes of layers beyond the layer count are inert
    g = space.encode(Arch(24, (2,), (4,)))
    g2 = g.copy()
    g2[3], g2[-1] = 2, 2
    assert space.decode(g2) == space.decode(g)
    with pytest.raises(ValueError, match="distinct"):
        space.sample_distinct(space.size() + 1, rng)


def test_params_and_flops_by_hand(space):
    a = Arch(16, (2,), (2,))  # E=16, W=16, H=32
    E, W, H = 16, 16, 32
    n = VOCAB * E + CTX * E + 2 * E + (2 * E + 3 * (E * W + W) + W * E + E) + (2 * E + E * H + H + H * E + E)
    assert space.params(a) == n
    assert space.flops(a, 10) == 2 * n * 10 + 4 * 100 * W
    model = SuperGPT(a, VOCAB, CTX, HS)
    assert sum(p.numel() for p in model.parameters()) == n


def test_homogeneous_max_subnet_equals_gpt2(space):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    conf = GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=3, n_head=4, n_positions=CTX, resid_pdrop=0.0,
                      embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    hf = GPT2LMHeadModel(conf).eval()
    with torch.no_grad():  # non-trivial norms and biases, so a mis-copied one shows
        for name, p in hf.named_parameters():
            if "ln" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    sup = load_gpt2_state_dict(SuperGPT(space.largest, VOCAB, CTX, HS), hf.state_dict()).eval()
    ids = torch.randint(0, VOCAB, (3, CTX))
    with torch.no_grad():
        want = hf(ids).logits
        got = sup.set_arch(space.largest)(ids).logits
        assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
        # a smaller homogeneous sub-network is GPT-2 with the sliced weights
        small = Arch(32, (4, 4), (4, 4))
        conf2 = GPT2Config(**{**conf.to_dict(), "n_layer": 2})
        hf2 = GPT2LMHeadModel(conf2).eval()
        hf2.load_state_dict({k: v for k, v in hf.state_dict().items() if ".h.2." not in k})
        assert torch.allclose(sup.set_arch(small)(ids).logits, hf2(ids).logits, atol=1e-5, rtol=1e-5)


def test_materialized_subnet_equals_the_sliced_supernet(space):
    sup = SuperGPT(space.largest, VOCAB, CTX, HS).init_weights(0).eval()
    ids = torch.randint(0, VOCAB, (2, CTX))
    rng = np.random.default_rng(1)
    for a in [space.smallest, *space.sample_distinct(5, rng)]:
        with torch.no_grad():
            sliced = sup.set_arch(a)(ids).logits
            sub = sup.materialize(a)
            assert torch.equal(sub(ids).logits, sliced)
        assert sum(p.numel() for p in sub.parameters()) == space.params(a)
    # the sliced forward uses only the architecture's slice: perturbing weights outside it changes nothing
    a = Arch(16, (1, 2), (1, 2))
    with torch.no_grad():
        before = sup.set_arch(a)(ids).logits
        sup.blocks[0].q.weight[8:].add_(1.0)  # heads 2.. of layer 0 (this arch has one head of 8 there)
        sup.blocks[2].fc.weight.add_(1.0)  # a layer past the arch's depth
        sup.wte.weight[:, 16:].add_(1.0)  # embedding columns past its width
        assert torch.equal(sup.set_arch(a)(ids).logits, before)


def test_set_arch_refuses_what_does_not_fit(space):
    sup = SuperGPT(space.largest, VOCAB, CTX, HS)
    with pytest.raises(ValueError, match="does not fit"):
        sup.set_arch(Arch(64, (1,), (1,)))
    with pytest.raises(ValueError, match="equal length"):
        Arch(16, (1, 2), (1,))


def test_sandwich_training_trains_the_extremes_and_is_seeded(space):
    from types import SimpleNamespace

    from llmrepro.hwgpt import training as TR
    from llmrepro.models.config import TrainCfg

    ids = np.random.default_rng(0).integers(0, VOCAB, 4000)
    cfg = SimpleNamespace(seed=3, random_subnets=1, train=TrainCfg(steps=6, batch=2, lr=1e-2, warmup=1))
    m1, h1 = TR.sandwich_train(space, cfg, ids)
    m2, h2 = TR.sandwich_train(space, cfg, ids)
    assert h1["loss"] == h2["loss"] and len(h1["loss_largest"]) == 6
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert h1["tokens_per_subnet"] == 6 * 2 * CTX
    # the standalone picks are spread by size, distinct, and leave the two extremes out
    picks = TR.pick_by_size(space, 5)
    sizes = [space.params(a) for a in picks]
    assert len(set(picks)) == 5 and sizes == sorted(sizes)
    assert space.largest not in picks and space.smallest not in picks
