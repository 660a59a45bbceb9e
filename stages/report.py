"""The cross-paper index: every paper, every claim and its verdict."""

from __future__ import annotations

from pathlib import Path

from llmrepro.pipeline import Paper
from llmrepro.pipeline.params import ALL

paper = Paper("report")

# Every paper with a report stage; the list follows the files in stages/.
REPORTED = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem not in ("__init__", "report"))


@paper.stage(params=[ALL], outs={"validated": "data/params/validated.json"}, light=True)
def params(ctx):
    """Validate the whole of params.yaml, on any change to it.

    A typo in a key no stage declares then fails `dvc repro` too; the runner validates every
    section before this runs, so the stage itself only records the scale."""
    from llmrepro import io

    io.write_json(ctx.out.validated, {"scale": ctx.params.common.scale, "valid": True})


@paper.stage(deps={p: f"reports/{p}/claims.json" for p in REPORTED}, outs={"index": "reports/index.md"},
             light=True)
def index(ctx):
    """reports/index.md: each paper's claims and verdicts, linked to its page."""
    from llmrepro import PAPERS, io
    from llmrepro.report.pages import index_page

    docs = {p: io.read_json(getattr(ctx.dep, p)) if p in REPORTED else None for p in ("common", *PAPERS)}
    ctx.out.index.write_text(index_page(docs))


if __name__ == "__main__":
    paper.main()
