"""sami at paper scale, without the network: the overlay validates with pinned revisions, the
constitution files parse into the four constitutions, the text task builds prompts with a
local tokenizer, posts load through the same call, and the LLM judge reads its key from the
environment, sends it only in the header, never shows it, and parses verdicts."""

from __future__ import annotations

import io as _io
import json
import re

import llmrepro  # noqa: F401
import numpy as np
import pytest

from llmrepro.pipeline import params as P
from llmrepro.sami import llm_judge as LJ
from llmrepro.sami import text as X
from llmrepro.sami.config import LLMJudgeCfg, PaperScale

from conftest import ROOT


@pytest.fixture(scope="module")
def full():
    return P.render_scale(ROOT, "full")


def test_full_overlay_pins_the_papers_models_data_and_code(full):
    ps = PaperScale.model_validate(full["sami"]["paper_scale"])
    assert ps.base.id == "mistralai/Mistral-7B-v0.1" and ps.posts.id == "openai/summarize_from_feedback"
    assert {ps.one_gpu_base.id, ps.one_gpu_instruct.id} == {"Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B-Instruct"}
    for ref in (ps.base, ps.instruct, ps.one_gpu_base, ps.one_gpu_instruct, ps.posts, ps.train_posts):
        assert re.fullmatch(r"[0-9a-f]{40}", ref.revision), ref
    assert re.fullmatch(r"[0-9a-f]{40}", ps.constitutions.commit)
    s = full["sami"]
    assert s["schedule"]["steps"] == [2, 4, 6] and s["schedule"]["queries"] == 128 and s["schedule"]["lr"] == 5e-7
    assert s["eval"]["posts"] == 250 and s["schedule"]["temperature"] == 0.0
    # the key is never a param: only the name of the variable that holds it
    assert "api_key" not in json.dumps(full["sami"]).replace("api_key_env", "")
    assert s["resources"]["iterate_sami"]["gpu"] == 1 and s["resources"]["judge"]["gpu"] == 0
    assert ps.models() == (ps.base, ps.instruct)
    assert ps.model_copy(update={"variant": "one_gpu"}).models() == (ps.one_gpu_base, ps.one_gpu_instruct)


def test_mini_and_smoke_leave_the_paper_scale_off():
    for scale in ("mini", "smoke"):
        assert P.render_scale(ROOT, scale)["sami"]["paper_scale"] is None


def _files():
    """Six files shaped like the official ones (our own wording): 3 negations x 2 orders."""
    P1, P2, A1, A2 = "Be brief.", "Be complete.", "Be long-winded.", "Leave things out."
    out = []
    for first, second, anti in ((P1, P2, A1), (P2, P1, A2)):
        for neg in ((True, False), (False, True), (True, True)):
            a = {P1: A1, P2: A2}
            n1 = a[first] if neg[0] else first
            n2 = a[second] if neg[1] else second
            out.append({"positive": f"1. {first} \n2. {second}", "negative": f"1. {n1} \n2. {n2}",
                        "identifiers": {"positive": ["pos x", "pos y"],
                                        "negative": [("neg" if neg[0] else "pos") + " x",
                                                     ("neg" if neg[1] else "pos") + " y"]}})
    return out


def test_constitution_files_give_the_four_constitutions_in_the_worlds_layout():
    p1, p2, a1, a2 = X.principles(_files())
    assert (p1, p2, a1, a2) == ("Be brief.", "Be complete.", "Be long-winded.", "Leave things out.")
    cons = X.constitutions(p1, p2, a1, a2)
    assert cons[0] == "1. Be brief.\n2. Be complete." and cons[3] == "1. Be long-winded.\n2. Leave things out."
    with pytest.raises(ValueError, match="negate"):
        X.principles(_files()[:1])


def test_constitutions_load_through_the_github_source_and_mirror(tmp_path, monkeypatch):
    from llmrepro.data.config import GithubSource

    src = GithubSource(repo="janphilippfranken/sami", commit="7388e2c37c1a13aa77137562e3c2b9e9990959cc")
    d = tmp_path / "mirror" / "github" / src.repo / src.commit / "c"
    d.mkdir(parents=True)
    for i, f in enumerate(_files()):
        (d / f"{i}.json").write_text(json.dumps(f))
    monkeypatch.setenv("LLMREPRO_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("LLMREPRO_OFFLINE", "1")
    assert X.load_constitutions(src, "c", tmp_path / "out")[1] == "1. Be brief.\n2. Leave things out."


def test_posts_load_unique_in_order_from_a_dotted_field(monkeypatch):
    import datasets

    from llmrepro.data.config import HubDataset

    rows = [{"info": {"post": p}} for p in ("a", "b", "a", "c", "d")]
    seen = {}

    def fake(name, config, revision, split, **kw):
        seen.update(name=name, config=config, revision=revision, split=split)
        return rows

    monkeypatch.setattr(datasets, "load_dataset", fake)
    ds = HubDataset(id="openai/summarize_from_feedback", revision="b8f7d168b6f4e95b2a92e84768bd6c955bed2f29",
                    config="comparisons", split="validation", text_field="info.post", max_rows=3)
    assert X.load_posts(ds) == ["a", "b", "c"]
    assert seen["revision"] == ds.revision and seen["config"] == "comparisons"


def test_text_task_prompts_and_decodes_with_a_local_tokenizer():
    from llmrepro.data.tokenizer import train_bpe

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        tok = train_bpe(["a post about cats and dogs", "summary: be brief"] * 20, 300, Path(tmp))
    task = X.TextTask(tok, ["cats like naps", "dogs like walks"], X.constitutions("A", "B", "not A", "not B"))
    ids = task.prompt(3, 1)
    text = tok.decode(ids)
    assert "not A" in text and "not B" in text and "dogs like walks" in text and text.rstrip().endswith("Summary:")
    assert task.pad == tok.pad_token_id and task.eos == tok.eos_token_id
    assert task.text(tok("cats", add_special_tokens=False)["input_ids"] + [task.eos]) == "cats"
    q = task.queries(np.random.default_rng(0), 5)
    assert len(q) == 5 and set(q) <= {0, 1}


class _Reply:
    def __init__(self, body: dict):
        self._b = _io.BytesIO(json.dumps(body).encode())

    def read(self):
        return self._b.read()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _cfg(**kw):
    return LLMJudgeCfg(base_url="http://judge.invalid/v1", model="judge-model", api_key_env="SAMI_TEST_KEY", **kw)


def test_judge_key_comes_from_the_environment_and_is_never_shown(monkeypatch):
    monkeypatch.delenv("SAMI_TEST_KEY", raising=False)
    with pytest.raises(LJ.JudgeError, match="SAMI_TEST_KEY"):
        LJ.Client(_cfg())
    monkeypatch.setenv("SAMI_TEST_KEY", "sk-secret-123")
    sent = []

    def opener(req, timeout):
        sent.append(req)
        return _Reply({"choices": [{"message": {"content": "Comparison: ...\nFinal Response: B"}}]})

    c = LJ.Client(_cfg(), opener=opener)
    assert "sk-secret" not in repr(c)
    assert c.complete("hello") .endswith("B")
    req = sent[0]
    assert req.get_header("Authorization") == "Bearer sk-secret-123"
    assert req.full_url == "http://judge.invalid/v1/chat/completions"
    body = json.loads(req.data)
    assert body["model"] == "judge-model" and body["temperature"] == 0.0 and "sk-secret" not in req.data.decode()

    def failing(req, timeout):
        raise OSError(f"connection refused for {req.get_header('Authorization')}")

    with pytest.raises(LJ.JudgeError) as e:
        LJ.Client(_cfg(), opener=failing).complete("x")
    assert "sk-secret" not in str(e.value) and e.value.__cause__ is None


@pytest.mark.parametrize("text,want", [("Final Response: A", 1.0), ("final response: **B**", 0.0),
                                       ('Final Response: "A"', 1.0), ("A is better", 0.5), ("", 0.5),
                                       ("Final Response: A\nFinal Response: B", 0.0)])
def test_judge_parses_its_final_answer(text, want):
    assert LJ.parse(text) == want


def test_judge_randomizes_the_order_and_maps_back(monkeypatch):
    monkeypatch.setenv("SAMI_TEST_KEY", "k")

    def opener(req, timeout):  # a judge that always prefers the summary saying "good"
        prompt = json.loads(req.data)["messages"][1]["content"]
        a = prompt.split("SUMMARY A: ")[1].split("\n")[0]
        return _Reply({"choices": [{"message": {"content": f"Final Response: {'A' if a == 'good' else 'B'}"}}]})

    c = LJ.Client(_cfg(workers=2), opener=opener)
    v = LJ.compare(c, ["p"] * 40, "1. x", ["good"] * 40, ["bad"] * 40, np.random.default_rng(0))
    assert (v == 1.0).all()
    v = LJ.compare(c, ["p"] * 40, "1. x", ["bad"] * 40, ["good"] * 40, np.random.default_rng(1))
    assert (v == 0.0).all()
