"""The Snakemake DAG through a real SLURM scheduler: a single-node cluster started by
`scripts/slurm` (munged, slurmctld, slurmd), two papers' smoke DAGs submitted with `sbatch`
through the project's profile, and the results checked against the same DAG under DVC."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from llmrepro import io
from llmrepro.pipeline.registry import load_registry

from conftest import ROOT, TIMEOUT_SCALE, copy_project, offline_env, results_snapshot, run

pytestmark = [pytest.mark.slow, pytest.mark.slurm]
# Two papers that share an upstream stage of another section (common_smollm2), so a cross-paper edge goes
# through sbatch too; four batch jobs in all (each costs the plugin's status-check latency).
PAPERS = ("grm", "mspoe")
UPSTREAM = ("common_smollm2",)
SLURM_DIR = "/tmp/llmrepro-slurm-test"


@pytest.fixture(scope="module")
def cluster():
    env = {"LLMREPRO_SLURM_DIR": SLURM_DIR}
    up = run([str(ROOT / "scripts/slurm"), "up"], ROOT, check=False, **env)
    try:
        assert up.returncode == 0, f"scripts/slurm up failed:\n{up.stdout}\n{up.stderr}"
        yield SLURM_DIR
    finally:
        run([str(ROOT / "scripts/slurm"), "down"], ROOT, check=False, **env)
        pids = [f"{SLURM_DIR}/run/slurmd.pid", f"{SLURM_DIR}/run/slurmctld.pid", f"{SLURM_DIR}/munge/munged.pid"]
        assert not any(Path(p).exists() for p in pids)  # every daemon was stopped


def test_two_papers_go_through_sbatch_and_match_dvc(cluster, smoke_build_at_end, tmp_path, mirror):
    ws = copy_project(tmp_path)
    reg = load_registry(ws)
    env = offline_env(mirror)
    # both papers in one run, with the user's profile and a local override for this one-node cluster
    r = run(["timeout", "-s", "INT", "-k", "30", str(round(900 * TIMEOUT_SCALE)), sys.executable, "-m", "llmrepro.cli", "run", *PAPERS,
             "--engine", "snakemake", "-c", "2", "--", "--profile", "profiles/slurm", "--jobs", "2",
             "--max-threads", "1",  # smoke stages are start-up and imports: two one-CPU jobs at once
             "--default-resources", "slurm_partition=debug", "slurm_account=", "runtime=30",
             "--slurm-init-seconds-before-status-checks", "2"], ws, check=False, **env)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "recording" in r.stderr  # llmrepro recorded the run for DVC

    jobcomp = Path(cluster, "log", "jobcomp.txt").read_text()
    stages = [s for s in reg if s.paper in PAPERS or s.name in UPSTREAM]
    for s in stages:
        prov = io.read_json(ws / s.provenance)
        assert prov["engine"] == "snakemake", s.name
        if s.light:
            assert "batch_job" not in prov, s.name  # localrules run on the submit host
        else:
            job = prov["batch_job"]
            assert job["scheduler"] == "slurm" and job["partition"] == "debug" and job["node"], s.name
            assert f"JobId={job['job_id']} " in jobcomp and "JobState=COMPLETED" in jobcomp, s.name

    # the same results as the DAG under `dvc repro` (the session's smoke build, still running when this began)
    dvc_results = smoke_build_at_end()[2]
    mine = results_snapshot(ws)
    keys = [k for k in dvc_results if k.startswith(tuple(f"{d}/{p}/" for d in ("reports", "models")
                                                       for p in PAPERS))]
    assert keys and all(mine[k] == dvc_results[k] for k in keys), [k for k in keys if mine[k] != dvc_results[k]]
    status = json.loads(run(["dvc", "status", "--json", *[s.name for s in stages]], ws).stdout)
    assert status == {}

