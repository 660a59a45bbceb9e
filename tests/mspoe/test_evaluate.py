"""Scoring: the same scores at batch 1 and batch N for every configuration, on prompts of
different lengths (pad keys never reach a prompt's scores), and the cached-prefix path equal
to scoring each whole prompt."""

from __future__ import annotations

import pytest
import torch
from helpers import WordTok, tiny_llama

from llmrepro.mspoe import tasks as T
from llmrepro.mspoe.evaluate import _whole, score, summary
from llmrepro.mspoe.patch import MsPoECfg, patched

CFGS = {"baseline": None, "outlier": MsPoECfg(order="outlier", skip_layers=1),
        "sequential": MsPoECfg(order="sequential", skip_layers=1),
        "uniform": MsPoECfg(order="uniform", ratio=1.3, skip_layers=1)}
WORDS = ["river", "stone", "cloud", "maple", "ember", "frost"]


def _examples() -> list[T.Example]:
    """Two contexts of different lengths; questions of different lengths within each."""
    out = []
    for c, n_lines in enumerate((5, 9)):
        prefix = "Remember these.\n" + "\n".join(f"Code {i} of batch {c} reads {WORDS[(i + c) % 6]} ." * (1 + i % 2)
                                               for i in range(n_lines))
        for j, q in enumerate((0, 2, n_lines - 1)):
            suffix = f"\nQuestion: {'which word is ' * (1 + j)}code {q} ?\nAnswer:"
            out.append(T.Example(prefix, suffix, WORDS[:4], j % 4, q, c))
    return out


@pytest.fixture
def model():
    return tiny_llama(seed=2, sharpen=6.0)


def test_outlier_scores_vary_between_heads_and_prompts(model):
    out = score(model, WordTok(), _examples(), CFGS["outlier"], batch=1)
    s = torch.tensor(out["head_scores"])
    assert s.std() > 0.01  # otherwise every head ties and the ordering is never exercised


@pytest.mark.parametrize("name", list(CFGS))
def test_scores_do_not_depend_on_the_batch_size(model, name):
    tok, ex = WordTok(), _examples()
    lengths = {len(tok(e.prefix)["input_ids"]) + len(tok(e.suffix)["input_ids"]) for e in ex}
    assert len(lengths) == len(ex)  # every prompt has its own length: batches are padded
    one, many = score(model, tok, ex, CFGS[name], batch=1), score(model, tok, ex, CFGS[name], batch=3)
    for a, b in zip(one["rows"], many["rows"]):
        assert a["correct"] == b["correct"] and a["tokens"] == b["tokens"]
        assert a["gold_logprob"] == pytest.approx(b["gold_logprob"], abs=1e-5)
        assert a["margin"] == pytest.approx(b["margin"], abs=1e-5)
    if name == "outlier":
        assert torch.allclose(torch.tensor(one["head_scores"]), torch.tensor(many["head_scores"]))


def test_outlier_head_scores_of_a_padded_prompt_equal_its_own(model):
    tok, ex = WordTok(), _examples()[:3]
    enc = lambda s: tok(s)["input_ids"]
    prompts = [enc(e.prefix) + enc(e.suffix) for e in ex]
    cfg = CFGS["outlier"]
    with patched(model, cfg) as p, torch.no_grad():
        alone = []
        for x in prompts:
            _whole(model, p, [x], 1, 0, alone)
        together = []
        _whole(model, p, prompts, 3, 0, together)
    assert torch.equal(torch.cat(alone), together[0])


@pytest.mark.parametrize("name", ["baseline", "sequential", "uniform"])
def test_the_cached_prefix_path_equals_scoring_whole_prompts(model, name):
    tok, ex = WordTok(), _examples()
    enc = lambda s: tok(s)["input_ids"]
    rows = score(model, tok, ex, CFGS[name], batch=2)["rows"]
    with patched(model, CFGS[name]) as p, torch.no_grad():
        logp = _whole(model, p, [enc(e.prefix) + enc(e.suffix) for e in ex], 1, 0, [])
    gold = [float(lp[enc(" " + e.candidates[e.gold])[0]]) for lp, e in zip(logp, ex)]
    assert [r["gold_logprob"] for r in rows] == pytest.approx(gold, abs=1e-5)


def test_tasks_ask_every_context_at_every_position_with_the_gold_among_the_candidates():
    tok = WordTok(vocab=4000)
    ex = T.make("kv", tok, 12, [0, 5, 11], 3, 4, seed=0)
    assert [(e.context, e.position) for e in ex] == [(c, p) for c in range(3) for p in (0, 5, 11)]
    for e in ex:
        assert len(e.candidates) == 4 and len(set(e.candidates)) == 4
        assert f" is {e.candidates[e.gold]}." in e.prefix.split("\n")[1 + e.position]
    assert len({e.prefix for e in ex}) == 3 and ex[0].prefix == ex[2].prefix
    assert T.make("kv", WordTok(vocab=4000), 12, [0, 5, 11], 3, 4, seed=0) == ex  # seeded
    with pytest.raises(ValueError, match="outside"):
        T.make("mdqa", tok, 5, [0, 5], 1, 0, seed=0)


def test_summary_on_hand_built_rows():
    rows = [{"position": p, "correct": c} for p, c in [(0, 1), (0, 1), (3, 0), (3, 1), (7, 1), (7, 0)]]
    s = summary(rows)
    assert s["acc_by_position"] == {0: 1.0, 3: 0.5, 7: 0.5}
    assert s["ends"] == 0.75 and s["middle"] == 0.5 and s["gap"] == 0.5 and s["n_per_position"] == 2
