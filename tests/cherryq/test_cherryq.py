"""cherryq: the quantizer by hand, cherry selection on planted matrices, GPTQ, the STE."""

from __future__ import annotations

import pytest
import torch

from llmrepro.cherryq import gptq as G
from llmrepro.cherryq import impact as I
from llmrepro.cherryq import quant as Q
from llmrepro.cherryq.qat import QuantLinear


def test_fullsym_by_hand():
    # 2 bits: s = (1 + 1e-6) / 2, so w/s = [1.999998, -0.999999, 0.4, 0]; clamp to 1.99,
    # subtract 0.5 -> [1.49, -1.499999, -0.1, -0.5]; round -> [1, -1, 0, 0]; add 0.5
    q = Q.fullsym(torch.tensor([[1.0, -0.5, 0.2, 0.0]]), bits=2, group=4)
    s = (1 + 1e-6) / 2
    assert torch.allclose(q, torch.tensor([[1.5, -0.5, 0.5, 0.5]]) * s)
    # half-integer levels: 2^b of them, symmetric, never zero
    w = torch.linspace(-1, 1, 1000).reshape(1, -1)
    levels = torch.unique(Q.fullsym(w, 3, 1000) / ((1 + 1e-6) / 4))
    assert torch.allclose(levels, torch.arange(-3.5, 4.0, 1.0))


def test_groups_are_formed_after_removing_cherries():
    w = torch.tensor([[100.0, 0.9, -0.8, 0.7, 0.1, 0.2, -0.3, 0.4]])
    mask = Q.select(w.abs(), 1)  # the outlier is the cherry
    q = Q.quantize_matrix(w, bits=2, group=4, mask=mask)
    assert q[0, 0] == 100.0  # kept at full precision
    # the remaining 7 values form groups [0.9, -0.8, 0.7, 0.1] and [0.2, -0.3, 0.4]
    assert torch.allclose(q[0, 1:5], Q.fullsym(w[:, 1:5], 2, 4)[0])
    assert torch.allclose(q[0, 5:], Q.fullsym(w[:, 5:], 2, 4)[0])
    # without the cherry, the outlier's scale would flatten every other weight to one level
    plain = Q.quantize_matrix(w, 2, 4)
    assert (plain[0, 1:4].abs() == plain[0, 1].abs()).all()  # all at the smallest level, +-s/2


def test_selection_recovers_planted_cherries():
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(16, 64, generator=g)
    planted = torch.stack([torch.randperm(64, generator=g)[:3] for _ in range(16)])
    scores.scatter_(1, planted, 10.0)
    mask = Q.select(Q.scores_for("impact", torch.zeros(16, 64), scores, 0), 3)
    assert torch.equal(mask, torch.zeros_like(mask).scatter(1, planted, True))
    assert Q.select(scores, 0).sum() == 0
    with pytest.raises(ValueError, match="criterion 'size'"):
        Q.scores_for("size", scores, scores, 0)


def test_cherry_count_and_bits_per_weight():
    assert Q.cherry_count(128, 1 / 32) == 4
    assert Q.cherry_count(576, 1 / 256) == 2  # the official //8*8 rule would give 0
    assert Q.cherry_count(128, 0.0) == 0
    # 124 quantized at 3 bits, 4 fp16 scales, 4 cherries at 32 bits, over 128 weights
    assert Q.bits_per_weight(128, 3, 32, 4) == pytest.approx((3 * 124 + 16 * 4 + 32 * 4) / 128)


def test_heterogeneity_score_by_hand():
    scores = torch.ones(100)
    scores[7] = 100.0
    assert I.heterogeneity(scores) == pytest.approx(100.0)  # top 1 % = one value, over max of the rest
    assert I.heterogeneity(torch.ones(200)) == pytest.approx(1.0)


def test_gptq_with_identity_hessian_is_rtn_and_beats_rtn_on_correlated_inputs():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(8, 32, generator=g)
    assert torch.allclose(G.gptq(W, torch.eye(32, dtype=torch.float64), 3, 8), Q.fullsym(W, 3, 8), atol=1e-6)
    X = torch.randn(512, 4, generator=g) @ torch.randn(4, 32, generator=g) + 0.05 * torch.randn(512, 32, generator=g)
    H = (2 * X.T @ X / len(X)).double()
    err = lambda Wq: float(((W - Wq) @ X.T).pow(2).sum())
    assert err(G.gptq(W, H, 3, 8)) < 0.5 * err(Q.fullsym(W, 3, 8))


def test_ste_forward_is_quantized_and_gradient_passes_straight_through():
    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 4, bias=False)
    mask = Q.select(lin.weight.detach().abs(), 2)
    ql = QuantLinear(lin, bits=2, group=8, mask=mask)
    x = torch.randn(5, 16)
    y = ql(x)
    wq = Q.quantize_matrix(lin.weight.detach(), 2, 8, mask)
    assert torch.allclose(y, x @ wq.T)
    y.sum().backward()
    # d/dW of sum(x W_q^T) with W_q = W + sg(q(W) - W) is x summed: the identity through q
    assert torch.allclose(lin.weight.grad, x.sum(0).expand(4, 16))
