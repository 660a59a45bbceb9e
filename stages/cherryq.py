"""cherryq: parameter heterogeneity, and CherryQ against RTN, GPTQ and plain QAT."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources
from stages.common import CORPUS, SMOLLM2, TINYLM

paper = Paper("cherryq", code=["src/llmrepro/cherryq/config.py"])
CORPORA = {c: CORPUS.format(c) for c in ("shakespeare", "kjv")}
IMPACT = "data/cherryq/impact/"


def _corpora(ctx):
    return {c: getattr(ctx.dep, c) for c in CORPORA}


@paper.stage(deps={"model": TINYLM, **CORPORA},
             params=["cherryq.tiny"], outs={"impact": IMPACT, "hs": "data/cherryq/hs_tiny.json"})
def impact(ctx):
    """Fisher impact of the tiny Llama and of the same architecture at random init; HS per matrix."""
    from llmrepro import io
    from llmrepro.cherryq.steps import impact as run

    p = ctx.params.cherryq.tiny
    io.write_json(ctx.out.hs, run(p, ctx.dep.model, _corpora(ctx), ctx.out.impact, ctx.progress))


@paper.stage(deps={"model": TINYLM, "impact": IMPACT, **CORPORA},
             params=["cherryq.tiny"], outs={"result": "data/cherryq/ptq_tiny.json"})
def ptq(ctx):
    """PTQ of the tiny Llama: RTN, GPTQ, and RTN with cherries by impact, magnitude, OBD or at random."""
    from llmrepro import io
    from llmrepro.cherryq.steps import ptq as run

    io.write_json(ctx.out.result, run(ctx.params.cherryq.tiny, ctx.dep.model, ctx.dep.impact, _corpora(ctx),
                                      ctx.progress))


@paper.stage(deps={"model": TINYLM, "impact": IMPACT, **CORPORA}, params=["cherryq.tiny"],
             outs={"result": "data/cherryq/qat.json"}, resources=Resources(runtime=60))
def qat(ctx):
    """QAT with the STE: plain QAT, CherryQ (impact cherries), random and magnitude cherries, over seeds."""
    from llmrepro import io
    from llmrepro.cherryq.steps import main_runs, qat as run

    p = ctx.params.cherryq.tiny
    ctx.record_seeds(p.qat.seeds)
    io.write_json(ctx.out.result, run(p, ctx.dep.model, ctx.dep.impact, _corpora(ctx), main_runs(p), ctx.progress))


@paper.stage(deps={"model": TINYLM, "impact": IMPACT, **CORPORA}, params=["cherryq.tiny"],
             outs={"result": "data/cherryq/sweep.json"}, resources=Resources(runtime=60))
def sweep(ctx):
    """QAT at several cherry fractions, impact against random selection."""
    from llmrepro import io
    from llmrepro.cherryq.steps import qat as run, sweep_runs

    p = ctx.params.cherryq.tiny
    ctx.record_seeds([p.sweep.seed])
    io.write_json(ctx.out.result, run(p, ctx.dep.model, ctx.dep.impact, _corpora(ctx), sweep_runs(p), ctx.progress))


@paper.stage(deps={"model": SMOLLM2, **CORPORA}, params=["cherryq.pretrained"],
             outs={"result": "data/cherryq/pretrained.json"}, resources=Resources(mem_mb=12000, runtime=60))
def pretrained(ctx):
    """A real pretrained LLM (SmolLM2-135M at mini): impact, HS, and PTQ with and without cherries."""
    from llmrepro import io
    from llmrepro.cherryq.steps import pretrained as run

    io.write_json(ctx.out.result, run(ctx.params.cherryq.pretrained, ctx.dep.model, _corpora(ctx), ctx.progress))


RESULTS = {"hs": "data/cherryq/hs_tiny.json", "ptq": "data/cherryq/ptq_tiny.json", "qat": "data/cherryq/qat.json",
           "sweep": "data/cherryq/sweep.json", "pretrained": "data/cherryq/pretrained.json"}


paper.figures(RESULTS, {"curve": "reports/cherryq/sorted_impact.png", "hs": "reports/cherryq/heterogeneity.png",
                        "bits": "reports/cherryq/ppl_vs_bits.png", "sweep": "reports/cherryq/cherry_fraction.png"},
              desc="Sorted impact, heterogeneity per matrix, perplexity against bits, cherry-fraction sweep")
paper.report(RESULTS, params=["cherryq.tiny.qat"], desc="Claims C1-C3, a Table-1 layout, and the paper's page")


if __name__ == "__main__":
    paper.main()
