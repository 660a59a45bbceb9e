"""The pages reviewers read: reports/<id>/README.md and reports/index.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmrepro import TITLES, io
from llmrepro.pipeline.claims import ClaimSet, counts

VERDICT_MARK = {"reproduced": "✅ reproduced", "not reproduced": "❌ not reproduced",
                "inconclusive": "⚠️ inconclusive"}
ROBUSTNESS = "reports/robustness.json"  # written by `llmrepro verify --seeds`; read by every report stage


def verdict_cell(c: Mapping[str, Any]) -> str:
    mark = VERDICT_MARK.get(c["verdict"], c["verdict"])
    if c.get("fragile"):
        mark += f" · 🔀 fragile ({c.get('fragile_where', 'shifted seeds')}: {c['fragile']})"
    return mark


def judge(claims: ClaimSet, metrics: Mapping[str, Any], scale: str, robustness: Mapping[str, Any]) -> dict[str, Any]:
    """The claims' verdicts on `metrics`, fragile ones marked. A claim is fragile when its verdict under
    shifted seeds (reports/robustness.json), or a verdict seen elsewhere (`claims.seen_moving`, while the
    verdict now is the one seen moving), differs from the verdict now; `fragile` holds that other verdict,
    or False, and `fragile_where` says where it was seen when not under shifted seeds."""
    doc = claims.evaluate(metrics, scale)
    shifted = robustness.get("papers", {}).get(doc["paper"], {})
    # (claim, verdict) -> (the verdict seen instead, where)
    seen = {(cid, was): (other, where) for cid, was, other, where in claims.seen_moving}
    for c in doc["claims"]:
        other = shifted.get(c["id"], {}).get("shifted")
        c["fragile"] = other if other is not None and other != c["verdict"] else False
        if not c["fragile"] and (c["id"], c["verdict"]) in seen:
            elsewhere, where = seen[c["id"], c["verdict"]]
            c.update(fragile=elsewhere, fragile_where=where)
    return doc


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return str(v)


def with_ci(value: Any, ci: Sequence[Any] | None) -> str:
    """A number and, when it has one, its interval: `0.12 [0.05, 0.19]`."""
    return fmt(value) + (f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci and None not in ci else "")


def _measured(check: Mapping[str, Any]) -> str:
    return with_ci(check["measured"], check.get("ci"))


def cell(text: str) -> str:
    """Text safe inside a markdown table cell (a bare | would end the cell)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def claims_table(doc: Mapping[str, Any]) -> str:
    lines = ["| claim | paper says | test | measured [95% CI] | outcome | verdict |",
             "|---|---|---|---|---|---|"]
    for c in doc["claims"]:
        rows = [("precondition: " + k["test"], k) for k in c["precondition"]] + [(k["test"], k) for k in c["checks"]]
        for i, (test, k) in enumerate(rows):
            head = (f"**{c['id']}** {cell(c['statement'])}", cell(c.get("paper_value") or ""),
                    verdict_cell(c)) if i == 0 else ("", "", "")
            why = f" ({k['why']})" if k.get("why") else ""
            lines.append(f"| {head[0]} | {head[1]} | {cell(test)} | {_measured(k)} | {k['outcome']}{why} | {head[2]} |")
    notes = [f"- **{c['id']}**: {c['note']}" for c in doc["claims"] if c.get("note")]
    notes += [f"- **{c['id']}** (revised): {c['revised']} See \"Claim changes\" below." for c in doc["claims"]
              if c.get("revised")]
    return "\n".join(lines + ([""] + notes if notes else []))


@dataclass(frozen=True)
class ClaimChange:
    """A check revised after its result was known: the old check, its verdict and numbers as
    committed at `commit`, and why it changed (the page's "Claim changes" section)."""

    claim: str
    old_test: str
    old_verdict: str
    old_measured: str
    reason: str
    commit: str


def changes_section(changes: Sequence[ClaimChange]) -> str:
    if not changes:
        return ""
    out = ["## Claim changes", "",
           "Checks revised after their first result was known. The old check, its verdict and its numbers are "
           "kept here as committed; the revised check was fixed before the rerun.", "",
           "| claim | old check | old verdict | old numbers | why it changed | as of |", "|---|---|---|---|---|---|"]
    out += [f"| {c.claim} | {cell(c.old_test)} | {cell(c.old_verdict)} | {cell(c.old_measured)} | {cell(c.reason)} "
            f"| `{c.commit}` |" for c in changes]
    return "\n".join(out)


@dataclass
class Report:
    """What a paper's report stage hands to `write_report`."""

    paper: str
    metrics: dict[str, Any]
    claims: ClaimSet
    scale: str
    narrative: str  # the paper's own text: method, paper numbers, what mini can show
    figures: Sequence[tuple[str, str]] = ()  # (file name in reports/<id>/, caption)
    rows: Sequence[tuple[str, str, str]] = ()  # (quantity, paper, ours)
    extra: str = ""  # tables the paper builds itself (e.g. a Table 1 layout)
    notes: list[str] = field(default_factory=list)
    changes: Sequence[ClaimChange] = ()  # revised checks (see ClaimChange)


def render_page(r: Report, doc: Mapping[str, Any]) -> str:
    out = [f"# {r.paper}: {TITLES.get(r.paper, r.paper)}", "",
           f"Scale of these results: **{r.scale}**. Claim verdicts are computed by the `{r.paper}_report` "
           "stage from `metrics.json`, with thresholds fixed in `src/llmrepro/"
           f"{r.paper}/claims.py` before any result existed.", "",
           "## Claims", "", claims_table(doc), ""]
    if r.changes:
        out += [changes_section(r.changes), ""]
    if r.rows:
        out += ["## Paper versus this reproduction", "", "| quantity | paper | ours |", "|---|---|---|"]
        out += [f"| {cell(q)} | {cell(p)} | {cell(o)} |" for q, p, o in r.rows] + [""]
    if r.extra:
        out += [r.extra.strip(), ""]
    if r.figures:
        out += ["## Figures", ""]
        for name, caption in r.figures:
            out += [f"![{caption}]({name})", "",
                    f"*{caption}* ([provenance](provenance/{r.paper}_figures.json): the code, params and data "
                    "hashes behind it)", ""]
    out += [r.narrative.strip(), ""]
    if r.notes:
        out += ["## Notes from this run", ""] + [f"- {n}" for n in r.notes] + [""]
    out += ["## Rerun and audit", "",
            "```bash",
            f"llmrepro run {r.paper}            # dvc repro of this paper's stages (and what they need)",
            f"llmrepro run {r.paper} --engine snakemake -c2   # the same DAG, in parallel",
            f"dvc dag {r.paper}_report           # the upstream picture",
            "```", "",
            "Every stage writes `provenance/<stage>.json` here: its command, declared params, input and output "
            "hashes (md5, as in `dvc.lock`), git commit, package versions, hardware, seeds, wall time and peak memory.",
            ""]
    return "\n".join(out)


def write_report(r: Report, metrics_path: Path, claims_path: Path, readme_path: Path,
                 robustness: Mapping[str, Any] | None = None) -> dict[str, Any]:
    # Claims are judged on metrics as written (NaN becomes null), so re-evaluating
    # claims.json from metrics.json always gives the same verdicts.
    metrics = json.loads(io.dumps(r.metrics))
    doc = judge(r.claims, metrics, r.scale, robustness or {})
    io.write_json(metrics_path, metrics)
    io.write_json(claims_path, doc)
    readme_path.write_text(render_page(r, doc))
    return doc


def publish(ctx, r: Report) -> dict[str, Any]:
    """The end of every paper's report stage (`Paper.report`): metrics.json, claims.json,
    README.md and its HTML twin, with fragile claims marked from reports/robustness.json."""
    from llmrepro.report.site import write_page

    doc = write_report(r, ctx.out.metrics, ctx.out.claims, ctx.out.readme, io.read_json(ctx.dep.robustness))
    write_page(ctx.out.readme, ctx.out.html, f"{r.paper}: {TITLES.get(r.paper, r.paper)}", up="../")
    return doc


def runs_summary(provenance: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A paper's cold runtime (its stages' wall times) and the environment they ran in."""
    if not provenance:
        return {"cold_s": None, "env": "–"}
    last = max(provenance, key=lambda p: (p.get("finished") or "", p["stage"]))
    hw, pk = last["hardware"], last["packages"]
    env = f"{hw.get('cpu')}, {hw.get('cores')} cores, Python {pk.get('python')}, torch {pk.get('torch')}"
    return {"cold_s": sum(p["wall_s"] for p in provenance), "env": env}


def headline(doc: Mapping[str, Any]) -> str:
    n = counts(doc)
    parts = [f"{n[v]} {v}" for v in ("reproduced", "not reproduced", "inconclusive") if n.get(v)]
    fragile = sum(bool(c.get("fragile")) for c in doc["claims"])
    return ", ".join(parts) + (f"; {fragile} fragile" if fragile else "")


def _ours(c: Mapping[str, Any]) -> str:
    return "; ".join(_measured(k) for k in c["checks"][:2]) + (" …" if len(c["checks"]) > 2 else "")


def index_page(docs: Mapping[str, Mapping[str, Any] | None],
               runs: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    runs = runs or {}
    out = ["# llmrepro: every paper, every claim", "",
           "Each row links to the paper's page, where the figures sit next to the paper's own numbers. "
           "Verdicts: ✅ reproduced, ❌ not reproduced, ⚠️ inconclusive (for example a failed precondition or an "
           "interval that straddles the threshold); 🔀 fragile: the verdict moved when every seed was shifted "
           "([robustness](robustness.md)), or in a recompute named on the claim's page. *Ours* is the measured "
           "value of the claim's first checks, with its 95 % interval.", ""]
    out += ["## Papers", "", "| paper | headline | cold runtime | made on |", "|---|---|---|---|"]
    for paper, doc in docs.items():
        if doc is not None:
            r = runs.get(paper, {})
            cold = f"{r['cold_s'] / 60:.1f} min" if r.get("cold_s") is not None else "–"
            out.append(f"| [{paper}]({paper}/README.md) | {headline(doc)} | {cold} | {cell(r.get('env', '–'))} |")
    out += ["", "## Claims", "", "| paper | scale | claim | verdict | statement | paper says | ours |",
            "|---|---|---|---|---|---|---|"]
    for paper, doc in docs.items():
        title = TITLES.get(paper, paper)
        if doc is None:
            out.append(f"| {paper} | – | – | not built yet | {title} | | |")
            continue
        for i, c in enumerate(doc["claims"]):
            name = f"[{paper}]({paper}/README.md)" if i == 0 else ""
            out.append(f"| {name} | {doc['scale']} | {c['id']} | {verdict_cell(c)} | {cell(c['statement'])} "
                       f"| {cell(c.get('paper_value') or '')} | {cell(_ours(c))} |")
    return "\n".join(out) + "\n"
