"""Determinism on one machine, and one DAG under two engines: a second smoke build from scratch,
this time by `snakemake -c2` (two jobs at once; built alongside the first, see conftest.smoke_builds),
gives byte-identical metrics.json and claims.json for every paper it builds (conftest.SNAKEMAKE_PAPERS;
declared timing fields aside) and the same model weights as the session's `dvc repro` build, even with another PYTHONHASHSEED in the caller and with each stage's
independent jobs run one by one in its process instead of in two workers (pipeline.pool)."""

from __future__ import annotations

import pytest
from conftest import SNAKEMAKE_PAPERS

pytestmark = pytest.mark.slow


def test_a_second_build_by_the_other_engine_reproduces_every_result_byte_for_byte(smoke_build, snakemake_build):
    _, _, first = smoke_build
    second = snakemake_build[1]
    assert {k.split("/")[1] for k in second if k.startswith("reports/")} == set(SNAKEMAKE_PAPERS)
    assert {k for k in first if k.split("/")[1] in SNAKEMAKE_PAPERS} == second.keys()
    assert any(k.endswith(".safetensors") for k in second)  # weights are compared, not only reports
    differ = [k for k in second if first[k] != second[k]]
    assert not differ, f"a rerun changed: {differ}"
