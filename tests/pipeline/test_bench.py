"""The benchmark's bookkeeping (its measurements run with `llmrepro bench`, not in tests)."""

from __future__ import annotations

from llmrepro.report.bench import render, stage_times


def test_stage_times_come_from_provenance(tmp_path):
    from llmrepro import io

    io.write_json(tmp_path / "reports/x/provenance/x_a.json", {"stage": "x_a", "paper": "x", "wall_s": 3.5,
                                                                "peak_rss_mb": 100.0, "engine": "dvc"})
    assert stage_times(tmp_path) == {"x_a": {"paper": "x", "wall_s": 3.5, "peak_rss_mb": 100.0, "engine": "dvc",
                                             "finished": None}}


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
