"""freq: the paper's binned statistic, concept extraction, the world and the tiny CLIP."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_MIRROR
from llmrepro.freq import analysis as A
from llmrepro.freq import extraction as X
from llmrepro.freq import world as W


def test_binned_rho_follows_the_notebook_binning():
    # ln counts span [0, 11]: the 12 edges are 0, 1, ..., 11, and digitize(right=True)
    # puts ln = k - 0.5 in bin k and ln = 0 (a zero count, clamped to 1) alone in bin 0
    counts = np.exp([0.0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.0])
    counts[0] = 0
    acc = np.array([50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 90, 100.0])
    edges, means, sizes = A.binned(counts, acc)
    assert edges == pytest.approx(np.arange(12.0))
    assert sizes.tolist() == [1] * 11 + [2]
    assert means.tolist() == [50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 95]
    # the end bins (50 and 99) are dropped: the remaining means are linear in the edges
    assert A.binned_rho(counts, acc) == pytest.approx(1.0)
    assert A.binned_rho(counts, acc, drop_low=0, drop_high=0) < 0.9


def test_per_concept_and_rare_gap():
    counts = [1, 10, 100, 1000] * 5
    acc = [10, 20, 30, 40] * 5
    assert A.per_concept(counts, acc)["pearson_r"] == pytest.approx(1.0)
    assert A.slope_ci(counts, acc, n_boot=50)["value"] == pytest.approx(10.0)
    g = A.rare_gap(counts, acc, fraction=0.25)
    assert g["rare_mean"] == 10 and g["all_mean"] == 25 and g["gap"] == 15


def test_replay_reproduces_the_cc3m_legend(tmp_path):
    from llmrepro.data.sources import GithubSource, fetch_github
    from llmrepro.freq.config import Pair, ReplayCfg
    from llmrepro.freq.replay import files, replay

    src = GithubSource(repo="bethgelab/frequency_determines_performance",
                       commit="11ef009f9d0d9c0d190b4ede58e07d378ef79d32")
    if not SHARED_MIRROR.is_dir():
        pytest.skip("the shared mirror is not beside this checkout")
    cfg = ReplayCfg(pairs=[Pair(pretrain="cc3m", model="RN50", legend_rho=0.96)], n_boot=20)
    for f in files(cfg):
        fetch_github(src, f, tmp_path)
    out = replay(tmp_path, cfg)
    pair = out["pairs"]["cc3m/RN50"]
    assert pair["binned_rho"] == pytest.approx(0.961, abs=5e-4)
    assert pair["pearson_r"] == pytest.approx(0.585, abs=5e-4)  # per concept: far below the binned value
    assert pair["n"] == 4469
    assert out["let_it_wag"]["models"] == 20
    assert out["let_it_wag"]["mean_drop_pp"] == pytest.approx(21.43, abs=0.01)


def test_text_index_lemmatises_and_ands_unigrams():
    caps = ["two mice in the kitchen", "a mouse near the wall", "a fire hydrant on the street",
            "fire in the street", "many geese near a hydrant"]
    lem = X.build_index(caps, "lemmatized")
    low = X.build_index(caps, "lowercased")
    assert X.text_hits(lem, "mouse", "lemmatized") == {0, 1}
    assert X.text_hits(low, "mouse", "lowercased") == {1}  # the plural is missed without lemmas
    assert X.text_hits(lem, "fire hydrant", "lemmatized") == {2}  # AND of the two words
    assert X.text_hits(lem, "goose", "lemmatized") == {4}
    # a unigram absent from the index is dropped, not a reason for zero hits
    assert X.text_hits(lem, "hydrant zzzq", "lemmatized") == {2, 4}
    with pytest.raises(ValueError, match="mode 'stemmed'"):
        X.tokens("x", "stemmed")


def test_tagger_tags_at_the_threshold():
    import torch

    lin = torch.nn.Linear(2, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[10.0, 0], [0, 10.0], [0, 0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.0, 0.0]))  # third concept: p = 0.5 < 0.7
    tags = X.tag(lin, np.array([[1.0, 0], [1.0, 1.0], [-1.0, -1.0]], np.float32), 0.7)
    assert tags == [{0}, {0, 1}, set()]


def test_world_is_seeded_zipf_and_misaligned():
    cfg = W.WorldCfg(concepts=40, pairs=6000, dim=16, misalignment_rate=0.2, two_concept_rate=0.0)
    a, b = W.generate(cfg, 7), W.generate(cfg, 7)
    assert a.captions == b.captions and np.array_equal(a.images, b.images)
    counts = np.bincount([c for cs in a.text_concepts for c in cs], minlength=40)
    order = np.argsort(a.freq_rank)  # concepts from most to least frequent
    assert counts[order[0]] > 10 * counts[order[-1]]
    mis = np.mean([t != s for t, s in zip(a.text_concepts, a.image_concepts)])
    assert 0.15 < mis < 0.22  # misaligned pairs can redraw the same concept by chance
    uniform = W.generate(cfg.model_copy(update={"zipf_s": 0.0}), 7)
    u = np.bincount([c for cs in uniform.text_concepts for c in cs], minlength=40)
    assert u.max() < 2 * u.min()


def test_clip_text_embedding_ignores_padding():
    import torch

    from llmrepro.freq.clip import TinyClip, encode
    from llmrepro.freq.config import ClipCfg
    from llmrepro.freq.experiment import tokenizer_for

    w = W.generate(W.WorldCfg(concepts=10, pairs=50, dim=8), 0)
    tok = tokenizer_for(w)
    model = TinyClip(len(tok), 8, ClipCfg(hidden=16, layers=1, heads=2, embed=8, max_len=24)).eval()
    with torch.no_grad():
        short = model.encode_text(*encode(tok, ["a photo of a " + w.names[0]], 12))
        long = model.encode_text(*encode(tok, ["a photo of a " + w.names[0]], 24))
    assert torch.allclose(short, long, atol=1e-5)
