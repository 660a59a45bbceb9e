"""The cached top block against peft's own forward; log-probs against the full softmax; training
is deterministic and every method's loss runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from grm_fixtures import backbone  # noqa: F401  (the fixture)

from llmrepro.grm.config import LoraCfg, MethodCfg, RmCfg
from llmrepro.grm.rm import Responses, Table, build, load_top, pair_loss, tabulate, train_one


def _perturb_lora(rm, seed=1):
    g = torch.Generator().manual_seed(seed)
    for n, p in rm.named_parameters():
        if "lora_B" in n:
            p.data = torch.randn(p.shape, generator=g) * 0.3


def plain_features(rm, top, h):
    """The top block as peft runs it: the LoRA-wrapped MLP module itself, then the final norm."""
    with torch.no_grad():
        return rm.final_norm(h + rm.top.mlp(top.post_norm(h)))


@pytest.mark.parametrize("targets", [["down_proj"], ["gate_proj", "up_proj", "down_proj"]])
def test_cached_forward_equals_peft_forward(backbone, targets):
    model, _ = backbone
    top = load_top(model, list(range(model.config.vocab_size)))
    h = torch.randn(7, model.config.hidden_size)
    table = Table(h, top, targets)
    rm = build(top, LoraCfg(r=4, alpha=8.0, dropout=0.0, targets=targets), 16, 0.0, seed=0).eval()
    idx = torch.tensor([3, 0, 6])
    # LoRA starts at zero: the frozen features
    assert torch.allclose(rm.features(table, idx), table.get("feat", idx), atol=1e-6)
    _perturb_lora(rm)
    ours = rm.features(table, idx)
    assert not torch.allclose(ours, table.get("feat", idx), atol=1e-3)
    assert torch.allclose(ours, plain_features(rm, top, h[idx]), atol=1e-5)
    lazy = Table(h, top, targets, precompute=False)  # recomputed per batch: the same numbers
    assert torch.allclose(rm.features(lazy, idx), ours, atol=1e-6)


def test_only_lora_and_head_train(backbone):
    model, _ = backbone
    top = load_top(model, [0, 1, 2])
    rm = build(top, LoraCfg(r=2, alpha=4.0), 8, 0.1, seed=0)
    trainable = {n for n, p in rm.named_parameters() if p.requires_grad}
    assert trainable and all(("lora_" in n) or n.startswith("head.") for n in trainable)
    frozen = build(top, None, 8, 0.1, seed=0)
    assert {n for n, p in frozen.named_parameters() if p.requires_grad} == {"head.1.weight", "head.1.bias",
                                                                          "head.3.weight", "head.3.bias"}


def test_shortlist_logprob_with_the_whole_vocabulary_is_the_full_log_softmax(backbone):
    model, _ = backbone
    V = model.config.vocab_size
    top = load_top(model, list(range(V)))
    h = torch.randn(5, model.config.hidden_size)
    table = Table(h, top)
    rm = build(top, None, 8, 0.0, seed=0).eval()
    tgt = torch.tensor([4, 0, 9, 2, 7])
    with torch.no_grad():
        full = torch.log_softmax(model.lm_head(model.model.norm(h + model.model.layers[-1].mlp(
            model.model.layers[-1].post_attention_layernorm(h)))), -1)
        ours = rm.logprob(table, torch.arange(5), tgt)
    assert torch.allclose(ours, full[torch.arange(5), tgt], atol=1e-5)


def _group(n=4, L=3, H=None, vocab=(10, 11, 12, 13), marker=20, end=21):
    """Cache tensors of one group: n responses of L digits with distinct random states."""
    g = torch.Generator().manual_seed(0)
    S = torch.randn(n, L + 1, H, generator=g).to(torch.bfloat16)
    return {"g.S": S, "g.m": torch.randn(n, H, generator=g).to(torch.bfloat16),
            "g.eA": torch.randn(n, H, generator=g).to(torch.bfloat16),
            "g.eB": torch.randn(n, H, generator=g).to(torch.bfloat16),
            "g.y": torch.tensor([[vocab[(i + j) % 4] for j in range(L)] for i in range(n)]),
            "g.len": torch.full((n,), L)}


def test_sequence_logprob_sums_the_right_targets(backbone):
    model, _ = backbone
    H = model.config.hidden_size
    short = [10, 11, 12, 13, 20, 21]
    tensors = _group(H=H)
    h, groups = tabulate(tensors, ["g"], marker_id=20, end_id=21, shortlist=short)
    top = load_top(model, short)
    table, resp = Table(h, top), groups["g"]
    rm = build(top, None, 8, 0.0, seed=0).eval()
    rows = torch.tensor([1, 2])
    for marked in (False, True):
        mk = torch.tensor([marked, marked])
        with torch.no_grad():
            got = resp.seq_logprob(rm, table, rows, mk)
            digits = resp.seq_logprob(rm, table, rows, mk, digits_only=True)
        for k, i in enumerate(rows.tolist()):
            states = [tensors["g.S"][i, j] for j in range(4)] + ([tensors["g.m"][i]] if marked else [])
            targets = tensors["g.y"][i].tolist() + ([20, 21] if marked else [21])
            logits = torch.stack([top.final_norm(s.float() + top.mlp(top.post_norm(s.float()))) for s in states]) \
                @ top.lm_rows.T
            lp = torch.log_softmax(logits, -1)[torch.arange(len(targets)), torch.tensor([short.index(t)
                                                                                       for t in targets])]
            assert got[k].item() == pytest.approx(lp.sum().item(), abs=1e-4)
            assert digits[k].item() == pytest.approx(lp[:3].sum().item(), abs=1e-4)
    # the read-out is the end token's state of the chosen variant
    assert resp.readout(torch.tensor([2]), torch.tensor([True])).item() == resp.R[1, 2].item()


METHODS = [MethodCfg(name=k, kind=k, alpha=0.1) for k in
           ("frozen", "bt", "margin", "label_smoothing", "grm_sft", "grm_dpo_noref", "grm_dpo")]


def _rm_cfg(**kw):
    return RmCfg(lora=LoraCfg(r=2, alpha=4.0), head={"hidden": 8}, methods=[METHODS[1], METHODS[4]],
                 train={"epochs": 2, "batch": 2, "lr": 1e-2}, sizes=[4], main_size=4, seeds=[0, 1, 2], **kw)


@pytest.fixture(scope="module")
def pool(backbone):
    model, _ = backbone
    H = model.config.hidden_size
    short = [10, 11, 12, 13, 20, 21]
    h, groups = tabulate(_group(n=12, H=H), ["g"], marker_id=20, end_id=21, shortlist=short)
    top = load_top(model, short)
    pairs = [{"gold_chosen": 1.0, "gold_rejected": 0.5}] * 6
    markers = [[True, False], [False, False], [True, True], [True, False], [False, True], [True, False]]
    return top, Table(h, top), groups["g"], pairs, markers


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.kind)
def test_every_method_trains_deterministically(pool, method):
    top, table, resp, pairs, markers = pool
    runs = [train_one(method, top, table, resp, pairs, markers, np.array([0, 2, 3, 5]), _rm_cfg(), seed=7)[1]
            for _ in range(2)]
    assert runs[0]["loss"] == runs[1]["loss"] and len(runs[0]["loss"]) == 4
    assert all(np.isfinite(runs[0]["loss"]))
    other = train_one(method, top, table, resp, pairs, markers, np.array([0, 2, 3, 5]), _rm_cfg(), seed=8)[1]
    assert other["loss"] != runs[0]["loss"]


def test_grm_with_alpha_zero_is_bt(pool):
    top, table, resp, pairs, markers = pool
    rm = build(top, LoraCfg(r=2, alpha=4.0), 8, 0.0, seed=0)
    args = (rm, table, resp, torch.tensor([0, 2]), torch.tensor([1, 3]), torch.tensor([True, False]),
            torch.tensor([False, False]), torch.tensor([0.5, 0.5]))
    bt = pair_loss(MethodCfg(name="bt", kind="bt"), *args)
    for kind in ("grm_sft", "grm_dpo_noref"):
        assert pair_loss(MethodCfg(name="g", kind=kind, alpha=0.0), *args).item() == pytest.approx(bt.item())
    # a margin of zero and no smoothing are BT too
    assert pair_loss(MethodCfg(name="m", kind="margin", margin_scale=0.0), *args).item() == pytest.approx(bt.item())
    assert pair_loss(MethodCfg(name="s", kind="label_smoothing", epsilon=0.0), *args).item() == pytest.approx(
        bt.item())
