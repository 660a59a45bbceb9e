"""The reward losses: Bradley-Terry and its baselines, and GRM's text-generation regularizers.

All take per-pair tensors and return a scalar mean. `logp_*` are response log-probabilities
**summed** over the response tokens, as in the official trainer.
"""

from __future__ import annotations


def bt(r_chosen, r_rejected):
    """-log sigma(r_c - r_r): the Bradley-Terry reward loss."""
    import torch.nn.functional as F

    return -F.logsigmoid(r_chosen - r_rejected).mean()


def bt_margin(r_chosen, r_rejected, margin):
    """Llama-2's margin loss: -log sigma(r_c - r_r - m), m from the rating difference."""
    import torch.nn.functional as F

    return -F.logsigmoid(r_chosen - r_rejected - margin).mean()


def bt_label_smoothing(r_chosen, r_rejected, epsilon: float):
    """The preference label is right with probability 1 - epsilon."""
    import torch.nn.functional as F

    d = r_chosen - r_rejected
    return (-(1 - epsilon) * F.logsigmoid(d) - epsilon * F.logsigmoid(-d)).mean()


def sft_reg(logp_chosen, beta: float):
    """GRM's default regularizer: -log sigma(beta log pi(y_c|x)) (the log-sigmoid keeps it bounded)."""
    import torch.nn.functional as F

    return -F.logsigmoid(beta * logp_chosen).mean()


def dpo_reg(logp_chosen, logp_rejected, beta: float, ref_chosen=None, ref_rejected=None):
    """DPO on the same pairs; reference-free when no reference log-probs are given."""
    import torch.nn.functional as F

    d = logp_chosen - logp_rejected
    if ref_chosen is not None:
        d = d - (ref_chosen - ref_rejected)
    return -F.logsigmoid(beta * d).mean()


def grm(l_reward, l_reg, alpha: float):
    """L = (1 - alpha) L_reward + alpha L_reg."""
    return (1 - alpha) * l_reward + alpha * l_reg
