"""cherryq: parameter heterogeneity, and CherryQ against RTN, GPTQ and plain QAT."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources
from stages.common import CORPUS, SMOLLM2, TINYLM

paper = Paper("cherryq", code=["src/llmrepro/cherryq/config.py"])
CORPORA = {c: CORPUS.format(c) for c in ("shakespeare", "kjv")}
IMPACT = "data/cherryq/impact/"
TINY = [f"cherryq.tiny.{k}" for k in ("model", "data", "calib")]


def _corpora(ctx):
    return {c: getattr(ctx.dep, c) for c in CORPORA}


@paper.stage(deps={"model": TINYLM, **CORPORA},
             params=[*TINY, "cherryq.tiny.seed", "cherryq.tiny.ptq.fraction", "cherryq.tiny.qat.fraction"],
             outs={"impact": IMPACT, "hs": "data/cherryq/hs_tiny.json"})
def impact(ctx):
    """Fisher impact of the tiny Llama per calibration subset, and at random init; HS per matrix."""
    from llmrepro import io
    from llmrepro.cherryq.steps import impact as run

    io.write_json(ctx.out.hs, run(ctx.params.cherryq.tiny, ctx.dep.model, _corpora(ctx), ctx.out.impact,
                                  ctx.progress))


@paper.stage(deps={"model": TINYLM, "impact": IMPACT, **CORPORA},
             params=[*TINY, "cherryq.tiny.eval", "cherryq.tiny.ptq"], outs={"result": "data/cherryq/ptq_tiny.json"})
def ptq(ctx):
    """PTQ of the tiny Llama: RTN, GPTQ (also at equal bits), and RTN with cherries by each criterion."""
    from llmrepro import io
    from llmrepro.cherryq.steps import ptq as run

    p = ctx.params.cherryq.tiny
    ctx.record_seeds(p.calib.seeds)
    io.write_json(ctx.out.result, run(p, ctx.dep.model, ctx.dep.impact, _corpora(ctx), ctx.progress))


@paper.stage(deps={"model": TINYLM, "impact": IMPACT, **CORPORA},
             params=[*TINY, "cherryq.tiny.eval", "cherryq.tiny.qat"],
             outs={"result": "data/cherryq/qat.json"}, resources=Resources(runtime=60))
def qat(ctx):
    """QAT with the STE: plain QAT (nominal and equal bits), CherryQ, and random and magnitude cherries."""
    from llmrepro import io
    from llmrepro.cherryq.steps import qat as run

    p = ctx.params.cherryq.tiny
    ctx.record_seeds([*p.calib.seeds, *p.qat.seeds])
    io.write_json(ctx.out.result, run(p, ctx.dep.model, ctx.dep.impact, _corpora(ctx), ctx.progress))


@paper.stage(deps={"model": SMOLLM2, **CORPORA}, params=["cherryq.pretrained"],
             outs={"result": "data/cherryq/pretrained.json"}, resources=Resources(mem_mb=12000, runtime=60))
def pretrained(ctx):
    """A real pretrained LLM (SmolLM2-135M at mini): impact, HS, and PTQ with and without cherries."""
    from llmrepro import io
    from llmrepro.cherryq.steps import pretrained as run

    p = ctx.params.cherryq.pretrained
    ctx.record_seeds(p.calib.seeds)
    io.write_json(ctx.out.result, run(p, ctx.dep.model, _corpora(ctx), ctx.progress))


RESULTS = {"hs": "data/cherryq/hs_tiny.json", "ptq": "data/cherryq/ptq_tiny.json", "qat": "data/cherryq/qat.json",
           "pretrained": "data/cherryq/pretrained.json"}


paper.figures(RESULTS, {"curve": "reports/cherryq/sorted_impact.png", "hs": "reports/cherryq/heterogeneity.png",
                        "bits": "reports/cherryq/ppl_vs_bits.png", "selection": "reports/cherryq/selection.png"},
              desc="Sorted impact, heterogeneity per matrix, perplexity against bits, cherry selection")
paper.report(RESULTS, params=["cherryq.tiny.qat", "cherryq.tiny.calib.length", "cherryq.pretrained.ptq",
                              "cherryq.pretrained.data", "cherryq.pretrained.calib"],
             code=["src/llmrepro/cherryq/history/claims_96c4b20.json",
                   "src/llmrepro/cherryq/history/c2b_seed_diagnosis.json"],
             desc="Claims C1-C4, a Table-1 layout at nominal and equal bits, and the paper's page")


if __name__ == "__main__":
    paper.main()
