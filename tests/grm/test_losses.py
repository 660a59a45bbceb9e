"""GRM's losses against hand-computed values."""

from __future__ import annotations

import math

import llmrepro  # noqa: F401
import pytest
import torch

from llmrepro.grm import losses


def ls(x: float) -> float:
    return -math.log1p(math.exp(-x))  # log sigmoid


def t(*v):
    return torch.tensor(v, dtype=torch.float64)


def test_bt_is_the_mean_negative_log_sigmoid_of_the_reward_gap():
    assert losses.bt(t(2.0, 0.0), t(1.0, 0.5)).item() == pytest.approx(-(ls(1.0) + ls(-0.5)) / 2)
    assert losses.bt(t(0.0), t(0.0)).item() == pytest.approx(math.log(2))


def test_margin_shifts_the_gap_and_zero_margin_is_bt():
    assert losses.bt_margin(t(2.0), t(1.0), t(0.5)).item() == pytest.approx(-ls(0.5))
    assert losses.bt_margin(t(2.0, 1.0), t(1.0, 3.0), t(0.0, 0.0)).item() == pytest.approx(
        losses.bt(t(2.0, 1.0), t(1.0, 3.0)).item())


def test_label_smoothing_mixes_both_labels():
    eps = 0.1
    assert losses.bt_label_smoothing(t(1.0), t(0.0), eps).item() == pytest.approx(-(0.9 * ls(1.0) + 0.1 * ls(-1.0)))
    # symmetric at epsilon 1/2: the gap's sign no longer matters
    assert losses.bt_label_smoothing(t(3.0), t(0.0), 0.5).item() == pytest.approx(
        losses.bt_label_smoothing(t(0.0), t(3.0), 0.5).item())


def test_sft_regularizer_has_the_log_sigmoid_form():
    # -log sigma(beta * log pi): bounded by log 2 as log pi -> 0, growing linearly as log pi -> -inf
    assert losses.sft_reg(t(-10.0), 0.1).item() == pytest.approx(-ls(-1.0))
    assert losses.sft_reg(t(0.0), 0.1).item() == pytest.approx(math.log(2))
    assert losses.sft_reg(t(-1e4), 0.1).item() == pytest.approx(1e3, rel=1e-6)


def test_dpo_with_and_without_reference():
    lc, lr = t(-2.0), t(-5.0)
    assert losses.dpo_reg(lc, lr, 0.1).item() == pytest.approx(-ls(0.3))
    assert losses.dpo_reg(lc, lr, 0.1, t(-1.0), t(-6.0)).item() == pytest.approx(-ls(0.1 * (3.0 - 5.0)))
    # a reference equal to the policy gives log 2 whatever beta
    assert losses.dpo_reg(lc, lr, 7.0, lc, lr).item() == pytest.approx(math.log(2))


def test_grm_mixes_with_alpha():
    assert losses.grm(t(1.0), t(3.0), 0.01).item() == pytest.approx(0.99 + 0.03)
    assert losses.grm(t(1.0), t(3.0), 0.0).item() == 1.0
