"""The cross-paper index: every paper, every claim and its verdict."""

from __future__ import annotations

from pathlib import Path

from llmrepro.pipeline import Paper

paper = Paper("report")

# Every paper with a report stage; the list follows the files in stages/.
REPORTED = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem not in ("__init__", "report"))


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
