"""The cross-paper index: every paper, every claim and its verdict."""

from __future__ import annotations

from pathlib import Path

from llmrepro.pipeline import Paper
from llmrepro.pipeline.params import PARAMS_FILE
from llmrepro.pipeline.stage import CODE_KEY, CODE_STAMPS, PARAMS_STAMP

paper = Paper("report")

# Every paper with a report stage; the list follows the files in stages/.
REPORTED = sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem not in ("__init__", "report"))


@paper.stage(deps={"params": PARAMS_FILE}, outs={"validated": PARAMS_STAMP}, light=True)
def params(ctx):
    """Validate the whole of params.yaml, on any change to it.

    Every other stage depends on its output (see `PARAMS_STAMP`), so a typo in a key no stage
    declares fails a plain `dvc repro <stage>` too. The runner validates every section before this
    runs; the output's bytes never change, so a valid edit reruns only what it reaches. The file is
    a plain dependency, not a param: DVC would copy all of it into dvc.lock, which it parses and
    rewrites after every stage."""
    from llmrepro import io

    io.write_json(ctx.out.validated, {"params.yaml": "valid"})


@paper.stage(outs={"stamps": CODE_STAMPS}, light=True)
def code(ctx):
    """Stamp each stage's code: the hash of every source file it runs, one file per stage.

    The registry makes this stage depend on every stage's code files, and every other stage on its
    own stamp (see `CODE_STAMPS`), so dvc.lock lists each code file once. A stamp keeps its bytes
    unless a file that stage runs changed, so an edit reruns exactly the stages that run it."""
    from llmrepro import io
    from llmrepro.pipeline.codedeps import stamp
    from llmrepro.pipeline.registry import load_registry

    for s in load_registry(ctx.root):
        if CODE_KEY in s.deps:
            io.write_json(ctx.out.stamps / f"{s.name}.json", stamp(ctx.root, s))


SITE = {"robustness": "reports/robustness.md", "bench": "reports/bench.md"}


def _provenance() -> dict[str, str]:
    """Every reported stage's provenance: the index shows each paper's cold runtime and environment."""
    import importlib

    out = {}
    for p in REPORTED:
        for s in importlib.import_module(f"stages.{p}").paper.stages.values():
            out[f"prov_{s.name}"] = s.provenance
    return out


PROVENANCE = _provenance()


@paper.stage(deps={**{p: f"reports/{p}/claims.json" for p in REPORTED}, **SITE, **PROVENANCE},
             outs={"index": "reports/index.md", "html": "reports/index.html",
                   **{f"{k}_html": v.replace(".md", ".html") for k, v in SITE.items()}},
             light=True)
def index(ctx):
    """reports/index.md: each paper's claims and verdicts, linked to its page; the site's front pages."""
    from llmrepro import PAPERS, io
    from llmrepro.report.pages import index_page
    from llmrepro.report.site import write_page

    from llmrepro.report.pages import runs_summary

    docs = {p: io.read_json(getattr(ctx.dep, p)) if p in REPORTED else None for p in ("common", *PAPERS)}
    runs = {p: runs_summary([io.read_json(getattr(ctx.dep, k)) for k in PROVENANCE if k.startswith(f"prov_{p}_")])
            for p in REPORTED}
    ctx.out.index.write_text(index_page(docs, runs))
    write_page(ctx.out.index, ctx.out.html, "llmrepro: every paper, every claim", up="")
    for k in SITE:
        write_page(getattr(ctx.dep, k), getattr(ctx.out, f"{k}_html"), k.capitalize(), up="")


if __name__ == "__main__":
    paper.main()
