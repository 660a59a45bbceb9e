"""One registry, two engines: dvc.yaml, `dvc dag` and Snakemake's rule graph agree."""

from __future__ import annotations

import re

import pytest

from llmrepro.pipeline.dvcyaml import render
from llmrepro.pipeline.registry import load_registry
from llmrepro.pipeline.stage import CODE_CHECK, PARAMS_CHECK

from conftest import ROOT, run


@pytest.fixture(scope="module")
def reg():
    return load_registry(ROOT)


def test_committed_dvc_yaml_is_in_sync_with_the_registry(reg):
    assert (ROOT / "dvc.yaml").read_text() == render(reg), "run `llmrepro dvc-yaml` and commit dvc.yaml"
    assert (ROOT / "dvc.yaml").read_text().startswith("# GENERATED")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A copy to run the tools in: they write caches and locks, never into the checkout."""
    from conftest import copy_project

    return copy_project(tmp_path_factory.mktemp("sync"), scale="mini")


def test_dvc_dag_edges_equal_registry_edges(reg, ws):
    dot = run(["dvc", "dag", "--dot"], ws).stdout
    edges = set(re.findall(r'"([a-z0-9_]+)" -> "([a-z0-9_]+)"', dot))
    assert edges == reg.edges()


def _rulegraph(cwd, *args) -> tuple[set[str], set[tuple[str, str]]]:
    dot = run(["snakemake", "--rulegraph", *args], cwd).stdout
    names = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', dot, flags=re.M))
    edges = {(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)}
    return set(names.values()), edges


def test_snakemake_rulegraph_equals_registry(reg, ws):
    names, edges = _rulegraph(ws, "-F")  # nothing built: Snakemake must plan every rule
    stage_names = {s.name for s in reg}
    assert stage_names <= names
    # the params and code stamps are DVC's alone (see the Snakefile): Snakemake has no edges from
    # report_params and report_code, which every other stage depends on under DVC
    dvc_only = {e for e in reg.edges() if e[0] in (PARAMS_CHECK, CODE_CHECK)}
    assert len(dvc_only) == 2 * (len(reg) - 2)
    assert {e for e in edges if e[0] in stage_names and e[1] in stage_names} == reg.edges() - dvc_only


def test_snakemake_rules_bind_their_own_command(reg, ws):
    # Guards against snakemake#2832: every rule's params carry its own command.
    summary = run(["snakemake", "--list-rules"], ws).stdout.split()
    assert {s.name for s in reg} <= set(summary)
    assert {f"{p}_all" for p in reg.papers()} <= set(summary)
    printed = run(["snakemake", "-n", "-p", "-F"], ws).stdout
    commands = set(re.findall(r"python -m stages\.[a-z0-9_]+ [a-z0-9_]+", printed))
    assert commands == {s.cmd for s in reg}  # one distinct command per rule, each its own
