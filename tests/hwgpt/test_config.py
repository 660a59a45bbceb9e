"""hwgpt: bad params fail before any compute, naming the key."""

from __future__ import annotations

import copy

import pytest

from llmrepro.pipeline import params as P

from conftest import ROOT


@pytest.fixture(scope="module")
def mini():
    return P.render_scale(ROOT, "mini")


@pytest.mark.parametrize("path, value, match", [
    ("space.layers", [2, 3, 4, 5, 6, 7], "enumerate"),
    ("space.heads", [2, 2], "distinct"),
    ("search.pop_size", 7, "pop_size"),
    ("search.ref_point", [1.0, 1.1], "reference point"),
    ("search.methods", ["ls", "nsga2"], "random search"),
    ("hardware.archs", 100000, "perplexity.archs"),
    ("hardware.seq_len", 4096, "context"),
    ("hardware.repeats", 2, "greater than or equal"),
    ("surrogates.test_fraction", 1.5, "less than"),
    ("search.seeds", [0], "at least 2"),
])
def test_bad_hwgpt_params_are_refused(mini, path, value, match):
    raw = copy.deepcopy(mini)
    node = raw["hwgpt"]
    *head, last = path.split(".")
    for k in head:
        node = node[k]
    node[last] = value
    with pytest.raises(P.ParamsError, match=match) as e:
        P.validate(raw)
    assert "hwgpt" in str(e.value)


def test_every_scale_validates_and_full_pins_its_hub_sources():
    for scale in ("smoke", "mini", "full"):
        P.validate(P.render_scale(ROOT, scale))
    full = P.render_scale(ROOT, "full")["hwgpt"]
    assert full["data"]["hub_dataset"]["id"] == "Skylion007/openwebtext"
    assert full["supernet"]["init_from"]["id"] == "openai-community/gpt2"
    assert full["resources"]["supernet"]["gpu"] > 1  # the supernet training is multi-GPU
    assert full["hardware"]["kind"] == "cuda"  # latency profiled on the GPU at paper scale
