"""The registry rejects inconsistent declarations and computes the DAG correctly."""

from __future__ import annotations

import pytest

from llmrepro.pipeline.registry import Registry
from llmrepro.pipeline.stage import Paper, RegistryError, Resources



def _noop(ctx):
    pass


def _paper(*specs) -> list:
    p = Paper("toy")
    for step, kw in specs:
        p.add(step, _noop, **kw)
    return list(p.stages.values())


def test_edges_and_downstream_closure():
    stages = _paper(("a", {"outs": {"o": "data/toy/a/"}}),
                    ("b", {"deps": {"a": "data/toy/a/file.txt"}, "outs": {"o": "data/toy/b.json"}}),
                    ("c", {"deps": {"b": "data/toy/b.json"}, "outs": {"o": "data/toy/c.json"}}),
                    ("d", {"deps": {"a": "data/toy/a/"}, "outs": {"o": "data/toy/d.json"}}))
    reg = Registry(stages)
    # a dep on a file inside a directory output is an edge to that directory's producer
    assert reg.edges() == {("toy_a", "toy_b"), ("toy_b", "toy_c"), ("toy_a", "toy_d")}
    assert reg.downstream(["toy_b"]) == {"toy_b", "toy_c"}
    assert reg.downstream(["toy_a"]) == {"toy_a", "toy_b", "toy_c", "toy_d"}
    assert reg.ancestors(["toy_c"]) == {"toy_a", "toy_b", "toy_c"}
    assert [s.name for s in reg][0] == "toy_a"
    assert reg.producer_of("data/toy/a/x/y.bin") == "toy_a"


def test_duplicate_stage_name_is_rejected():
    p = Paper("toy")
    p.add("a", _noop)
    with pytest.raises(RegistryError, match="declared twice"):
        p.add("a", _noop)
    a = _paper(("a", {}))
    with pytest.raises(RegistryError, match="toy_a.*declared twice"):
        Registry(a + a)


def test_two_producers_are_rejected():
    with pytest.raises(RegistryError, match="exactly one producer"):
        Registry(_paper(("a", {"outs": {"o": "data/x.json"}}), ("b", {"outs": {"o": "data/x.json"}})))
    with pytest.raises(RegistryError, match="overlaps"):
        Registry(_paper(("a", {"outs": {"o": "data/d/"}}), ("b", {"outs": {"o": "data/d/inner.json"}})))


def test_cycle_is_rejected():
    stages = _paper(("a", {"deps": {"b": "data/b.json"}, "outs": {"o": "data/a.json"}}),
                    ("b", {"deps": {"a": "data/a.json"}, "outs": {"o": "data/b.json"}}))
    with pytest.raises(RegistryError, match="cycle among stages: toy_a -> toy_b"):
        Registry(stages)


def test_dangling_dep_is_rejected(tmp_path):
    stages = _paper(("a", {"deps": {"x": "data/nobody_makes_this.json"}}))
    with pytest.raises(RegistryError, match="neither a source file nor another stage's output"):
        Registry(stages, root=tmp_path)


def test_unknown_param_key_is_rejected():
    stages = _paper(("a", {"params": ["toy.lr"]}))
    with pytest.raises(RegistryError, match="declares param 'toy.lr', which params.yaml lacks"):
        Registry(stages, params={"toy": {"epochs": 1}})
    Registry(stages, params={"toy": {"lr": 0.1}})


def test_resource_override_for_unknown_step_is_rejected():
    stages = _paper(("train", {}))
    with pytest.raises(RegistryError, match=r"toy.resources.trian: no stage toy_trian; steps of toy: train"):
        Registry(stages, params={"toy": {"resources": {"trian": {"gpu": 1}}}})


def test_bad_names_are_rejected():
    with pytest.raises(RegistryError, match="must match"):
        Paper("Bad-Id")
    with pytest.raises(RegistryError, match="must match"):
        Paper("toy").add("Step", _noop)


def test_resources_merge():
    assert Resources().merged({"gpu": 8, "runtime": 600}) == Resources(threads=2, mem_mb=4000, gpu=8, runtime=600)


def test_code_outside_the_folders_the_code_check_watches_is_rejected(tmp_path):
    # DVC records the code check's dependencies as CODE_DIRS: a code file elsewhere would go unwatched
    import subprocess
    import sys
    import textwrap

    (tmp_path / "stages").mkdir()
    (tmp_path / "tools").mkdir()
    (tmp_path / "stages" / "__init__.py").write_text("")
    (tmp_path / "tools" / "helper.py").write_text("X = 1\n")
    (tmp_path / "stages" / "toy.py").write_text(textwrap.dedent("""
        from llmrepro.pipeline import Paper
        paper = Paper("toy", code=["tools/helper.py"])

        @paper.stage(outs={"o": "data/o.json"})
        def a(ctx):
            pass
    """))
    code = "from llmrepro.pipeline.registry import load_registry; load_registry('.')"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert "code file 'tools/helper.py' is outside src/llmrepro/, stages/, which the code check watches" in r.stderr
