"""`llmrepro compare REV [REV2]`: what a change did to the results, for a terminal or a pull
request: verdicts flipped (first), params changed, the claims' metrics that moved (with their
intervals), and the stages whose outputs changed.

Params and metrics come from `dvc params diff --json` and `dvc metrics diff --json`; verdicts
from the two revisions' claims.json; changed stages from their dvc.lock.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from llmrepro import io
from llmrepro.report.pages import VERDICT_MARK, cell, with_ci


def _dvc_json(root: Path, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    r = subprocess.run(["dvc", *args, "--json"], cwd=root, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"`dvc {' '.join(args)}` failed: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout or "{}")


def _show(root: Path, rev: str | None, path: str) -> str | None:
    """A file at a revision; rev None is the work tree."""
    if rev is None:
        p = root / path
        return p.read_text() if p.exists() else None
    r = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def _claims(root: Path, rev: str | None) -> dict[str, dict[str, Any]]:
    from llmrepro import PAPERS

    out = {}
    for paper in ("common", *PAPERS):
        text = _show(root, rev, f"reports/{paper}/claims.json")
        if text:
            out[paper] = json.loads(text)
    return out


def _lock_outs(root: Path, rev: str | None) -> dict[str, dict[str, str]]:
    text = _show(root, rev, "dvc.lock")
    stages = (io.load_yaml(text) or {}).get("stages", {}) if text else {}
    # provenance changes on every run (times, commit): only results count
    return {name: {o["path"]: o.get("md5") for o in st.get("outs", []) if "/provenance/" not in o["path"]}
            for name, st in stages.items()}


def compare(root: Path, a: str, b: str | None, env: dict[str, str]) -> dict[str, Any]:
    revs = [a] + ([b] if b else [])
    params = _dvc_json(root, ["params", "diff", *revs], env)
    metrics = _dvc_json(root, ["metrics", "diff", *revs], env)
    old, new = _claims(root, a), _claims(root, b)
    flips, moved = [], []
    for paper in sorted(set(old) | set(new)):
        oc = {c["id"]: c for c in old.get(paper, {}).get("claims", [])}
        nc = {c["id"]: c for c in new.get(paper, {}).get("claims", [])}
        for cid in dict.fromkeys([*oc, *nc]):
            ov, nv = oc.get(cid, {}).get("verdict"), nc.get(cid, {}).get("verdict")
            if ov != nv:
                flips.append({"paper": paper, "claim": cid, "old": ov, "new": nv})
            for k_old, k_new in zip(oc.get(cid, {}).get("checks", []), nc.get(cid, {}).get("checks", [])):
                if (k_old["measured"], k_old.get("ci")) != (k_new["measured"], k_new.get("ci")):
                    moved.append({"paper": paper, "claim": cid, "metric": k_new["metric"],
                                  "old": {"value": k_old["measured"], "ci": k_old.get("ci")},
                                  "new": {"value": k_new["measured"], "ci": k_new.get("ci")}})
    lo, ln = _lock_outs(root, a), _lock_outs(root, b)
    changed = sorted(s for s in set(lo) | set(ln) if lo.get(s) != ln.get(s))
    n_metrics = {path.split("/")[1]: len(d) for path, d in metrics.items()}
    return {"a": a, "b": b or "work tree", "flips": flips, "params": params, "claim_metrics": moved,
            "metrics_changed_per_paper": n_metrics, "stages_changed": changed}


def _v(x: dict[str, Any]) -> str:
    return with_ci(x["value"], x.get("ci"))


def render(doc: dict[str, Any]) -> str:
    out = [f"# Results: `{doc['a']}` → `{doc['b']}`", ""]
    out += ["## Verdicts flipped", ""]
    if doc["flips"]:
        out += ["| paper | claim | before | after |", "|---|---|---|---|"]
        out += [f"| {f['paper']} | {f['claim']} | {VERDICT_MARK.get(f['old'], f['old'] or '–')} | "
                f"{VERDICT_MARK.get(f['new'], f['new'] or '–')} |" for f in doc["flips"]]
    else:
        out.append("None.")
    out += ["", "## Params changed", ""]
    rows = sorted(((key, d.get("old"), d.get("new")) for keys in doc["params"].values() for key, d in keys.items()),
                  key=lambda r: r[0])  # by key only: values of one key may differ in type
    if rows:
        out += ["| key | before | after |", "|---|---|---|"]
        out += [f"| `{k}` | {cell(json.dumps(o))} | {cell(json.dumps(n))} |" for k, o, n in rows]
    else:
        out.append("None.")
    out += ["", "## Claims' metrics that moved", ""]
    if doc["claim_metrics"]:
        out += ["| paper | claim | metric | before [95% CI] | after [95% CI] |", "|---|---|---|---|---|"]
        out += [f"| {m['paper']} | {m['claim']} | `{m['metric']}` | {_v(m['old'])} | {_v(m['new'])} |"
                for m in doc["claim_metrics"]]
    else:
        out.append("None.")
    per = doc["metrics_changed_per_paper"]
    out += ["", "All metrics that changed (`dvc metrics diff`), per paper: "
            + (", ".join(f"{p} {n}" for p, n in sorted(per.items())) or "none") + ".", ""]
    out += ["## Stages whose outputs changed", "", ", ".join(f"`{s}`" for s in doc["stages_changed"]) or "None.", ""]
    return "\n".join(out)

