"""Pairwise judging and win rates, as the paper computes them.

The mini judge is programmatic: it scores the principles' content (coverage of the post's
facts minus wrong facts, minus fillers per fact; `world.judge_score`), never likelihood.
Responses are shown in a random A/B order anyway, so a judge with a position bias (the
noisy judge) is scored the way the paper's GPT-4 judge was. Ties count 0.5.

Win rate: every trained response against every base response of the same post, averaged
per post, then over posts (the paper: one response each, 250 posts). The length-corrected
win rate splits the comparisons by whether the trained response is longer than the other,
averages within each stratum and then the two strata (the paper's balanced correction).
"""

from __future__ import annotations

import numpy as np


def score(rec: dict, prefix: str = "desired") -> np.ndarray:
    """The judge's score of every response: coverage - errors - fillers per fact."""
    return rec[f"{prefix}_coverage"] - rec[f"{prefix}_errors"] - rec[f"{prefix}_fillers"]


def verdicts(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, position_bias: float = 0.0,
             flip: float = 0.0) -> np.ndarray:
    """Preference for A over B per comparison (1, 0.5 or 0). A is shown first with
    probability 1/2; the first-shown response gets `position_bias` extra points; with
    probability `flip` the judge answers at random."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    a_first = rng.random(a.shape) < 0.5
    first, second = np.where(a_first, a, b), np.where(a_first, b, a)
    d = first - second + position_bias
    v = np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5))  # preference for the first-shown
    if flip > 0:
        coin = rng.integers(0, 2, a.shape).astype(float)
        v = np.where(rng.random(a.shape) < flip, coin, v)
    return np.where(a_first, v, 1.0 - v)


def pairwise(sa: np.ndarray, sb: np.ndarray, la: np.ndarray, lb: np.ndarray, rng: np.random.Generator,
             position_bias: float = 0.0, flip: float = 0.0) -> dict:
    """sa, sb: (posts, samples) scores of models A and B on the same posts; la, lb their
    lengths. All samples of A meet all samples of B, post by post."""
    sa, sb, la, lb = (np.asarray(x, float) for x in (sa, sb, la, lb))
    A, B = sa[:, :, None], sb[:, None, :]
    v = verdicts(np.broadcast_to(A, np.broadcast_shapes(A.shape, B.shape)), np.broadcast_to(B, np.broadcast_shapes(
        A.shape, B.shape)), rng, position_bias, flip)
    longer = la[:, :, None] > lb[:, None, :]
    longer = np.broadcast_to(longer, v.shape)
    per_post = v.reshape(len(v), -1).mean(1)
    return {"per_post": per_post, "win": float(per_post.mean()),
            "sem": float(per_post.std(ddof=1) / np.sqrt(len(per_post))) if len(per_post) > 1 else None,
            **length_corrected(v, longer)}


def length_corrected(v: np.ndarray, longer: np.ndarray) -> dict:
    """The balanced correction: mean win among comparisons where A is longer, mean where it
    is not, then their average. Undefined (None, with why) when a stratum is empty."""
    v, longer = np.asarray(v, float).ravel(), np.asarray(longer, bool).ravel()
    n_long = int(longer.sum())
    out = {"win_longer": float(v[longer].mean()) if n_long else None,
           "win_not_longer": float(v[~longer].mean()) if n_long < len(v) else None,
           "frac_longer": float(longer.mean()) if len(v) else None}
    if out["win_longer"] is None or out["win_not_longer"] is None:
        out["win_length_corrected"] = None
        out["why_length_corrected"] = "one length stratum is empty"
    else:
        out["win_length_corrected"] = 0.5 * (out["win_longer"] + out["win_not_longer"])
    return out
