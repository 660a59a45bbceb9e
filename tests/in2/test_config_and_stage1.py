"""The in2 params schema (bounds, cross-field checks), the RoPE base, and the stage-1 gate."""

from __future__ import annotations

import copy

import pytest
import yaml

from llmrepro.in2.config import In2Params
from llmrepro.pipeline import params as P

from conftest import ROOT


@pytest.fixture(scope="module")
def mini() -> dict:
    return P.render_scale(ROOT, "mini")["in2"]


def bad(section: dict, path: str, value) -> str:
    s = copy.deepcopy(section)
    node = s
    *head, last = path.split(".")
    for k in head:
        node = node[k]
    node[last] = value
    with pytest.raises(Exception) as e:
        In2Params.model_validate(s)
    return str(e.value)


def test_every_scale_validates():
    for scale in ("smoke", "mini", "full"):
        In2Params.model_validate(P.render_scale(ROOT, scale)["in2"])


def test_bounds_and_cross_field_checks_name_the_problem(mini):
    assert "vocab_keys" in bad(mini, "vocab_keys", 1)
    assert "p_ends" in bad(mini, "arms.natural.p_ends", 1.5)
    assert "seeds" in bad(mini, "finetune.seeds", [])
    assert "retrieval.seeds" in bad(mini, "retrieval.seeds", [0, 1])  # one stage-1 model per fine-tuning seed
    assert "buckets" in bad(mini, "probe.buckets", 5)  # 32 records do not split into 5 buckets
    assert "vocab_keys" in bad(mini, "probe.n", 40)  # more records than keys
    assert "n_min" in bad(mini, "arms.in2.n_min", 40)
    assert "copy_min" in bad(mini, "retrieval.copy_min", 20)
    assert "tokens_per_step" in bad(mini, "finetune.tokens_per_step", 50)
    assert "context" in bad(mini, "model.context", 64)
    assert "lr" in bad(mini, "finetune.train.lr", 0.0)


def test_full_scale_pins_the_papers_models_and_the_lora_variant():
    full = P.render_scale(ROOT, "full")["in2"]
    ids = {m["id"] for m in full["valprobe"]["models"]}
    assert ids == {"In2Training/FILM-7B", "mistralai/Mistral-7B-Instruct-v0.2"}
    assert full["paper_scale"]["lora"]["base"]["id"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert full["paper_scale"]["lora"]["context_tokens"] == [4096, 8192]
    assert full["resources"]["valprobe"]["gpu"] == 1


def test_rope_base_is_set_and_survives_a_reload(tmp_path):
    import torch

    from llmrepro.in2 import training as TR
    from llmrepro.in2.config import Model
    from llmrepro.models import factory

    model = TR.build(Model(hidden=16, layers=1, heads=2, intermediate=32, context=64, rope_theta=100.0), 40, seed=0)
    want = 1.0 / 100.0 ** (torch.arange(0, 8, 2).float() / 8)
    assert torch.allclose(model.model.rotary_emb.inv_freq, want)
    model.save_pretrained(tmp_path)
    from transformers import AutoModelForCausalLM

    again = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert torch.allclose(again.model.rotary_emb.inv_freq, want)
    default = TR.build(Model(hidden=16, layers=1, heads=2, intermediate=32, context=64), 40, seed=0)
    plain = factory.build(Model(hidden=16, layers=1, heads=2, intermediate=32, context=64), 40, seed=0)
    assert torch.equal(default.model.rotary_emb.inv_freq, plain.model.rotary_emb.inv_freq)


def test_stage1_fails_loudly_below_the_gate(tmp_path):
    from llmrepro.in2 import steps as S

    smoke = P.render_scale(ROOT, "smoke")["in2"]
    smoke["retrieval"]["gate"] = 0.99  # two training steps cannot reach it
    p = In2Params.model_validate(smoke)
    with pytest.raises(S.GateError, match="did not learn general retrieval"):
        S.retrieval(p, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_each_seed_has_its_own_stage1_model_and_probe_set(tmp_path, monkeypatch):
    """Issue 19: the interval over seeds must cover the stage-1 model and the probe set. Seed i of every arm
    starts from stage-1 model i and is probed on contexts drawn for seed i; arms share them (paired)."""
    import torch

    from llmrepro.in2 import probing as PR
    from llmrepro.in2 import steps as S
    from llmrepro.models import factory

    p = In2Params.model_validate(P.render_scale(ROOT, "smoke")["in2"])
    assert len(p.retrieval.seeds) == len(p.finetune.seeds) >= 2
    res = S.retrieval(p, tmp_path / "model")
    assert [m["seed"] for m in res["runs"]] == p.retrieval.seeds and res["gate"]["passed"]
    w = [next(iter(factory.load_causal_lm(tmp_path / "model" / f"seed{k}")[0].parameters())).detach()
         for k in p.retrieval.seeds]
    assert not torch.equal(w[0], w[1])  # different stage-1 models, not one shared by every seed
    seen: dict[str, list] = {}
    real = PR.probe

    def spy(model, vocab, n, per_position, n_buckets, seed, batch=256):
        seen.setdefault(arm, []).append((n, seed))
        return real(model, vocab, n, per_position, n_buckets, seed, batch)

    monkeypatch.setattr(PR, "probe", spy)
    for arm in ("natural", "in2"):
        out = S.finetune(p, arm, tmp_path / "model", tmp_path / arm)
        assert [r["stage1_seed"] for r in out["runs"]] == p.retrieval.seeds
    long = [s for n, s in seen["in2"] if n == p.probe.n]
    assert len(set(long)) == len(p.finetune.seeds)  # each seed its own probe contexts...
    assert seen["natural"] == seen["in2"]  # ...the same for every arm of that seed


def test_probe_sets_differ_between_seeds():
    from llmrepro.in2 import data as D
    from llmrepro.in2.probing import _key

    import numpy as np

    draw = lambda seed: D.probe_set(np.random.default_rng([*_key(seed), 0]), D.Vocab(8), "forward", 8, 2).ids
    assert (draw((1234, 0, 0)) == draw((1234, 0, 0))).all()
    assert not (draw((1234, 0, 0)) == draw((1234, 1, 0))).all()
    assert _key(5) == [5] and _key((1, 2)) == [1, 2]


def test_smoke_overlay_names_only_in2_keys_that_exist():
    smoke = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())["in2"]
    In2Params.model_validate(P.deep_merge(P.render_scale(ROOT, "mini")["in2"], smoke))
