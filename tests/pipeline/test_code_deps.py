"""Code dependencies are read off imports, transitively, and machinery is left out."""

from __future__ import annotations


from llmrepro.pipeline.codedeps import stage_code
from llmrepro.pipeline.registry import load_registry

from conftest import ROOT


def _toy_stage(ctx):
    from llmrepro.toy.a import run  # noqa: F401


def test_closure_follows_imports_transitively_and_skips_machinery(tmp_path):
    pkg = tmp_path / "src" / "llmrepro" / "toy"
    pkg.mkdir(parents=True)
    (tmp_path / "src" / "llmrepro" / "io.py").write_text("")
    (tmp_path / "src" / "llmrepro" / "pipeline").mkdir()
    (tmp_path / "src" / "llmrepro" / "pipeline" / "params.py").write_text("")
    (pkg / "a.py").write_text("from llmrepro.toy import b\nfrom llmrepro.pipeline.params import Section\n"
                              "def run():\n    pass\n")
    (pkg / "b.py").write_text("def f():\n    from llmrepro.toy.c import g  # imported inside a function\n")
    (pkg / "c.py").write_text("import llmrepro.io\n")
    (pkg / "unused.py").write_text("")
    (pkg / "__init__.py").write_text('"""runs before any toy module"""\n')
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "toy.py").write_text("from llmrepro.toy import c\n")
    code = stage_code(tmp_path, "stages/toy.py", _toy_stage, ("src/llmrepro/toy/notes.md",))
    assert code == ("stages/toy.py", "src/llmrepro/toy/__init__.py", "src/llmrepro/toy/a.py", "src/llmrepro/toy/b.py", "src/llmrepro/toy/c.py",
                    "src/llmrepro/toy/notes.md")


def test_an_edited_import_is_seen_in_the_same_process(tmp_path):
    pkg = tmp_path / "src" / "llmrepro" / "toy"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def run():\n    pass\n")
    (pkg / "d.py").write_text("")
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / "toy.py").write_text("")
    assert "src/llmrepro/toy/d.py" not in stage_code(tmp_path, "stages/toy.py", _toy_stage, ())
    (pkg / "a.py").write_text("from llmrepro.toy import d\ndef run():\n    pass\n")  # parsed files are cached
    assert "src/llmrepro/toy/d.py" in stage_code(tmp_path, "stages/toy.py", _toy_stage, ())


def test_project_stages_list_what_their_functions_reach():
    reg = load_registry(ROOT)
    heads = set(reg["attngrad_heads"].code)
    assert {"src/llmrepro/attngrad/steps.py", "src/llmrepro/attngrad/experiments.py",
            "src/llmrepro/models/evaluate.py", "src/llmrepro/data/corpora.py"} <= heads
    assert "src/llmrepro/cherryq/qat.py" not in heads
    for s in reg:
        assert s.code[0] == f"stages/{s.paper}.py"
        assert not [c for c in s.code if c.startswith("src/llmrepro/pipeline/") and not c.endswith("claims.py")]
        assert "src/llmrepro/io.py" not in s.code
        assert all((ROOT / c).is_file() for c in s.code)
    # a stage file holds many stages; each lists only what its own function reaches
    assert "src/llmrepro/common/pretrain.py" in reg["common_tinylm"].code
    assert "src/llmrepro/common/pretrain.py" not in reg["common_download_kjv"].code
    assert "src/llmrepro/common/__init__.py" in reg["common_download_kjv"].code  # a parent package runs too
    # report stages: the page text and the verdict logic, which imports alone would miss
    assert {"src/llmrepro/cherryq/report.md", "src/llmrepro/pipeline/claims.py"} <= set(reg["cherryq_report"].code)
