"""The pages reviewers read: reports/<id>/README.md and reports/index.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmrepro import TITLES, io
from llmrepro.pipeline.claims import ClaimSet

VERDICT_MARK = {"reproduced": "✅ reproduced", "not reproduced": "❌ not reproduced",
                "inconclusive": "⚠️ inconclusive"}


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


def _measured(check: Mapping[str, Any]) -> str:
    s = fmt(check["measured"])
    if check.get("ci"):
        s += f" [{fmt(check['ci'][0])}, {fmt(check['ci'][1])}]"
    return s


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
                    VERDICT_MARK.get(c["verdict"], c["verdict"])) if i == 0 else ("", "", "")
            why = f" ({k['why']})" if k.get("why") else ""
            lines.append(f"| {head[0]} | {head[1]} | {cell(test)} | {_measured(k)} | {k['outcome']}{why} | {head[2]} |")
    notes = [f"- **{c['id']}**: {c['note']}" for c in doc["claims"] if c.get("note")]
    return "\n".join(lines + ([""] + notes if notes else []))


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


def render_page(r: Report, doc: Mapping[str, Any]) -> str:
    out = [f"# {r.paper}: {TITLES.get(r.paper, r.paper)}", "",
           f"Scale of these results: **{r.scale}**. Claim verdicts are computed by the `{r.paper}_report` "
           "stage from `metrics.json`, with thresholds fixed in `src/llmrepro/"
           f"{r.paper}/claims.py` before any result existed.", "",
           "## Claims", "", claims_table(doc), ""]
    if r.rows:
        out += ["## Paper versus this reproduction", "", "| quantity | paper | ours |", "|---|---|---|"]
        out += [f"| {cell(q)} | {cell(p)} | {cell(o)} |" for q, p, o in r.rows] + [""]
    if r.extra:
        out += [r.extra.strip(), ""]
    if r.figures:
        out += ["## Figures", ""]
        for name, caption in r.figures:
            out += [f"![{caption}]({name})", "", f"*{caption}*", ""]
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


def write_report(r: Report, metrics_path: Path, claims_path: Path, readme_path: Path) -> dict[str, Any]:
    doc = r.claims.evaluate(r.metrics, r.scale)
    io.write_json(metrics_path, r.metrics)
    io.write_json(claims_path, doc)
    readme_path.write_text(render_page(r, doc))
    return doc


def index_page(docs: Mapping[str, Mapping[str, Any] | None]) -> str:
    out = ["# llmrepro: every paper, every claim", "",
           "Each row links to the paper's page, where the figures sit next to the paper's own numbers. "
           "Verdicts: ✅ reproduced, ❌ not reproduced, ⚠️ inconclusive (for example a failed precondition or an "
           "interval that straddles the threshold).", ""]
    out += ["| paper | scale | claim | verdict | statement |", "|---|---|---|---|---|"]
    for paper, doc in docs.items():
        title = TITLES.get(paper, paper)
        if doc is None:
            out.append(f"| {paper} | – | – | not built yet | {title} |")
            continue
        for i, c in enumerate(doc["claims"]):
            name = f"[{paper}]({paper}/README.md)" if i == 0 else ""
            out.append(f"| {name} | {doc['scale']} | {c['id']} | {VERDICT_MARK.get(c['verdict'], c['verdict'])} "
                       f"| {cell(c['statement'])} |")
    return "\n".join(out) + "\n"
