"""`llmrepro audit`: the committed results, checked against dvc.lock, params, code and each
other without recomputing; a hand edit to a metric or a verdict is named."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from llmrepro import io
from llmrepro.report.audit import audit

from conftest import ROOT, run


def _tracked_copy(dest):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    return dest


def test_the_committed_tree_passes_the_audit():
    problems = audit(ROOT)
    assert not problems, "\n".join(problems[:20])


def test_a_hand_edited_metric_and_verdict_are_named(tmp_path):
    ws = _tracked_copy(tmp_path)
    papers = sorted(p.parent.name for p in (ws / "reports").glob("*/claims.json") if p.parent.name != "common")
    edited_metric, edited_claims = papers[0], papers[1]
    metrics_path = ws / f"reports/{edited_metric}/metrics.json"
    text = metrics_path.read_text()
    digit = next(i for i, ch in enumerate(text) if ch in "123456789")
    metrics_path.write_text(text[:digit] + str(int(text[digit]) % 9 + 1) + text[digit + 1:])
    claims_path = ws / f"reports/{edited_claims}/claims.json"
    doc = io.read_json(claims_path)
    c = doc["claims"][0]
    c["verdict"] = "not reproduced" if c["verdict"] == "reproduced" else "reproduced"
    claims_path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")

    problems = "\n".join(audit(ws))
    assert f"reports/{edited_metric}/metrics.json: differs from the hash dvc.lock records" in problems
    assert f"reports/{edited_claims}/claims.json: {c['id']} says {c['verdict']!r}" in problems
    r = run([sys.executable, "-m", "llmrepro.cli", "audit"], ws, check=False)
    assert r.returncode == 1 and f"reports/{edited_metric}/metrics.json" in r.stderr


def test_compare_names_a_flipped_verdict_and_a_moved_metric(tmp_path):
    """Two commits of a tracked copy: the second flips one verdict and moves its metric."""
    from llmrepro.pipeline.tools import tool_env
    from llmrepro.report.compare import compare, render

    ws = _tracked_copy(tmp_path)
    git = lambda *a: run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], ws)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "before")
    path = ws / "reports/common/claims.json"
    doc = io.read_json(path)
    c = doc["claims"][0]
    c["verdict"] = "not reproduced"
    c["checks"][0]["measured"] = 0.99
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    git("commit", "-qam", "after")
    out = compare(ws, "HEAD~1", "HEAD", tool_env(ws))
    assert out["flips"] == [{"paper": "common", "claim": c["id"], "old": "reproduced", "new": "not reproduced"}]
    assert [m["metric"] for m in out["claim_metrics"]] == [c["checks"][0]["metric"]]
    assert out["params"] == {} and out["stages_changed"] == []
    assert "| common | C1 | ✅ reproduced | ❌ not reproduced |" in render(out)


def test_compare_lists_changed_params_by_key():
    from llmrepro.report.compare import render

    doc = {"a": "x", "b": "y", "flips": [], "claim_metrics": [], "metrics_changed_per_paper": {}, "stages_changed": [],
           "params": {"params.yaml": {"tap.game.vaults": {"old": 4, "new": 2}, "cherryq.tiny.eval.windows":
                                      {"old": 32, "new": 16}}}}
    text = render(doc)
    assert text.index("`cherryq.tiny.eval.windows` | 32 | 16") < text.index("`tap.game.vaults` | 4 | 2")
