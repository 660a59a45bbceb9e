"""The smoke-scale pipeline, run for real under DVC and Snakemake in a temporary copy.

These tests assert on what actually ran (the `Running stage` lines, with
--no-run-cache), never on `dvc repro --dry`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from llmrepro import io
from llmrepro.pipeline.registry import load_registry
from llmrepro.pipeline.stage import CODE_CHECK, PARAMS_CHECK, code_stamp

from conftest import copy_project, offline_env, run, running_stages, tool_env

pytestmark = pytest.mark.slow


@pytest.fixture
def built(smoke_build):
    """The session's smoke workspace after one full `dvc repro`, its log and its results (see conftest.smoke_build)."""
    return smoke_build


def _set_param(ws: Path, key: str, value) -> None:
    data = yaml.safe_load((ws / "params.yaml").read_text())
    node = data
    *head, last = key.split(".")
    for k in head:
        node = node[k]
    node[last] = value
    (ws / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def stale(ws: Path) -> list[str]:
    """What `dvc status` says must rerun, but for the stages DVC always reruns (the machine fingerprint)."""
    from llmrepro.pipeline.tools import dvc_stale

    return dvc_stale(ws, [], tool_env())


def up_to_date(ws: Path) -> bool:
    return stale(ws) == []


@contextmanager
def put_back(ws: Path, stages: set[str], scratch: Path):
    """After the block, the bytes of params.yaml, dvc.lock and every output of `stages` as they were
    before it: the session's workspace goes back without recomputing what the block reran."""
    reg = load_registry(ws)
    outs = (p.rstrip("/") for s in reg if s.name in stages for p in s.all_outs().values())
    paths = ["params.yaml", "dvc.lock", *outs]
    for p in paths:
        src, dst = ws / p, scratch / p
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst) if src.is_dir() else shutil.copy2(src, dst)
    try:
        yield
    finally:
        for p in paths:
            shutil.rmtree(ws / p) if (ws / p).is_dir() else (ws / p).unlink(missing_ok=True)
            src = scratch / p
            shutil.copytree(src, ws / p) if src.is_dir() else shutil.copy2(src, ws / p)
    assert up_to_date(ws)


def _md5s(ws: Path) -> dict[str, str]:
    return {str(p.relative_to(ws)): io.file_hash(p) for d in ("data", "models") for p in sorted((ws / d).rglob("*"))
            if p.is_file()}


def test_repro_builds_every_stage_with_outputs_and_provenance(built):
    ws, log, _ = built
    reg = load_registry(ws)
    ran = running_stages(log)
    assert set(ran) == {s.name for s in reg}
    order = {n: i for i, n in enumerate(ran)}
    assert all(order[u] < order[v] for u, v in reg.edges()), "a stage ran before one it depends on"
    lock = yaml.safe_load((ws / "dvc.lock").read_text())["stages"]
    for s in reg:
        for out in s.all_outs().values():
            assert (ws / out.rstrip("/")).exists(), (s.name, out)
        prov = io.read_json(ws / s.provenance)
        assert prov["stage"] == s.name and prov["cmd"] == s.cmd and prov["engine"] == "dvc"
        assert set(prov["params"]) == set(s.params)
        assert prov["git"]["commit"] and len(prov["git"]["commit"]) == 40
        assert prov["packages"]["torch"] and prov["wall_s"] > 0 and prov["peak_rss_mb"] > 0
        # provenance hashes agree with what DVC recorded
        locked = {o["path"]: o.get("md5") for o in lock[s.name].get("outs", [])}
        for path, h in prov["outputs"].items():
            if not path.endswith("/") and path in locked:
                assert h["md5"] == locked[path], (s.name, path)
    # stages that run once per seed record every seed they ran
    params = yaml.safe_load((ws / "params.yaml").read_text())
    cq = params["cherryq"]["tiny"]  # a QAT replicate draws its calibration subset and its data order
    for stage, seeds in (("cherryq_qat", cq["calib"]["seeds"] + cq["qat"]["seeds"]),
                         ("facts_inject_base", params["facts"]["inject"]["seeds"]),
                         ("freq_train", (fm := params["freq"]["mini"])["seeds"] + fm["control"]["seeds"])):
        assert io.read_json(ws / reg[stage].provenance)["seeds"] == seeds, stage
    for paper in reg.papers():
        if paper != "report":
            doc = io.read_json(ws / f"reports/{paper}/claims.json")
            assert doc["scale"] == "smoke" and doc["claims"]
            assert all(c["verdict"] in ("reproduced", "not reproduced", "inconclusive") for c in doc["claims"])
    assert "| common |" in (ws / "reports/index.md").read_text() or "[common]" in (ws / "reports/index.md").read_text()


def test_noop_repro_runs_nothing(built, mirror):
    ws, _, _ = built
    r = run(["dvc", "repro"], ws, **offline_env(mirror))
    # only stages DVC always reruns (the machine fingerprint); an unchanged output reruns nothing after them
    reg = load_registry(ws)
    assert set(running_stages(r.stdout)) == {s.name for s in reg if s.always_changed}
    assert up_to_date(ws)


def test_param_change_reruns_exactly_the_downstream_closure(built, mirror, tmp_path):
    ws, _, _ = built
    reg = load_registry(ws)
    key = "common.eval.max_windows"
    closure = {"report_params", "common_smollm2_ppl", "common_figures", "common_report", "report_index"}
    with put_back(ws, closure, tmp_path):
        _set_param(ws, key, 3)
        status = stale(ws)
        direct = {s.name for s in reg if any(key == p or key.startswith(p + ".") for p in s.params)}
        assert direct == {"common_smollm2_ppl"}
        assert set(status) == direct | {"report_params"}  # it depends on the whole file
        before = _md5s(ws)
        r = run(["dvc", "repro", "--no-run-cache"], ws, **offline_env(mirror))
        # report_params rewrites the same bytes, so it reruns without rerunning what depends on it; the
        # machine fingerprint runs on every repro and, unchanged, triggers nothing
        always = {s.name for s in reg if s.always_changed}
        assert set(running_stages(r.stdout)) - always == reg.downstream(direct) | {"report_params"} == closure
        after = _md5s(ws)
        untouched = [p for p in before if p.startswith(("data/common/corpora", "models/common/"))]
        assert untouched and all(before[p] == after[p] for p in untouched)


def test_editing_a_transitively_imported_module_marks_exactly_its_users_changed(built):
    ws, _, _ = built
    reg = load_registry(ws)
    # imported by experiments.py (and so by steps.py), never named in stages/
    target = "src/llmrepro/attngrad/instances.py"
    users = {s.name for s in reg if target in s.code} - {CODE_CHECK}
    always = {s.name for s in reg if s.always_changed}
    assert users == {"attngrad_runtime", "attngrad_error_vs_b", "attngrad_alpha", "attngrad_training",
                     "attngrad_heads"}
    original = (ws / target).read_text()
    (ws / target).write_text(original + "\n# an edit\n")
    try:
        # DVC sees the edit at the code check; `dvc_stale` names the stages whose stamps it changes
        assert set(stale(ws)) == users | {CODE_CHECK}
        status = json.loads(run(["dvc", "status", "--json"], ws).stdout)
        assert set(status) - always == {CODE_CHECK}
        # once the code check has run, DVC itself sees exactly the users' stamps changed
        run(["dvc", "repro", "-s", CODE_CHECK], ws)
        status = json.loads(run(["dvc", "status", "--json"], ws).stdout)
        assert set(status) - always == users
        assert all(v == [{"changed deps": {code_stamp(n): "modified"}}] for n, v in status.items() if n in users)
    finally:
        (ws / target).write_text(original)
    run(["dvc", "repro", "-s", CODE_CHECK], ws)
    assert up_to_date(ws)


def _locked_deps(ws: Path) -> dict[str, dict[str, str]]:
    lock = yaml.safe_load((ws / "dvc.lock").read_text())["stages"]
    return {name: {d["path"]: d.get("md5") for d in st.get("deps", [])} for name, st in lock.items()}


def test_killed_stage_keeps_its_previous_result_and_recovers(built, mirror, tmp_path):
    ws, _, _ = built
    reg = load_registry(ws)
    # the params check reruns on any edit of params.yaml
    with put_back(ws, reg.downstream(["attngrad_training"]) | {PARAMS_CHECK}, tmp_path):
        always = {s.name for s in reg if s.always_changed}
        before = _locked_deps(ws)
        previous = io.file_hash(ws / "data/attngrad/training.json")
        _set_param(ws, "attngrad.training.steps", 2)
        r = run(["dvc", "repro"], ws, check=False, LLMREPRO_KILL_AFTER_COMPUTE="attngrad_training",
                **offline_env(mirror))
        assert r.returncode != 0
        # outputs persist: the result of the last completed run stays as it was (nothing computed is lost),
        # nothing half-written takes its place, and DVC knows the stage must rerun
        assert io.file_hash(ws / "data/attngrad/training.json") == previous
        assert list((ws / "data/attngrad").glob(".tmp-training.json-*"))  # the half-written output is set aside
        assert (ws / "data/attngrad/runtime.json").exists()  # what other stages computed is untouched
        assert "attngrad_training" in stale(ws)
        r = run(["dvc", "repro"], ws, **offline_env(mirror))
        ran = set(running_stages(r.stdout))
        # The promise: the killed stage reruns, and so does exactly every stage downstream of it whose
        # inputs changed; a stage whose inputs came out byte-identical is rightly skipped.
        assert "attngrad_training" in ran and ran <= reg.downstream(["attngrad_training"]) | always
        after = _locked_deps(ws)
        for name in reg.downstream(["attngrad_training"]) - {"attngrad_training"} - always:
            assert (name in ran) == (before[name] != after[name]), name
        assert not list((ws / "data/attngrad").glob(".tmp-training.json-*"))
        assert up_to_date(ws)


def test_snakemake_plans_runs_and_reruns_exactly_the_closure(tmp_path, mirror, snakemake_build):
    fresh = copy_project(tmp_path)
    reg = load_registry(fresh)
    env = offline_env(mirror)

    def planned(ws: Path, *args) -> set[str]:
        out = run(["snakemake", "-n", *args], ws, **env).stdout
        return set(re.findall(r"^rule ([a-z0-9_]+):", out, flags=re.M)) - {"all"} - {f"{p}_all" for p in reg.papers()}

    assert planned(fresh) == {s.name for s in reg}
    # the SLURM profile plans the same jobs, with the registry's resources
    slurm = run(["snakemake", "-n", "--profile", "profiles/slurm"], fresh, **env).stdout
    assert set(re.findall(r"^rule ([a-z0-9_]+):", slurm, flags=re.M)) - {"all"} - {
        f"{p}_all" for p in reg.papers()} == {s.name for s in reg}
    assert "slurm_partition=gpu" in slurm and "runtime=60" in slurm
    # the session's workspace that `snakemake -c2` built from scratch (its results are snapshotted already)
    ws = snakemake_build[0]
    common = {s.name for s in reg.paper("common")}
    for s in reg.paper("common"):  # each rule ran its own command (snakemake#2832)
        assert io.read_json(ws / s.provenance)["stage"] == s.name
        assert io.read_json(ws / s.provenance)["engine"] == "snakemake"
    assert planned(ws, "common_all") == set()
    _set_param(ws, "common.eval.max_windows", 3)
    # and `report_params`, which checks the whole of params.yaml on any change
    assert planned(ws, "common_all") == (reg.downstream(["common_smollm2_ppl"]) & common) | {PARAMS_CHECK}
    run(["snakemake", "-c2", "common_all"], ws, **env)
    # record Snakemake's results for DVC: DVC then agrees they are up to date
    run(["dvc", "commit", "-f", "-q", *sorted(common)], ws)
    st = json.loads(run(["dvc", "status", "--json", *sorted(common)], ws).stdout)
    assert st == {}


def test_claims_round_trip_from_the_written_metrics(built):
    """Re-evaluating every paper's claims from its metrics.json gives its claims.json, and every
    check finds its metric: a typo in a metric path would read "not measured"."""
    from llmrepro.report.pages import judge
    from llmrepro.report.verify import claim_set

    ws, _, _ = built
    papers = sorted(p.parent.name for p in (ws / "reports").glob("*/claims.json"))
    assert "common" in papers and len(papers) >= 6
    robustness = io.read_json(ws / "reports/robustness.json")
    for paper in papers:
        written = io.read_json(ws / f"reports/{paper}/claims.json")
        again = judge(claim_set(paper), io.read_json(ws / f"reports/{paper}/metrics.json"), written["scale"],
                      robustness)
        assert again == written, paper
        unmeasured = [(c["id"], k["metric"]) for c in written["claims"] for k in (*c["precondition"], *c["checks"])
                      if k.get("why") == "not measured"]
        assert not unmeasured, (paper, unmeasured)


def test_snakemake_report_holds_every_figure_with_its_claims(built, tmp_path):
    ws, _, _ = built
    reg = load_registry(ws)
    out = tmp_path / "report.html"
    run(["snakemake", "--report", str(out)], ws)
    html = out.read_text()
    figures = [p for s in reg for p in s.plots.values() if p.endswith(".png")]
    assert figures and all(Path(p).name in html for p in figures)
    assert "Claims (verdict of the last run)" in html and "facts" in html


def test_dvc_plots_draws_every_declared_curve_from_data(built):
    """`dvc plots show` renders each Curve a figures stage declares from its data file (a vega
    plot, not an image), and keeps the PNG figures too."""
    ws, _, _ = built
    reg = load_registry(ws)
    curves = {c.path for s in reg for c in s.curves}
    data = json.loads(run(["dvc", "plots", "show", "--json"], ws).stdout)["data"]
    vega = {path for path, items in data.items() if any(i.get("type") == "vega" for i in items)}
    assert len(curves) >= 5 and vega == curves
    assert all(rows for path in curves for rows in [io.read_json(ws / path)])  # each file holds records
    assert any(i.get("type") == "image" for items in data.values() for i in items)
