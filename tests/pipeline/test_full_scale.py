"""The full-scale overlay, validated without downloading anything."""

from __future__ import annotations

import re
import sys

import pytest

from llmrepro.pipeline import hub
from llmrepro.pipeline import params as P
from llmrepro.pipeline.registry import load_registry

from conftest import ROOT, copy_project, run


@pytest.fixture(scope="module")
def full():
    return P.render_scale(ROOT, "full")


def _hub_refs(node, path=""):
    """Every {id, revision} in a params tree, by key, found without the schema."""
    if isinstance(node, dict):
        if "id" in node and "revision" in node:
            yield path, node
        for k, v in node.items():
            yield from _hub_refs(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _hub_refs(v, f"{path}.{i}")


def test_every_hub_reference_is_pinned_and_read_by_a_stage(full):
    refs = dict(_hub_refs(full))
    assert len(refs) >= 8
    for where, ref in refs.items():
        assert ref["revision"] not in ("main", "master"), where
        assert re.fullmatch(r"[0-9a-f]{40}|step\d+(-tokens\d+B)?", ref["revision"]), (where, ref["revision"])
    # the papers' own models appear at full scale
    ids = {r["id"] for r in refs.values()}
    assert {"HuggingFaceTB/SmolLM2-135M-Instruct", "meta-llama/Llama-2-7b-hf", "lmsys/vicuna-7b-v1.5",
            "openai-community/gpt2", "EleutherAI/pythia-160m", "allenai/OLMo-1B-hf"} <= ids
    # every one that a stage downloads sits under its declared params, so its access is asked before it
    # runs; in2's and facts' `paper_scale` only document the paper's own setting, which no stage reads
    reg = load_registry(ROOT, full)
    found = hub.refs(P.validate(full), {k for s in reg for k in s.params})
    assert set(refs) - set(found) == {"in2.paper_scale.base_model", "in2.paper_scale.corpus",
                                      "in2.paper_scale.lora.base", "facts.paper_scale.olmo"}
    refs = {k: r for k, r in refs.items() if k in found}
    assert {k: (r.id, r.revision) for k, r in found.items()} == {k: (r["id"], r["revision"]) for k, r in refs.items()}


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



# ---------------------------------------------------------------- the hub, with only the network mocked

def _gated_hub(monkeypatch, gated: str = "meta-llama/"):
    """An online machine without a token, whose hub gates every repository under `gated`."""
    import httpx2
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError

    for var in ("HF_HUB_OFFLINE", "LLMREPRO_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    asked = []

    def auth_check(repo_id, repo_type=None, token=None):
        asked.append((repo_id, repo_type, token))
        if repo_id.startswith(gated):
            url = f"https://huggingface.co/api/models/{repo_id}"
            raise GatedRepoError("gated", response=httpx2.Response(401, request=httpx2.Request("GET", url)))

    monkeypatch.setattr(huggingface_hub, "auth_check", auth_check)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    return asked


def test_a_gated_model_stops_the_run_before_any_stage_with_what_to_do(tmp_path, monkeypatch, capsys):
    from llmrepro import cli

    ws = copy_project(tmp_path, scale="full")
    asked = _gated_hub(monkeypatch)
    assert cli.main(["--root", str(ws), "run", "cherryq"]) == 2
    err = capsys.readouterr().err
    assert "cherryq.tiny.model.hub: meta-llama/Llama-2-7b-hf is gated on the hub and no token is set" in err
    assert "https://huggingface.co/meta-llama/Llama-2-7b-hf" in err and "HF_TOKEN" in err
    assert not (ws / "logs").exists() and not (ws / "dvc.lock").exists()  # no stage started
    # each reference of the stages that run is asked about once per key, models and datasets apart
    assert ("allenai/c4", "dataset", None) in asked and ("meta-llama/Llama-2-7b-hf", "model", None) in asked
    # a paper whose stages read no gated repository passes the check
    reg, sections = cli._validated(ws)
    asked.clear()
    assert cli._hub_denied(reg, sections, [s.name for s in reg.paper("attngrad")]) == []
    # its own references, and SmolLM2, which common_smollm2 upstream of attngrad_heads downloads
    assert {a[0] for a in asked} == {"openai-community/gpt2", "EleutherAI/pythia-160m", "Salesforce/wikitext",
                                     "HuggingFaceTB/SmolLM2-135M-Instruct"}


def test_a_stage_run_directly_checks_the_hub_before_its_inputs(tmp_path, monkeypatch, capsys):
    # what `dvc repro` and `snakemake` start: the stage's own command
    from llmrepro.pipeline.runner import run_stage

    ws = copy_project(tmp_path, scale="full")
    _gated_hub(monkeypatch, gated="EleutherAI/")
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # the runner tees both streams to the stage's log
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    stage = {s.name: s for s in load_registry(ws, P.read_yaml(ws / "params.yaml"))}["attngrad_heads"]
    with pytest.raises(SystemExit) as e:
        run_stage(stage, ws)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "stage 'attngrad_heads' cannot download its hub inputs: attngrad.heads.hub_models.1: " \
           "EleutherAI/pythia-160m is gated" in err
    assert "missing inputs" not in err and not (ws / "data" / "attngrad").exists()


def test_offline_nothing_is_asked(monkeypatch):
    import huggingface_hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "auth_check", lambda *a, **k: pytest.fail("asked the hub offline"))
    full = P.validate(P.render_scale(ROOT, "full"))
    assert hub.access_problems(hub.refs(full, ["cherryq.tiny"])) == []


def test_the_commit_a_branch_pin_named_is_read_from_the_hub_cache(tmp_path):
    from llmrepro.data.config import HubDataset, HubRef

    sha, pinned = "1" * 40, "2" * 40
    (tmp_path / "models--EleutherAI--pythia-160m" / "refs").mkdir(parents=True)
    (tmp_path / "models--EleutherAI--pythia-160m" / "refs" / "step143000").write_text(sha + "\n")
    (tmp_path / "datasets--Salesforce--wikitext" / "snapshots" / pinned).mkdir(parents=True)
    found = {"a": HubRef(id="EleutherAI/pythia-160m", revision="step143000"),
             "b": HubDataset(id="Salesforce/wikitext", revision=pinned, text_field="text"),
             "c": HubRef(id="allenai/OLMo-1B-hf", revision="step10000-tokens41B")}
    assert hub.resolved(found, tmp_path) == {
        "a": {"id": "EleutherAI/pythia-160m", "revision": "step143000", "repo_type": "model", "commit": sha},
        "b": {"id": "Salesforce/wikitext", "revision": pinned, "repo_type": "dataset", "commit": pinned},
        "c": {"id": "allenai/OLMo-1B-hf", "revision": "step10000-tokens41B", "repo_type": "model", "commit": None}}
