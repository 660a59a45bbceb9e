"""params.yaml: typed sections, clear errors, overlays, and the declared-params view."""

from __future__ import annotations

import copy

import pytest
import yaml

from llmrepro.pipeline import params as P
from llmrepro.pipeline.params import DeclaredParams, ParamsError, UndeclaredParamError

from conftest import ROOT


@pytest.fixture(scope="module")
def mini() -> dict:
    return P.read_yaml(ROOT / P.MINI_SOURCE)


def test_committed_params_yaml_is_the_mini_render():
    assert (ROOT / "params.yaml").read_text() == P.dump_params(P.render_scale(ROOT, "mini"), "mini")


@pytest.mark.parametrize("scale", P.SCALES)
def test_every_scale_validates(scale):
    data = P.render_scale(ROOT, scale)
    assert data["common"]["scale"] == scale
    P.validate(data)


def test_wrong_type_names_key_value_and_expectation(mini):
    bad = copy.deepcopy(mini)
    bad["common"]["tinylm"]["train"]["steps"] = "many"
    with pytest.raises(ParamsError) as e:
        P.validate(bad)
    msg = str(e.value)
    assert "common.tinylm.train.steps = 'many' (a string)" in msg
    assert "valid integer" in msg


def test_unknown_key_lists_allowed_keys(mini):
    bad = copy.deepcopy(mini)
    bad["common"]["tinylm"]["train"]["stpes"] = 10
    with pytest.raises(ParamsError) as e:
        P.validate(bad)
    assert "common.tinylm.train.stpes: unknown key; allowed here:" in str(e.value)
    assert "steps" in str(e.value)


def test_unknown_and_missing_sections(mini):
    bad = copy.deepcopy(mini)
    bad["nosuchpaper"] = {}
    del bad["common"]
    with pytest.raises(ParamsError) as e:
        P.validate(bad)
    assert "nosuchpaper: unknown section; known sections:" in str(e.value)
    assert "common: section is missing" in str(e.value)


def test_every_problem_is_reported_at_once(mini):
    bad = copy.deepcopy(mini)
    bad["common"]["tokenizer"]["vocab_size"] = 1.5
    bad["common"]["eval"]["seq_len"] = None
    msg = str(pytest.raises(ParamsError, P.validate, bad).value)
    assert "common.tokenizer.vocab_size" in msg and "common.eval.seq_len" in msg


def test_unpinned_hub_revision_is_rejected(mini):
    bad = copy.deepcopy(mini)
    bad["common"]["smollm2"]["hub"] = {"id": "HuggingFaceTB/SmolLM2-135M-Instruct", "revision": "main"}
    with pytest.raises(ParamsError, match="common.smollm2.hub.revision = 'main'.*must be pinned"):
        P.validate(bad)


def test_overlay_merges_mappings_and_replaces_values():
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "l": [1, 2]}
    out = P.deep_merge(base, {"a": {"c": {"d": 9}}, "l": [5]})
    assert out == {"a": {"b": 1, "c": {"d": 9, "e": 3}}, "l": [5]}
    assert base["a"]["c"]["d"] == 2  # the base is not modified


def test_overlay_typo_is_caught_by_the_schema(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "mini.yaml").write_text((ROOT / "configs" / "mini.yaml").read_text())
    (tmp_path / "configs" / "smoke.yaml").write_text(yaml.safe_dump({"common": {"tokeniser": {"vocab_size": 9}}}))
    with pytest.raises(ParamsError, match="configs/smoke.yaml: common.tokeniser: unknown key"):
        P.render_scale(tmp_path, "smoke")


def test_declared_view_allows_only_declared_keys(mini):
    typed = P.validate(P.render_scale(ROOT, "mini"))
    p = DeclaredParams(typed, ["common.tinylm.train", "common.scale"], "toy_stage")
    assert p.common.tinylm.train.steps == mini["common"]["tinylm"]["train"]["steps"]
    assert p.common.scale == "mini"
    assert p.get("common.tinylm.train.lr") == mini["common"]["tinylm"]["train"]["lr"]
    with pytest.raises(UndeclaredParamError, match="stage 'toy_stage' read param 'common.tinylm.model'"):
        p.common.tinylm.model
    with pytest.raises(UndeclaredParamError, match="'common.eval', which it does not declare"):
        p.common.eval
