"""The full-scale overlay, validated without downloading anything."""

from __future__ import annotations

import re

import pytest

from llmrepro.pipeline import params as P
from llmrepro.pipeline.registry import load_registry

from conftest import ROOT, copy_project, run


@pytest.fixture(scope="module")
def full():
    return P.render_scale(ROOT, "full")


def _hub_refs(node, path=""):
    if isinstance(node, dict):
        if "id" in node and "revision" in node:
            yield path, node
        for k, v in node.items():
            yield from _hub_refs(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _hub_refs(v, f"{path}[{i}]")


def test_every_hub_reference_is_pinned(full):
    refs = dict(_hub_refs(full))
    assert len(refs) >= 8
    for where, ref in refs.items():
        assert ref["revision"] not in ("main", "master"), where
        assert re.fullmatch(r"[0-9a-f]{40}|step\d+(-tokens\d+B)?", ref["revision"]), (where, ref["revision"])
    # the papers' own models appear at full scale
    ids = {r["id"] for r in refs.values()}
    assert {"HuggingFaceTB/SmolLM2-135M-Instruct", "meta-llama/Llama-2-7b-hf", "lmsys/vicuna-7b-v1.5",
            "openai-community/gpt2", "EleutherAI/pythia-160m", "allenai/OLMo-1B-hf"} <= ids


def test_mini_uses_no_hub_at_all():
    assert not [w for w, _ in _hub_refs(P.render_scale(ROOT, "mini"))]


def test_resource_overrides_name_real_steps_and_gpu_stages_get_gpus(full):
    typed = P.validate(full)
    reg = load_registry(ROOT, full)  # rejects an override for a step that does not exist
    res = {s.name: P.resource_overrides(typed, s.paper, s.step, s.resources) for s in reg}
    assert res["cherryq_qat"].gpu == 8 and res["cherryq_pretrained"].gpu == 1
    assert res["mspoe_evaluate"].gpu == 1 and res["attngrad_runtime"].gpu == 1
    assert all(r.gpu == 0 for n, r in res.items() if n.endswith(("_figures", "_report")))


@pytest.mark.slow
def test_slurm_profile_plans_the_full_scale_dag_with_its_resources(tmp_path):
    ws = copy_project(tmp_path, scale="full")
    out = run(["snakemake", "-n", "--profile", "profiles/slurm"], ws).stdout
    block = out.split("rule cherryq_qat:")[1].split("\n\n")[0]
    assert "gpu=8" in block and "runtime=2880" in block and "slurm_partition=gpu" in block

