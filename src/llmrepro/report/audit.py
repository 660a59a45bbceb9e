"""`llmrepro audit`: the committed results agree with each other and with the code, checked
without recomputing anything, in seconds.

- every file under reports/ that a stage writes hashes to its entry in dvc.lock;
- every provenance record's params equal params.yaml, and its code hashes equal the files now;
- every verdict in claims.json, recomputed from the committed metrics.json by the claims code,
  equals the committed verdict (fragile marks included);
- every page's claims table agrees with claims.json, and reports/index.md with every claims.json.

Each problem names its file. `audit(root)` returns the list; the CLI exits non-zero on any.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmrepro import io
from llmrepro.pipeline.params import PARAMS_FILE, lookup, read_yaml
from llmrepro.report.pages import ROBUSTNESS, claims_table, index_page, judge, runs_summary


def _lock_outputs(root: Path) -> dict[str, tuple[str, str]]:
    """reports/ files DVC recorded: path -> (stage, md5)."""
    lock = io.load_yaml((root / "dvc.lock").read_text()) or {}
    out = {}
    for name, st in (lock.get("stages") or {}).items():
        for o in st.get("outs", []):
            if o["path"].startswith("reports/") and "md5" in o:
                out[o["path"]] = (name, o["md5"])
    return out


def check_lock(root: Path) -> list[str]:
    problems = []
    for path, (stage, md5) in sorted(_lock_outputs(root).items()):
        f = root / path
        if not f.exists():
            problems.append(f"{path}: missing, but dvc.lock records it as an output of {stage}")
        elif io.file_hash(f) != md5:
            problems.append(f"{path}: differs from the hash dvc.lock records for {stage} (edited after the run?)")
    return problems


def check_provenance(root: Path) -> list[str]:
    raw = read_yaml(root / PARAMS_FILE)
    problems = []
    for p in sorted((root / "reports").glob("*/provenance/*.json")):
        rec = io.read_json(p)
        rel = p.relative_to(root)
        for key, value in rec.get("params", {}).items():
            try:
                now = lookup(raw, key)
            except KeyError:
                problems.append(f"{rel}: param {key!r} is no longer in {PARAMS_FILE}")
                continue
            if json.loads(io.dumps(now)) != value:  # as provenance stores it: JSON, so int keys become strings
                problems.append(f"{rel}: param {key} was {value!r} when {rec['stage']} ran; {PARAMS_FILE} says "
                                f"{now!r}")
        for code, h in rec.get("code", {}).items():
            f = root / code
            if not f.exists():
                problems.append(f"{rel}: code file {code} no longer exists")
            elif io.file_hash(f) != h:
                problems.append(f"{rel}: {code} changed since {rec['stage']} ran")
    return problems


def check_claims(root: Path) -> list[str]:
    from llmrepro.report.verify import claim_set

    robustness = io.read_json(root / ROBUSTNESS) if (root / ROBUSTNESS).exists() else {}
    problems = []
    docs: dict[str, Any] = {}
    for path in sorted((root / "reports").glob("*/claims.json")):
        paper = path.parent.name
        doc = io.read_json(path)
        docs[paper] = doc
        metrics = io.read_json(path.parent / "metrics.json")
        again = judge(claim_set(paper), metrics, doc["scale"], robustness)
        mine = {c["id"]: c for c in again["claims"]}
        for c in doc["claims"]:
            want = mine.get(c["id"])
            if want is None:
                problems.append(f"reports/{paper}/claims.json: claim {c['id']} is not declared in "
                                f"src/llmrepro/{paper}/claims.py")
            elif want["verdict"] != c["verdict"]:
                problems.append(f"reports/{paper}/claims.json: {c['id']} says {c['verdict']!r}, but its claims "
                                f"code on reports/{paper}/metrics.json gives {want['verdict']!r}")
            elif want["fragile"] != c.get("fragile"):
                problems.append(f"reports/{paper}/claims.json: {c['id']} fragile={c.get('fragile')!r}, but "
                                f"{ROBUSTNESS} gives {want['fragile']!r}")
            elif want != c:
                problems.append(f"reports/{paper}/claims.json: {c['id']} differs from its re-evaluation on "
                                f"metrics.json (measured values or tests)")
        readme = path.parent / "README.md"
        if readme.exists() and claims_table(doc) not in readme.read_text():
            problems.append(f"reports/{paper}/README.md: its claims table does not match reports/{paper}/claims.json")
    index = root / "reports/index.md"
    if index.exists():
        from llmrepro import PAPERS

        runs = {p: runs_summary([io.read_json(f) for f in sorted((root / "reports" / p / "provenance").glob("*.json"))])
                for p in docs}
        expected = index_page({p: docs.get(p) for p in ("common", *PAPERS)}, runs)
        if index.read_text() != expected:
            problems.append("reports/index.md: does not match the papers' claims.json")
    return problems


def audit(root: Path) -> list[str]:
    return check_lock(root) + check_provenance(root) + check_claims(root)
