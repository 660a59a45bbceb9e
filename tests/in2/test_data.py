"""in2 data: contexts, questions, answer positions, equal tokens across arms, copy rows."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.in2 import data as D
from llmrepro.in2 import training as TR

V = D.Vocab(12)


def test_context_has_disjoint_roles_and_no_repeated_key():
    recs = D.context(np.random.default_rng(0), V, 12)
    for r in range(3):
        col = recs[:, r]
        assert len(set(col.tolist())) == 12
        assert (col >= V.role(r)).all() and (col < V.role(r) + V.keys).all()
    with pytest.raises(ValueError, match="keys per role"):
        D.context(np.random.default_rng(0), V, 13)


def test_questions_ask_for_the_neighbours_of_the_key():
    rec, rec2 = np.array([10, 25, 40]), np.array([11, 26, 41])
    assert D.query("forward", rec) == ([D.Q["forward"], 10], [25])  # key, then the token after it
    assert D.query("backward", rec) == ([D.Q["backward"], 40], [25])  # key, then the token before it
    assert D.query("bidirectional", rec) == ([D.Q["bidirectional"], 25], [10, 40])
    assert D.query("integration", rec, rec2) == ([D.Q["integration"], 10, 11], [26, 25])
    for style in (*D.STYLES, "integration"):
        p, a = D.query(style, rec, rec2)
        assert len(p) + len(a) == D.QUERY_LEN[style]
    with pytest.raises(ValueError):
        D.query("sideways", rec)


def test_position_weights_by_hand():
    w = D.position_weights(32, 0.9, 3)
    ends, mid = 0.9 / 6 + 0.1 / 32, 0.1 / 32
    assert np.allclose(w[[0, 1, 2, 29, 30, 31]], ends) and np.allclose(w[3:29], mid)
    assert np.isclose(w.sum(), 1.0)
    assert np.allclose(D.position_weights(10, 0.0, 3), 0.1)  # IN2: uniform
    assert np.allclose(D.position_weights(4, 0.9, 3), 0.25)  # every record is an end record
    assert np.allclose(D.position_weights(1, 0.9, 3), 1.0)


def _check_row(ids, labels):
    """Every supervised answer is what the question asks of the context (a slow reference)."""
    ids, labels = list(ids), list(labels)
    end = ids.index(D.Q["forward"]) if D.Q["forward"] in ids else len(ids)
    q_start = min([ids.index(q) for q in D.Q.values() if q in ids] + [end])
    ctx = ids[1:q_start]
    recs = [ctx[i:i + 3] for i in range(0, len(ctx), 3)]
    assert all(len(r) == 3 for r in recs)
    t, n_answers = q_start, 0
    while t < len(ids) and ids[t] != D.PAD:
        style = {v: k for k, v in D.Q.items()}[ids[t]]
        if style == "integration":
            (ra,) = [r for r in recs if r[0] == ids[t + 1]]
            (rb,) = [r for r in recs if r[0] == ids[t + 2]]
            want, t = [rb[1], ra[1]], t + 3
        else:
            col = {"forward": 0, "backward": 2, "bidirectional": 1}[style]
            (r,) = [r for r in recs if r[col] == ids[t + 1]]
            want = {"forward": [r[1]], "backward": [r[1]], "bidirectional": [r[0], r[2]]}[style]
            t += 2
        assert ids[t:t + len(want)] == want and labels[t:t + len(want)] == want
        assert all(x == D.IGNORE for x in labels[t - 2:t])  # no loss on the question
        n_answers += len(want)
        t += len(want)
    assert sum(x != D.IGNORE for x in labels) == n_answers


def test_batch_supervises_exactly_the_answers():
    mix = D.Mix(n_min=3, n_max=9, queries=4, integration=0.3)
    b = D.batch(np.random.default_rng(1), V, np.array([3, 9, 5, 7, 4]), mix, mix.max_len)
    assert b["input_ids"].shape == (5, mix.max_len)
    for ids, labels in zip(b["input_ids"], b["labels"]):
        _check_row(ids, labels)
    assert ((b["rel_pos"] > 0) & (b["rel_pos"] < 1)).all()
    with pytest.raises(ValueError, match="does not fit"):
        D.batch(np.random.default_rng(1), V, np.array([9]), mix, 10)


def test_ends_biased_mix_puts_answers_at_the_ends_and_in2_spreads_them():
    rng = np.random.default_rng(2)
    nat = D.batch(rng, V, np.full(400, 12), D.Mix(12, 12, 1, p_ends=0.9, ends=3), 60)["rel_pos"]
    uni = D.batch(rng, V, np.full(400, 12), D.Mix(12, 12, 1), 60)["rel_pos"]
    mid = lambda r: ((r > 0.25) & (r < 0.75)).mean()  # records 3..8 of 12
    assert mid(nat) < 0.15 and 0.35 < mid(uni) < 0.65


def test_budget_batches_fill_the_same_tokens_whatever_the_context_length():
    short, long = D.Mix(3, 5, 2, p_ends=0.9), D.Mix(9, 12, 2, integration=0.5)
    for mix in (short, long):
        b = D.budget_batch(np.random.default_rng(7), V, mix, 300, 100)
        real = int((b["input_ids"] != D.PAD).sum())
        assert b["tokens"] == real and 300 - mix.max_len < real <= 300
        for ids, labels in zip(b["input_ids"], b["labels"]):
            _check_row(ids, labels)
    n_short = len(D.budget_batch(np.random.default_rng(7), V, short, 300, 100)["input_ids"])
    n_long = len(D.budget_batch(np.random.default_rng(7), V, long, 300, 100)["input_ids"])
    assert n_short > n_long  # shorter contexts buy more rows
    assert len(D.budget_batch(np.random.default_rng(7), V, short, 300, 3)["input_ids"]) == 3  # the row cap
    with pytest.raises(ValueError, match="does not fit one row"):
        D.budget_batch(np.random.default_rng(7), V, long, 10, 5)


def test_budget_batches_audit_tokens_rows_and_answers():
    audit = {}
    nb = TR.budget_batches(V, D.Mix(3, 6, 2), 200, 50, seed=1, audit=audit)
    batches = [nb(s) for s in range(3)]
    assert audit["rows"] == sum(len(b["input_ids"]) for b in batches)
    assert audit["tokens"] == sum(int((b["input_ids"] != D.PAD).sum()) for b in batches)
    assert audit["answers"] == sum(int((b["labels"] != D.IGNORE).sum()) for b in batches)
    again = TR.budget_batches(V, D.Mix(3, 6, 2), 200, 50, seed=1, audit={})
    assert all((again(s)["input_ids"] == batches[s]["input_ids"]).all() for s in range(3))  # seeded


def test_curriculum_grows_the_longest_context():
    n_at = TR.curriculum(2, 8, 100, 1000)
    rng = np.random.default_rng(0)
    assert n_at(0, rng).max() == 2 and n_at(49, rng).max() == 5 and n_at(99, rng).max() == 8
    assert n_at(500, rng).min() == 2


def test_copy_rows_copy_forwards_or_backwards():
    b = D.copy_batch(np.random.default_rng(3), V, 50, 3, 9, 20)
    for ids, labels in zip(b["input_ids"], b["labels"]):
        ids = list(ids)
        k = next(i for i, t in enumerate(ids) if t in (D.Q["forward"], D.Q["backward"])) - 1
        seq, copy = ids[1:k + 1], ids[k + 2:2 * k + 2]
        assert copy == (seq if ids[k + 1] == D.Q["forward"] else seq[::-1])
        assert list(labels[k + 2:2 * k + 2]) == copy and (labels[:k + 2] == D.IGNORE).all()
    with pytest.raises(ValueError, match="does not fit"):
        D.copy_batch(np.random.default_rng(3), V, 5, 9, 9, 12)


def test_probe_set_covers_every_position_equally_and_scores_by_hand():
    ps = D.probe_set(np.random.default_rng(4), V, "bidirectional", 6, 3)
    assert ps.ids.shape == (18, 1 + 18 + 2) and ps.answers.shape == (18, 2)
    assert np.bincount(ps.position).tolist() == [3] * 6
    gold = np.array([[10, 40], [11, 41]])
    assert D.score("bidirectional", np.array([[10, 99], [41, 11]]), gold).tolist() == [0.5, 1.0]
    assert D.score("forward", np.array([[5], [6]]), np.array([[5], [7]])).tolist() == [1.0, 0.0]
    assert D.buckets(np.arange(8), 8, 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_tokenizer_matches_the_id_layout(tmp_path):
    tok = V.tokenizer(tmp_path)
    assert tok.decode([D.BOS, D.Q["backward"], V.role(0), V.role(1) + 3, V.role(2) + 11]) == \
        "<bos> <q_backward> A0 B3 C11"
    assert (tmp_path / "tokenizer.json").exists()


def test_integration_questions_and_their_score():
    ps = D.integration_set(np.random.default_rng(5), V, 6, 20)
    assert ps.ids.shape == (20, 1 + 18 + 3) and ps.answers.shape == (20, 2)
    for row, ans in zip(ps.ids, ps.answers):
        recs = row[1:19].reshape(6, 3)
        (ri,) = [r for r in recs if r[0] == row[-2]]
        (rj,) = [r for r in recs if r[0] == row[-1]]
        assert ans.tolist() == [rj[1], ri[1]]
    gold = np.array([[20, 21], [22, 23]])
    assert D.score("integration", np.array([[20, 21], [22, 99]]), gold).tolist() == [1.0, 0.0]
