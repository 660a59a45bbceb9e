"""facts: knowledge acquisition and forgetting during (continued) pretraining of a tiny LM."""

from __future__ import annotations

from llmrepro.pipeline import Curve, Paper, Resources

paper = Paper("facts", code=["src/llmrepro/facts/config.py"])
WORLD = "data/facts/world/"
WORLD_PARAMS = ["facts.world", "facts.world_seeds"]


@paper.stage(params=WORLD_PARAMS, outs={"world": WORLD}, light=True)
def world(ctx):
    """Per world seed: the background world, the fictional entities, their probes, and a word-level tokenizer."""
    from llmrepro.facts.steps import make_world

    make_world(ctx.params.facts, ctx.out.world)


def pretrain(ctx, size: str):
    from llmrepro import io
    from llmrepro.facts.steps import pretrain as run

    p = ctx.params.facts
    ctx.seed(getattr(p.models, size).seed)
    io.write_json(ctx.out.model / "pretrain.json", run(p, size, ctx.dep.world, ctx.out.model, ctx.progress))


for _size in ("base", "small"):
    paper.add(f"pretrain_{_size}", pretrain, deps={"world": WORLD},
              params=["facts.world", "facts.world_seeds", f"facts.models.{_size}"],
              outs={"model": f"models/facts/{_size}/"}, args={"size": _size}, resources=Resources(runtime=30),
              desc=f"Pretrain the {_size} model on each world's background stream (weights and optimizer state kept)")


def inject(ctx, variant: str):
    from llmrepro.facts.steps import inject as run

    p = ctx.params.facts
    ctx.record_seeds(p.inject.seeds)
    run(p, variant, ctx.dep.world, ctx.dep.model, ctx.out.runs, ctx.progress)


for _variant, _size, _desc in (("base", "base", "Inject fictional knowledge into the base model, batch B"),
                               ("large_batch", "base", "The same at a larger batch, learning rate and injected fraction fixed"),
                               ("small_model", "small", "The same on the smaller model")):
    paper.add(f"inject_{_variant}", inject, deps={"world": WORLD, "model": f"models/facts/{_size}/"},
              params=["facts.world", "facts.world_seeds", "facts.inject",
                      *(["facts.large_batch_scale"] if _variant == "large_batch" else [])],
              outs={"runs": f"data/facts/{_variant}/"}, args={"variant": _variant},
              resources=Resources(runtime=30), desc=_desc)

RESULTS = {v: f"data/facts/{v}/" for v in ("base", "large_batch", "small_model")}


paper.figures(RESULTS, {"dlogprob": "reports/facts/dlogprob.png", "effectivity": "reports/facts/effectivity.png",
                        "retainability": "reports/facts/retainability.png"},
              desc="Fig. 2 and Fig. 4 analogues, and effectivity bars",
              curves={"retainability_data": Curve("reports/facts/plots/retainability.json", x="t", y="R",
                                                  title="Retainability of memorization probes against t (base)",
                                                  x_label="steps after the last injection's peak",
                                                  y_label="R(t), seed mean", template="scatter")})
paper.report(RESULTS, params=["facts.world", "facts.models"], code=["src/llmrepro/facts/before_review.json"],
             desc="Claims C1-C6, the forgetting-fit table, the claim changes and the paper's page")


if __name__ == "__main__":
    paper.main()
