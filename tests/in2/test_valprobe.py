"""VaL Probing (full scale): the paper's per-example metrics, buckets over sets, Avg/Gap,
and loading a split from a local folder laid out as the authors' download.py writes it."""

from __future__ import annotations

import json

import pytest

from llmrepro.in2 import valprobe as V


def test_the_papers_metrics_by_hand():
    doc = {"completion": "The cat sat on the mat."}
    assert V.score("document_bi_32k", doc, "the cat sat") == pytest.approx(3 / 5)  # {the, cat, sat, on, mat.}
    assert V.score("document_bi_32k", {"completion": "   "}, "anything") == 0.0  # empty gold: no division by zero
    assert V.score("code_backward_32k", {"completion": "parse_args."}, "def parse_args(x):") == 1.0
    assert V.score("code_backward_32k", {"completion": "parse_args"}, "Parse_Args") == 0.0  # case-sensitive, as plot.py
    row = {"label": "Eiffel Tower", "description": "tower in Paris."}
    assert V.score("database_forward_32k", row, "it is the eiffel tower") == 1.0
    assert V.score("database_forward_32k", row, "a TOWER IN PARIS") == 1.0
    assert V.score("database_forward_32k", row, "a bridge") == 0.0
    with pytest.raises(ValueError):
        V.score("poetry", row, "")


def test_buckets_average_over_sets_then_avg_and_gap():
    rows = [{"position_id": p, "set_id": s} for s in (0, 1) for p in range(100)]
    scores = [1.0 if p < 50 else (0.5 if s == 0 else 0.0) for s in (0, 1) for p in range(100)]
    c = V.curve(rows, scores)
    assert c["buckets"] == [1.0, 0.25] and c["std"] == [0.0, 0.25]
    assert c["avg"] == 0.625 and c["gap"] == 0.75 and c["examples"] == 200
    empty = V.curve([], [])
    assert empty["avg"] is None and empty["why"]


def test_evaluate_applies_the_skip_list():
    rows = [{"position_id": p, "set_id": 0, "index": p, "completion": "x"} for p in range(4)]
    out = V.evaluate("code_backward_32k", rows, ["x", "y", "x", "y"], skip={1, 3})
    assert out["avg"] == 1.0 and out["examples"] == 2


def test_rows_from_a_local_folder_keep_split_indices(tmp_path):
    lines = [{"prompt": f"p{i}", "completion": "c", "position_id": i % 3, "set_id": i // 3} for i in range(9)]
    (tmp_path / "code_backward_32k.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")

    class DS:
        id, revision = str(tmp_path), None

    rows = V.load_rows(DS, "code_backward_32k", [1, 2])
    assert [r["index"] for r in rows] == [3, 4, 5, 6, 7, 8] and rows[0]["prompt"] == "p3"


def test_mini_scale_runs_nothing():
    from llmrepro.in2.config import ValProbe

    assert V.run(ValProbe())["models"] == {}


def test_real_models_need_a_pinned_dataset():
    from llmrepro.in2.config import ValProbe

    cfg = ValProbe.model_validate({"models": [{"id": "In2Training/FILM-7B", "revision": "0" * 40}]})
    with pytest.raises(ValueError, match="not pinned"):
        V.run(cfg)
