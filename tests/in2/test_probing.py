"""VaL-lite probing: greedy decoding against a slow reference, bucket curves, Avg/Gap
by hand and on degenerate input."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.in2 import data as D
from llmrepro.in2 import probing as P


def test_avg_gap_and_thirds_by_hand():
    c = np.array([1.0, 0.5, 0.25, 0.5, 1.0, 0.75])
    assert P.avg_gap(c) == {"avg": pytest.approx(4.0 / 6), "gap": 0.75}
    t = P.thirds(c)
    assert t["first_third"] == 0.75 and t["middle_third"] == 0.375 and t["last_third"] == 0.875
    assert t["ends"] == 0.875


def test_avg_gap_degenerate_inputs():
    assert P.avg_gap(np.array([0.3, 0.3, 0.3])) == {"avg": pytest.approx(0.3), "gap": 0.0}  # flat
    empty = P.avg_gap(np.array([]))
    assert empty["avg"] is None and empty["gap"] is None and empty["why"]
    assert P.avg_gap(np.array([np.nan, np.nan]))["avg"] is None
    assert P.avg_gap(np.array([np.nan, 0.2, 0.6]))["gap"] == pytest.approx(0.4)  # an empty bucket is skipped
    assert P.avg_gap(np.array([1e308, -1e308]))["why"] == "bucket values overflow"


def test_bucket_curve_by_hand():
    scores = np.array([1, 1, 0, 0, 1, 0, 1, 1], float)
    pos = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    assert P.bucket_curve(scores, pos, 8, 4).tolist() == [1.0, 0.0, 0.5, 1.0]
    gap = P.bucket_curve(scores[:2], pos[:2], 8, 4)  # buckets without examples are NaN
    assert gap[0] == 1.0 and np.isnan(gap[1:]).all()


@pytest.fixture(scope="module")
def tiny():
    import torch

    from llmrepro.models import factory
    from llmrepro.models.config import TinyLM

    model = factory.build(TinyLM(hidden=32, layers=2, heads=2, intermediate=64, context=64), D.Vocab(8).size, seed=3)
    with torch.no_grad():  # sharpen the random logits so greedy choices are not near-ties
        model.lm_head.weight.mul_(50)
    return model.eval()


def test_greedy_prediction_matches_full_recompute(tiny):
    """predict() uses the KV cache and the last-position LM head; the slow reference
    re-runs the whole sequence for every generated token."""
    import torch

    vocab = D.Vocab(8)
    ps = D.probe_set(np.random.default_rng(0), vocab, "bidirectional", 5, 2)
    fast = P.predict(tiny, ps, batch=3)
    with torch.no_grad():
        for row, got in zip(ps.ids, fast):
            x = list(row)
            for tok in got:
                nxt = int(tiny(input_ids=torch.tensor([x])).logits[0, -1].argmax())
                assert nxt == tok
                x.append(nxt)


def test_probe_reports_every_style_with_paired_contexts(tiny):
    vocab = D.Vocab(8)
    a = P.probe(tiny, vocab, 4, 2, 2, seed=5)
    b = P.probe(tiny, vocab, 4, 2, 2, seed=5)
    assert a == b and set(a) == set(D.STYLES)
    for s in D.STYLES:
        assert len(a[s]["per_position"]) == 4 and len(a[s]["buckets"]) == 2 and a[s]["examples"] == 8
        assert a[s]["gap"] == pytest.approx(max(a[s]["buckets"]) - min(a[s]["buckets"]))
