"""The benchmark's bookkeeping (its measurements run with `llmrepro bench`, not in tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmrepro.report.bench import render, stage_times


def test_stage_times_come_from_provenance(tmp_path):
    from llmrepro import io

    io.write_json(tmp_path / "reports/x/provenance/x_a.json", {"stage": "x_a", "paper": "x", "wall_s": 3.5,
                                                                "cpu_s": 6.0, "peak_rss_mb": 100.0, "engine": "dvc"})
    assert stage_times(tmp_path) == {"x_a": {"paper": "x", "wall_s": 3.5, "cpu_s": 6.0, "peak_rss_mb": 100.0,
                                             "engine": "dvc", "finished": None}}


def test_render_flags_papers_over_budget():
    doc = {"stages": {"x_a": {"paper": "x", "wall_s": 400.0, "peak_rss_mb": 1.0}},
           "papers_cold_s": {"x": 400.0, "mspoe": 400.0}, "suite_cold_s": 800.0,
           "noop_dvc_repro": {"median_s": 1.2, "runs_s": [1.2], "ran_stages": 0},
           "dvc_status": {"median_s": 0.9, "runs_s": [0.9]}, "matmul_ceiling_gflops_fp32_2threads": 150.0,
           "training_loop": {"params": 10, "tokens_per_step": 4096, "tokens_per_s": 1000.0, "gflops": 30.0,
                             "fraction_of_ceiling": 0.2},
           "attngrad_performance_target": None,
           "budgets_s": {"per_paper": {"x": 300, "mspoe": 600}}}
    out = render(doc)
    assert "| x | 400 | 300 | **no** |" in out and "| mspoe | 400 | 600 | yes |" in out
    assert "20 % of the ceiling" in out


def test_render_reports_both_engines_against_the_two_core_floor():
    doc = {"stages": {"x_a": {"paper": "x", "wall_s": 100.0, "cpu_s": 150.0, "peak_rss_mb": 1.0}},
           "papers_cold_s": {"x": 100.0}, "suite_cold_s": 100.0, "stage_cpu_s": 150.0,
           "suite_engines": {"dvc": {"wall_s": 600.0, "stage_cpu_s": 960.0},
                             "snakemake": {"wall_s": 500.0, "stage_cpu_s": 960.0}},
           "test_suite": {"wall_s": 300.0, "summary": ["150 passed"]},
           "noop_dvc_repro": {"median_s": 1.2, "runs_s": [1.2], "ran_stages": 0},
           "dvc_status": {"median_s": 0.9, "runs_s": [0.9]}, "matmul_ceiling_gflops_fp32_2threads": 150.0,
           "training_loop": {"params": 10, "tokens_per_step": 4096, "tokens_per_s": 1000.0, "gflops": 30.0,
                             "fraction_of_ceiling": 0.2},
           "budgets_s": {"per_paper": {"x": 300}}}
    out = render(doc)
    assert "`dvc repro` 10.0 min, `snakemake -c2` 8.3 min: a speed-up of 1.20× (the 2-core floor is 8.0 min)" in out
    assert "the README's test command: 5.0 min (150 passed)" in out
    assert "| x_a | x | 100.0 | 150 | 1 |" in out


def test_render_names_the_papers_of_a_partial_engine_benchmark():
    doc = {"stages": {}, "papers_cold_s": {}, "suite_cold_s": 0.0,
           "suite_engines": {"dvc": {"wall_s": 120.0, "stage_cpu_s": 180.0, "papers": ["freq", "tap"]},
                             "snakemake": {"wall_s": 100.0, "stage_cpu_s": 180.0, "papers": ["freq", "tap"]}},
           "noop_dvc_repro": {"median_s": 1.2, "runs_s": [1.2], "ran_stages": 0},
           "dvc_status": {"median_s": 0.9, "runs_s": [0.9]}, "matmul_ceiling_gflops_fp32_2threads": 150.0,
           "training_loop": {"params": 10, "tokens_per_step": 4096, "tokens_per_s": 1000.0, "gflops": 30.0,
                             "fraction_of_ceiling": 0.2},
           "budgets_s": {"per_paper": {}}}
    assert "the suite cold, freq, tap with their upstream stages: `dvc repro` 2.0 min, `snakemake -c2` 1.7 min: " \
           "a speed-up of 1.20×" in render(doc)


def test_bench_rejects_an_unknown_paper_before_running(capsys):
    from llmrepro.cli import main

    assert main(["bench", "--engines", "--papers", "freq", "nope"]) != 0
    err = capsys.readouterr().err
    assert "no paper 'nope'" in err and "freq" in err


def test_a_partial_engine_run_counts_only_the_stages_it_ran(tmp_path, monkeypatch):
    # the scratch copy carries every stage's committed record; the floor is the CPU of this run's stages
    import subprocess

    from llmrepro import io
    from llmrepro.report import bench

    io.write_json(tmp_path / "reports/x/provenance/x_old.json", {"stage": "x_old", "cpu_s": 1000.0})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    real = subprocess.run

    def fake(cmd, cwd=None, **kw):
        if cmd[:2] == ["dvc", "repro"]:
            io.write_json(Path(cwd) / "reports/x/provenance/x_new.json", {"stage": "x_new", "cpu_s": 7.0})
            return subprocess.CompletedProcess(cmd, 0, "", "")
        if cmd[0] == "snakemake":  # finds every target up to date
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return real(cmd, cwd=cwd, **kw)

    monkeypatch.setattr(subprocess, "run", fake)
    got = bench.cold_suite(tmp_path, "dvc", ["x"])
    assert (got["stage_cpu_s"], got["stages_run"], got["cmd"]) == (7.0, 1, "dvc repro x_report")
    # Snakemake takes the copy's committed reports as up to date: without --forceall it ran nothing in 5 s
    # (a "speed-up" of 94x on 2026-12-03); a run that writes no provenance is refused
    with pytest.raises(RuntimeError, match=r"`snakemake -c2 --forceall x_report` ran no stage in the scratch copy"):
        bench.cold_suite(tmp_path, "snakemake", ["x"])
