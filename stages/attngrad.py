"""attngrad: exact vs polynomial-method attention gradients, and the sqrt(log n) threshold."""

from __future__ import annotations

from llmrepro.pipeline import Curve, Paper, Resources
from stages.common import CORPUS, SMOLLM2

paper = Paper("attngrad", code=["src/llmrepro/attngrad/config.py"])
# Timing stages should not share the CPU (run them with -c2 alone if timings matter). The scaling
# sweep runs on one thread: on two, process CPU time also counts the second thread switching on at
# large n, which moved the slopes by CPU model.
TIMED = Resources(threads=2, mem_mb=12000, runtime=30)
SCALING = Resources(threads=1, mem_mb=12000, runtime=30)


@paper.stage(params=["attngrad.runtime", "attngrad.seed", "attngrad.device"],
             outs={"result": "data/attngrad/runtime.json"}, resources=SCALING)
def runtime(ctx):
    """(a) Exact O(n^2 d) against fast O(n k d^2) gradient time over n."""
    from llmrepro import io
    from llmrepro.attngrad.experiments import runtime as run

    p = ctx.params.attngrad
    io.write_json(ctx.out.result, run(p.runtime, ctx.seed(p.seed), p.device, ctx.progress))


@paper.stage(params=["attngrad.error_vs_b", "attngrad.seed", "attngrad.device"],
             outs={"result": "data/attngrad/error_vs_b.json"})
def error_vs_b(ctx):
    """(b1) Gradient error against the entry bound B at fixed rank budgets."""
    from llmrepro import io
    from llmrepro.attngrad.experiments import threshold_error

    p = ctx.params.attngrad
    io.write_json(ctx.out.result, threshold_error(p.error_vs_b, ctx.seed(p.seed), p.device, ctx.progress))


@paper.stage(params=["attngrad.alpha", "attngrad.device"], outs={"result": "data/attngrad/alpha.json"},
             resources=Resources(mem_mb=12000))
def alpha(ctx):
    """(b2) Rank exponent alpha = ln(rank)/ln(n) needed for error 1/n, against c = B^2/ln n."""
    from llmrepro import io
    from llmrepro.attngrad.experiments import threshold_alpha

    p = ctx.params.attngrad
    ctx.record_seeds(p.alpha.seeds)
    io.write_json(ctx.out.result, threshold_alpha(p.alpha, p.device, ctx.progress))


@paper.stage(params=["attngrad.training", "attngrad.seed", "attngrad.device"],
             outs={"result": "data/attngrad/training.json"}, resources=TIMED)
def training(ctx):
    """(c) Gradient descent on L(X) with the fast and the exact gradient."""
    from llmrepro import io
    from llmrepro.attngrad.experiments import training as run

    p = ctx.params.attngrad
    io.write_json(ctx.out.result, run(p.training, ctx.seed(p.seed), p.device, ctx.progress))


@paper.stage(deps={"model": SMOLLM2, "corpus": CORPUS.format("shakespeare")},
             params=["attngrad.heads"], outs={"result": "data/attngrad/heads.json"}, resources=Resources(mem_mb=6000))
def heads(ctx):
    """Where real LLM heads sit: per-head entry bound B and c = B^2/ln n."""
    from llmrepro import io
    from llmrepro.attngrad.steps import real_heads

    io.write_json(ctx.out.result, real_heads(ctx.params.attngrad.heads, ctx.dep.model, ctx.dep.corpus))


RESULTS = {k: f"data/attngrad/{k}.json" for k in ("runtime", "error_vs_b", "alpha", "training", "heads")}
FIGURES = {"runtime": "reports/attngrad/runtime.png", "error_vs_b": "reports/attngrad/error_vs_b.png",
           "alpha": "reports/attngrad/alpha_vs_c.png", "training": "reports/attngrad/training.png",
           "heads": "reports/attngrad/real_heads.png"}


paper.figures(RESULTS, FIGURES, desc="Time against n, error against B, alpha against c, training curves, real heads",
              curves={"runtime_data": Curve("reports/attngrad/plots/runtime.json", x="n", y="cpu_s",
                                            title="Gradient CPU time against n (exact and fast)", x_label="n",
                                            y_label="CPU seconds (median)", template="scatter")})
paper.report(RESULTS, desc="Claims C1-C4 and the paper's page")


if __name__ == "__main__":
    paper.main()
