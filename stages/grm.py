"""grm: reward models regularized by text generation (GRM) against Bradley-Terry and its baselines."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources
from stages.common import SMOLLM2

paper = Paper("grm", code=["src/llmrepro/grm/config.py"])
WORLD = "data/grm/world.json"
CACHE = "data/grm/cache/"
RUNS = "data/grm/runs.json"
WORLD_PARAMS = ["grm.world", "grm.world_seeds"]


@paper.stage(params=WORLD_PARAMS, outs={"world": WORLD}, light=True)
def world(ctx):
    """Worlds of digit tasks with a gold reward, preference pairs with a spurious marker, test sets, BoN prompts."""
    from llmrepro import io
    from llmrepro.grm.world import make_worlds

    ctx.record_seeds(ctx.params.grm.world_seeds)
    io.write_json(ctx.out.world, make_worlds(ctx.params.grm.world, ctx.params.grm.world_seeds))


@paper.stage(deps={"world": WORLD, "model": SMOLLM2}, params=[*WORLD_PARAMS, "grm.backbone", "grm.bon_seed"],
             outs={"cache": CACHE}, resources=Resources(mem_mb=8000, runtime=30))
def cache(ctx):
    """The frozen trunk, run once: states at the top MLP's input for every response, and BoN samples."""
    from llmrepro import io
    from llmrepro.grm.backbone import run

    ctx.record_seeds([ctx.params.grm.bon_seed])
    ctx.record(**run(ctx.params.grm, io.read_json(ctx.dep.world), ctx.dep.model, ctx.out.cache, ctx.progress))


@paper.stage(deps={"world": WORLD, "cache": CACHE, "model": SMOLLM2},
             params=[*WORLD_PARAMS, "grm.backbone", "grm.rm"], outs={"runs": RUNS},
             resources=Resources(mem_mb=8000, runtime=60))
def train(ctx):
    """Every reward model (method x preference-set size x seed) on the cache, scored on all test sets and BoN."""
    from llmrepro import io
    from llmrepro.grm.experiment import run_all

    ctx.record_seeds(ctx.params.grm.rm.seeds)
    io.write_json(ctx.out.runs, run_all(ctx.params.grm, io.read_json(ctx.dep.world), ctx.dep.cache, ctx.dep.model,
                                        progress=ctx.progress))


RESULTS = {"runs": RUNS, "world": WORLD}
paper.figures(RESULTS, {"accuracy": "reports/grm/accuracy.png", "sizes": "reports/grm/sizes.png",
                        "bon": "reports/grm/bon.png"},
              desc="ID/OOD accuracy bars, OOD accuracy against set size, best-of-n gold and proxy curves")
paper.report(RESULTS, params=["grm.rm", "grm.claims"], desc="Claims C1-C4, a Table 1 layout, the page")


if __name__ == "__main__":
    paper.main()
