"""The `llmrepro` command line."""

from __future__ import annotations

import sys

from llmrepro.pipeline.registry import load_registry

from conftest import ROOT, copy_project, run


def cli(*args, cwd=ROOT, check=True):
    return run([sys.executable, "-m", "llmrepro.cli", *args], cwd, check=check)


def test_stages_are_listed_by_paper():
    out = cli("stages", "--paper", "cherryq").stdout
    assert out.startswith("cherryq:") and "cherryq_qat" in out and "common_" not in out


def test_dag_of_a_paper_includes_its_upstream():
    out = cli("dag", "--paper", "attngrad", "--mermaid").stdout
    assert out.startswith("flowchart TD")
    assert "common_smollm2 --> attngrad_heads" in out
    assert "facts_" not in out


def test_unknown_paper_lists_what_exists():
    r = cli("run", "nosuchpaper", check=False)
    assert r.returncode == 2 and "no paper 'nosuchpaper'; papers with stages:" in r.stderr
    assert "cherryq" in r.stderr


def test_scale_switch_changes_only_what_the_overlay_sets(tmp_path):
    import yaml

    ws = copy_project(tmp_path, scale="mini")
    before = yaml.safe_load((ws / "params.yaml").read_text())
    cli("scale", "smoke", cwd=ws)
    after = yaml.safe_load((ws / "params.yaml").read_text())
    assert after["common"]["scale"] == "smoke"
    assert after["common"]["tinylm"]["train"]["steps"] == 20
    assert after["common"]["tinylm"]["train"]["lr"] == before["common"]["tinylm"]["train"]["lr"]  # not overlaid
    r = cli("scale", "huge", cwd=ws, check=False)
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr
    cli("scale", "mini", cwd=ws)
    assert (ws / "params.yaml").read_text() == (ROOT / "params.yaml").read_text()


def test_check_reports_a_stale_dvc_yaml(tmp_path):
    ws = copy_project(tmp_path, scale="mini")
    (ws / "dvc.yaml").write_text((ws / "dvc.yaml").read_text().replace("cmd: python -m stages.facts", "cmd: echo"))
    r = cli("check", cwd=ws, check=False)
    assert r.returncode == 1 and "out of sync" in r.stderr


def test_repro_serves_downloads_from_the_shared_mirror_beside_the_checkout(tmp_path, monkeypatch):
    from llmrepro.pipeline.tools import tool_env

    root = tmp_path / "main"
    root.mkdir()
    monkeypatch.delenv("LLMREPRO_MIRROR")
    assert "LLMREPRO_MIRROR" not in tool_env(root)  # no shared mirror: the network it is
    (tmp_path / "shared" / "mirror").mkdir(parents=True)
    assert tool_env(root)["LLMREPRO_MIRROR"] == str(tmp_path / "shared" / "mirror")
    monkeypatch.setenv("LLMREPRO_MIRROR", "/elsewhere")
    assert tool_env(root)["LLMREPRO_MIRROR"] == "/elsewhere"  # an explicit choice wins


def test_engine_args_after_the_separator_reach_the_engine_without_it(monkeypatch):
    from llmrepro import cli as C

    seen = {}
    monkeypatch.setattr(C, "cmd_run", lambda args, extra: seen.update(papers=args.papers, extra=extra) or 0)
    C.main(["run", "attngrad", "--engine", "snakemake", "--", "--profile", "profiles/slurm", "--jobs", "2"])
    assert seen == {"papers": ["attngrad"], "extra": ["--profile", "profiles/slurm", "--jobs", "2"]}
    C.main(["run", "facts", "freq", "--engine", "snakemake", "--", "--jobs", "2"])
    assert seen == {"papers": ["facts", "freq"], "extra": ["--jobs", "2"]}


def test_run_of_several_papers_is_one_engine_call_over_their_stages(monkeypatch):
    from llmrepro import cli as C

    calls = []
    monkeypatch.setattr(C, "_engine", lambda root, reg, sections, stages, args, extra, targets=(): calls.append(
        (set(stages), list(targets))) or 0)
    reg = load_registry(ROOT)
    C.main(["run", "facts", "freq", "facts"])
    C.main(["run", "facts", "freq", "--engine", "snakemake"])
    own = {s.name for p in ("facts", "freq") for s in reg.paper(p)}
    assert calls[0] == (own, [])
    assert calls[1] == (reg.ancestors(own), ["facts_all", "freq_all"])  # the upstream too, for Snakemake


def test_dvc_yaml_drops_lock_entries_of_stages_that_left_the_registry(tmp_path):
    import yaml

    ws = copy_project(tmp_path, scale="mini")
    lock = {"schema": "2.0", "stages": {name: {"cmd": f"python -m stages.x {name}", "outs": []}
                                        for name in ("attngrad_runtime", "cherryq_sweep")}}
    (ws / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    kept = {"attngrad_runtime"}
    r = cli("dvc-yaml", cwd=ws)
    assert "cherryq_sweep" in r.stdout
    assert set(yaml.safe_load((ws / "dvc.lock").read_text())["stages"]) == kept
