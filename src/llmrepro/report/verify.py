"""`llmrepro verify`: do freshly computed results agree with the committed ones?

Bit-for-bit equality across CPUs is not attainable for float training; equal verdicts
and metrics within declared tolerances are. For every paper with results in the work
tree, this compares `reports/<id>/claims.json` and `metrics.json` with the versions
committed at a git revision (HEAD by default):

- every verdict must be equal;
- every metric a claim's check reads must agree within that check's tolerance
  (`pipeline.claims.Tol`: inside the committed 95 % CI for estimates, relative 1e-6
  otherwise, ratios for the declared timing fields).

A claim the committed results mark *fragile* (its verdict moved under shifted seeds,
see `shift_seeds` and reports/robustness.md) is reported as a warning, not a failure.

`--seeds +k` reruns the suite in a scratch copy with every seed shifted (`shift_seeds`)
and records which verdicts hold in reports/robustness.json and robustness.md; the
report stages read robustness.json to mark fragile claims.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llmrepro import io
from llmrepro.pipeline.claims import ClaimSet, lookup_metric
from llmrepro.report.pages import ROBUSTNESS, VERDICT_MARK, cell, fmt, with_ci

SEED_KEYS = ("seed", "seeds")


class VerifyError(RuntimeError):
    """verify cannot compare (no results, stale results, a scale mismatch); the message says why."""


# ---------------------------------------------------------------- comparing two result sets

@dataclass
class ClaimRow:
    id: str
    committed: str | None
    now: str | None
    fragile: bool
    metrics: list[dict[str, Any]] = field(default_factory=list)  # metric, committed, now, tol, agrees
    device_bound: bool = False  # a claim about the measuring machine (ClaimSet.device_bound)
    other_device: bool = False  # ... recomputed on another CPU than the committed one

    @property
    def verdict_equal(self) -> bool:
        return self.committed == self.now

    @property
    def metrics_agree(self) -> bool:
        return all(m["agrees"] for m in self.metrics)

    @property
    def warning(self) -> str | None:
        """Why a difference only warns: a known instability, or a machine measured again, whose numbers move
        past any useful tolerance even on the same CPU (hwgpt, measured: see its page) while its verdict holds."""
        if self.fragile:
            return "fragile"
        if self.other_device:
            return "another CPU"
        if self.device_bound and self.verdict_equal:
            return "machine measured again"
        return None

    @property
    def status(self) -> str:
        if self.verdict_equal and self.metrics_agree:
            return "ok"
        return "warning" if self.warning else "fail"


def claim_set(paper: str) -> ClaimSet:
    return importlib.import_module(f"llmrepro.{paper}.claims").CLAIMS


def moved_on_record(robustness: dict, paper: str) -> set[str]:
    """Claims whose verdict moved in the last seed-shift run (reports/robustness.json). They stay fragile
    for `verify` even where the verdict committed since matches the shifted one, so the page no longer
    marks them: a verdict seen both ways can come out either way on another machine."""
    rows = robustness.get("papers", {}).get(paper, {})
    return {cid for cid, r in rows.items() if r.get("shifted") is not None and r.get("shifted") != r.get("committed")}


def compare(claims: ClaimSet, old_claims: dict, new_claims: dict, old_metrics: dict,
            new_metrics: dict, moved: set[str] = frozenset(), other_device: bool = False) -> list[ClaimRow]:
    """One row per claim of either side, with every checked metric compared; a claim the committed results
    mark fragile, or one in `moved`, only warns, and so does a device-bound claim when `other_device`."""
    if old_claims.get("scale") != new_claims.get("scale"):
        raise VerifyError(f"{claims.paper}: committed results are at scale {old_claims.get('scale')!r}, "
                          f"these at {new_claims.get('scale')!r}; switch with `llmrepro scale`")
    old = {c["id"]: c for c in old_claims["claims"]}
    new = {c["id"]: c for c in new_claims["claims"]}
    declared = {c.id: c for c in claims.claims}
    rows = []
    for cid in dict.fromkeys([*old, *new]):
        o, n = old.get(cid, {}), new.get(cid, {})
        row = ClaimRow(cid, o.get("verdict"), n.get("verdict"), fragile=bool(o.get("fragile")) or cid in moved,
                       device_bound=cid in claims.device_bound, other_device=other_device and cid in claims.device_bound)
        for check in (*declared[cid].precondition, *declared[cid].checks) if cid in declared else ():
            # a check on `x.value` is a check on the estimate x: compare it with x's interval
            path = check.metric.removesuffix(".value")
            ov, nv = lookup_metric(old_metrics, path), lookup_metric(new_metrics, path)
            tol = claims.tolerance(check).effective(ov)
            row.metrics.append({"metric": check.metric, "committed": ov, "now": nv, "tol": tol.text,
                                "agrees": tol.agrees(ov, nv)})
        rows.append(row)
    return rows


def deterministic_view(claims: ClaimSet, metrics: dict, claims_doc: dict) -> tuple[dict, dict]:
    """metrics.json and claims.json without the declared timing fields, nor the verdicts that
    rest on them: what a rerun on the same machine must reproduce byte for byte."""

    def strip(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: strip(v, f"{path}.{k}" if path else k) for k, v in node.items()
                    if not claims.is_timing(f"{path}.{k}" if path else k)}
        if isinstance(node, list):  # an element's path holds its index, matched by `*` in a timing pattern
            return [strip(v, f"{path}.{i}") for i, v in enumerate(node)]
        return node

    doc = json.loads(json.dumps(claims_doc))
    for c in doc["claims"]:
        timed = [k for k in (*c["precondition"], *c["checks"]) if claims.is_timing(k["metric"])]
        for k in timed:
            k.update(measured=None, ci=None, outcome=None)
            k.pop("why", None)
        if timed:
            c["verdict"] = None
    return strip(metrics, ""), doc


def _show(v: Any) -> str:
    if isinstance(v, dict):
        return with_ci(v.get("value"), v.get("ci"))
    return fmt(v)


def render(results: dict[str, list[ClaimRow]], against: str, machine: str) -> str:
    out = ["# Verify: recomputed results against the committed ones", "",
           f"Committed: `{against}`. Recomputed on: {machine}. A verdict must be equal and every metric a check "
           "reads must agree within its tolerance; a claim marked fragile (its verdict moved under shifted seeds, "
           "see [robustness.md](robustness.md)) only warns, and so does a claim about the measuring machine itself "
           "(a paper's `device_bound`) recomputed on another CPU than the committed one; on the same CPU its "
           "verdict must be equal and its moved metrics only warn.", ""]
    for paper, rows in results.items():
        fails = sum(r.status == "fail" for r in rows)
        warns = sum(r.status == "warning" for r in rows)
        out += [f"## {paper}: " + ("all equal" if not fails and not warns else f"{fails} failed, {warns} warnings"),
                "", "| claim | committed | now | verdict equal? | metrics (committed → now, tolerance) |",
                "|---|---|---|---|---|"]
        for r in rows:
            ms = "<br>".join(f"{'✅' if m['agrees'] else '❌'} `{m['metric']}` {_show(m['committed'])} → "
                             f"{_show(m['now'])} ({m['tol']})" for m in r.metrics)
            eq = ("yes" if r.verdict_equal else "**no**") + (f" ({r.warning}: warning)" if r.status == "warning"
                                                             else "")
            out.append(f"| {r.id} | {VERDICT_MARK.get(r.committed, r.committed or '–')} | "
                       f"{VERDICT_MARK.get(r.now, r.now or '–')} | {eq} | {cell(ms)} |")
        out.append("")
    return "\n".join(out)


def _git_json(root: Path, rev: str, path: str) -> Any | None:
    r = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None


def committed_cpus(root: Path, rev: str, paper: str) -> set[str]:
    """The CPUs named in the paper's committed provenance records."""
    r = subprocess.run(["git", "ls-tree", "--name-only", rev, f"reports/{paper}/provenance/"], cwd=root,
                       capture_output=True, text=True)
    docs = [_git_json(root, rev, f) for f in r.stdout.split() if f.endswith(".json")]
    return {d["hardware"]["cpu"] for d in docs if d and "cpu" in d.get("hardware", {})}


def reported_papers(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "reports").glob("*/claims.json"))


def stale_reports(root: Path, papers: list[str], env: dict[str, str]) -> list[str]:
    """Report stages of `papers` (or stages upstream of them) that DVC says must rerun."""
    from llmrepro.pipeline.tools import dvc_stale

    try:
        return dvc_stale(root, [f"{p}_report" for p in papers], env)
    except RuntimeError as e:
        raise VerifyError(str(e)) from None


def verify(root: Path, papers: list[str] | None, against: str = "HEAD", env: dict[str, str] | None = None,
           check_fresh: bool = True) -> tuple[int, str]:
    from llmrepro.pipeline.provenance import hardware

    have = reported_papers(root)
    papers = papers or have
    unknown = [p for p in papers if p not in have]
    if unknown:
        raise VerifyError(f"no results for {', '.join(unknown)} in reports/; papers with results: {', '.join(have)}")
    if check_fresh:
        stale = stale_reports(root, papers, env or dict(os.environ))
        if stale:
            raise VerifyError(f"the results in the work tree are not current ({len(stale)} stages must rerun, e.g. "
                              f"{', '.join(stale[:4])}): run `llmrepro repro` (or `llmrepro run ID`) first")
    results: dict[str, list[ClaimRow]] = {}
    robustness = _git_json(root, against, ROBUSTNESS) or {}
    hw = hardware()
    for p in papers:
        old_c = _git_json(root, against, f"reports/{p}/claims.json")
        old_m = _git_json(root, against, f"reports/{p}/metrics.json")
        if old_c is None or old_m is None:
            raise VerifyError(f"{p}: no committed claims.json/metrics.json at {against}: commit results first")
        cs = claim_set(p)
        other_device = bool(cs.device_bound) and committed_cpus(root, against, p) != {hw["cpu"]}
        results[p] = compare(cs, old_c, io.read_json(root / f"reports/{p}/claims.json"), old_m,
                             io.read_json(root / f"reports/{p}/metrics.json"), moved_on_record(robustness, p),
                             other_device)
    text = render(results, against, f"{hw['cpu']}, {hw['cores']} cores")
    (root / "reports/verify.md").write_text(text)
    print(text)
    bad = [f"{p} {r.id}" for p, rows in results.items() for r in rows if r.status == "fail"]
    warned: dict[str, list[str]] = {}
    for p, rows in results.items():
        for r in rows:
            if r.status == "warning":
                warned.setdefault(r.warning, []).append(f"{p} {r.id}")
    for why, ids in warned.items():
        print(f"warning: claims moved ({why}): {', '.join(ids)}", file=sys.stderr)
    if bad:
        print(f"error: verdict flipped or metric out of tolerance: {', '.join(bad)} (reports/verify.md)",
              file=sys.stderr)
        return 1, text
    print(f"verify: {sum(len(r) for r in results.values())} claims of {len(results)} papers agree with {against}",
          file=sys.stderr)
    return 0, text


# ---------------------------------------------------------------- seed shifts

def is_seed_key(key: Any) -> bool:
    key = str(key)
    return key in SEED_KEYS or key.endswith(tuple(f"_{k}" for k in SEED_KEYS))


def shift_seeds(params: Any, k: int, path: str = "") -> tuple[Any, list[str]]:
    """Every seed moved to the next disjoint block, k blocks on: a seed s becomes s + k, a
    list of n seeds each + k*n (seeds 1,2,3 -> 4,5,6 for k = 1). Seeds are found by name:
    `seed`, `seeds`, `*_seed`, `*_seeds`. Returns the new params and the keys it moved."""
    moved: list[str] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, v in node.items():
                p = f"{where}.{key}" if where else key
                if is_seed_key(key) and isinstance(v, int) and not isinstance(v, bool):
                    out[key] = v + k
                    moved.append(p)
                elif is_seed_key(key) and isinstance(v, list) and v and all(isinstance(x, int) for x in v):
                    out[key] = [x + k * len(v) for x in v]
                    moved.append(p)
                else:
                    out[key] = walk(v, p)
            return out
        return node

    return walk(params, path), moved


def _scratch_copy(root: Path, dest: Path, env: dict[str, str]) -> None:
    """The project's files (tracked and untracked-but-not-ignored) in `dest`, sharing this
    workspace's DVC cache, with every cached output checked out (downloads need no rerun)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        if (root / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / f, dest / f)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    cache = subprocess.run(["dvc", "cache", "dir"], cwd=root, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    subprocess.run(["dvc", "config", "--local", "cache.dir", cache], cwd=dest, env=env, check=True)
    subprocess.run(["dvc", "checkout", "-q"], cwd=dest, env=env)  # what the cache lacks simply reruns


def robustness_run(root: Path, papers: list[str] | None, k: int, env: dict[str, str],
                   workdir: Path | None = None) -> dict[str, Any]:
    """Rerun the papers' DAGs in a scratch copy with every seed shifted by k blocks; record
    each claim's verdict at the committed and at the shifted seeds in reports/robustness.json."""
    from llmrepro.pipeline.params import PARAMS_FILE, dump_params, read_yaml, validate

    have = reported_papers(root)
    papers = papers or [p for p in have if p != "report"]
    scratch = Path(workdir) if workdir else root.parent / f".llmrepro-seeds{k:+d}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    _scratch_copy(root, scratch, env)
    raw = read_yaml(scratch / PARAMS_FILE)
    shifted, moved = shift_seeds(raw, k)
    validate(shifted, f"{PARAMS_FILE} (seeds {k:+d})")
    scale = raw["common"]["scale"]
    (scratch / PARAMS_FILE).write_text(dump_params(shifted, scale))
    print(f"seeds {k:+d} in {scratch}: moved {', '.join(moved)}", file=sys.stderr)
    rc = subprocess.call(["dvc", "repro", *[f"{p}_report" for p in papers]], cwd=scratch, env=env)
    if rc != 0:
        raise VerifyError(f"`dvc repro` with seeds {k:+d} failed in {scratch} (exit {rc}); its logs are above")
    doc = io.read_json(root / ROBUSTNESS) if (root / ROBUSTNESS).exists() else {}
    doc.setdefault("papers", {})
    for p in papers:
        base = io.read_json(root / f"reports/{p}/claims.json")
        other = io.read_json(scratch / f"reports/{p}/claims.json")
        theirs = {c["id"]: c for c in other["claims"]}
        doc["papers"][p] = {c["id"]: {"committed": c["verdict"], "shifted": theirs.get(c["id"], {}).get("verdict"),
                                      "measured_committed": [k_["measured"] for k_ in c["checks"]],
                                      "measured_shifted": [k_["measured"] for k_ in theirs.get(c["id"], {}).get(
                                          "checks", [])]}
                            for c in base["claims"]}
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # a run of some papers keeps the other papers' rows, each with the time its own run was made
    since = doc.get("made")
    doc["made_by_paper"] = ({q: doc.get("made_by_paper", {}).get(q, since) for q in doc["papers"]}
                            | {p: made for p in papers})
    doc.update(shift=k, scale=scale, seed_keys=moved, made=made)
    io.write_json(root / ROBUSTNESS, doc)
    (root / "reports/robustness.md").write_text(render_robustness(doc))
    return doc


def _runs_line(doc: dict[str, Any]) -> list[str]:
    """Where papers were rerun at different times, when each paper's rows were made."""
    by_paper = doc.get("made_by_paper") or {}
    if len(set(by_paper.values())) <= 1:
        return []
    when: dict[str, list[str]] = {}
    for p, m in sorted(by_paper.items()):
        when.setdefault(m, []).append(p)
    return ["Rows made at different times: " + "; ".join(f"{', '.join(ps)} at {m}" for m, ps in sorted(when.items()))
            + ".", ""]


def render_robustness(doc: dict[str, Any]) -> str:
    k = doc["shift"]
    out = ["# Robustness: verdicts at the committed seeds and with every seed shifted", "",
           f"Made by `llmrepro verify --seeds {k:+d}` at scale {doc['scale']} ({doc['made']}): the suite reran in a "
           f"scratch copy with every seed moved to the next disjoint block ({len(doc['seed_keys'])} seed params: "
           "a seed s became s + k, a list of n seeds each + k·n). A claim whose verdict changes is *fragile*: its "
           "page and the index mark it, and `llmrepro verify` reports it as a warning rather than a failure.", "",
           *_runs_line(doc), "| paper | claim | committed seeds | shifted seeds | holds? |", "|---|---|---|---|---|"]
    n = fragile = 0
    for p, claims in doc["papers"].items():
        for cid, c in claims.items():
            holds = c["committed"] == c["shifted"]
            n += 1
            fragile += not holds
            out.append(f"| {p} | {cid} | {VERDICT_MARK.get(c['committed'], c['committed'])} | "
                       f"{VERDICT_MARK.get(c['shifted'], c['shifted'] or '–')} | "
                       f"{'yes' if holds else '**no: fragile**'} |")
    out += ["", f"{n - fragile} of {n} verdicts hold; {fragile} fragile.", "",
            "Seed params moved: " + ", ".join(f"`{s}`" for s in doc["seed_keys"]), ""]
    return "\n".join(out)
