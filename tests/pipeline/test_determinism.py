"""Determinism on one machine, and one DAG under two engines: a second smoke build from scratch,
this time by `snakemake -c2` (two jobs at once where threads allow), gives byte-identical
metrics.json and claims.json for every paper (declared timing fields aside) and the same model
weights as the session's `dvc repro` build, even with another PYTHONHASHSEED in the caller."""

from __future__ import annotations

import pytest

from conftest import copy_project, offline_env, results_snapshot, run

pytestmark = pytest.mark.slow


def test_a_second_build_by_the_other_engine_reproduces_every_result_byte_for_byte(smoke_build, tmp_path, mirror):
    _, _, _, first = smoke_build
    ws = copy_project(tmp_path)
    run(["snakemake", "-c2"], ws, PYTHONHASHSEED="12345", **offline_env(mirror))
    second = results_snapshot(ws)
    assert first.keys() == second.keys()
    assert any(k.endswith(".safetensors") for k in first)  # weights are compared, not only reports
    differ = [k for k in first if first[k] != second[k]]
    assert not differ, f"a rerun changed: {differ}"
