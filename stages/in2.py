"""in2: IN2 training against "natural" long-context supervision, probed VaL-style."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources

paper = Paper("in2", code=["src/llmrepro/in2/config.py"])
RETRIEVAL = "models/in2/retrieval/"
ARMS = ("natural", "natural_long", "in2")


@paper.stage(params=["in2.vocab_keys", "in2.model", "in2.retrieval"],
             outs={"model": RETRIEVAL, "result": "data/in2/retrieval.json"}, resources=Resources(runtime=30))
def retrieval(ctx):
    """Stage 1, one model per seed, shared by every arm: general retrieval on short contexts; fails loudly below the gate"""
    from llmrepro import io
    from llmrepro.in2.steps import retrieval as run

    ctx.record_seeds(ctx.params.in2.retrieval.seeds)
    res = run(ctx.params.in2, ctx.out.model, ctx.progress)
    io.write_json(ctx.out.result, res)
    ctx.record(gate=res["gate"], tokens_per_s=res["tokens_per_s"])


def finetune(ctx, arm: str):
    from llmrepro import io
    from llmrepro.in2.steps import finetune as run

    p = ctx.params.in2
    ctx.record_seeds(p.finetune.seeds)
    io.write_json(ctx.out.result, run(p, arm, ctx.dep.model, ctx.out.models, ctx.progress))


for _arm, _desc in (("natural", "Stage 2, the baseline: shorter contexts, answers mostly in the first/last records"),
                    ("natural_long", "Stage 2, ablation: IN2's context lengths, answers mostly at the ends"),
                    ("in2", "Stage 2, IN2: long contexts, answers anywhere, integration items; same steps and tokens")):
    paper.add(f"finetune_{_arm}", finetune, deps={"model": RETRIEVAL},
              params=["in2.vocab_keys", "in2.retrieval.seeds", "in2.finetune", f"in2.arms.{_arm}",
                      "in2.probe"],
              outs={"result": f"data/in2/{_arm}.json", "models": f"models/in2/{_arm}/"}, args={"arm": _arm},
              resources=Resources(runtime=30), desc=_desc)


@paper.stage(params=["in2.valprobe"], outs={"result": "data/in2/valprobe.json"},
             resources=Resources(runtime=30))
def valprobe(ctx):
    """Full scale: VaL Probing of the paper's models (greedy, the paper's metrics); empty at mini"""
    from llmrepro import io
    from llmrepro.in2.valprobe import run

    io.write_json(ctx.out.result, run(ctx.params.in2.valprobe, ctx.progress))


RESULTS = {"retrieval": "data/in2/retrieval.json", **{a: f"data/in2/{a}.json" for a in ARMS},
           "valprobe": "data/in2/valprobe.json"}

paper.figures(RESULTS, {"position": "reports/in2/acc_by_position.png", "training": "reports/in2/training.png"},
              desc="Accuracy against relative position per probe style (Fig. 1 analogue); training curves")
paper.report(RESULTS, params=["in2.probe", "in2.retrieval.seeds", "in2.finetune", "in2.arms"],
             code=["src/llmrepro/in2/before_revision.json"],
             desc="Claims C1-C4, the Avg/Gap table and the paper's page")


if __name__ == "__main__":
    paper.main()
