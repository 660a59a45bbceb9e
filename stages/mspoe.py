"""mspoe: Ms-PoE on a real pretrained RoPE LLM, against the baseline and uniform interpolation."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources
from stages.common import SMOLLM2

paper = Paper("mspoe", code=["src/llmrepro/mspoe/config.py"])
EVAL_PARAMS = ["mspoe.model", "mspoe.tasks", "mspoe.per_position", "mspoe.seed", "mspoe.batch"]


def evaluate(ctx, variant: str):
    from llmrepro import io
    from llmrepro.mspoe.steps import evaluate as run

    io.write_json(ctx.out.result, run(ctx.params.mspoe, ctx.dep.model, variant, ctx.progress))


for _variant, _extra, _desc in (
        ("baseline", [], "SmolLM2 without any change"),
        ("sequential", ["mspoe.ms_poe"], "Ms-PoE, ratios assigned in head order"),
        ("outlier", ["mspoe.ms_poe"], "Ms-PoE, ratios assigned by attention-outlier score at prefill"),
        ("uniform", ["mspoe.uniform_ratios"], "Uniform position interpolation at several ratios")):
    paper.add(_variant, evaluate, deps={"model": SMOLLM2}, params=[*EVAL_PARAMS, *_extra],
              outs={"result": f"data/mspoe/{_variant}.json"}, args={"variant": _variant},
              resources=Resources(mem_mb=6000, runtime=30), desc=_desc)

RESULTS = {k: f"data/mspoe/{k}.json" for k in ("baseline", "sequential", "outlier", "uniform")}


paper.figures(RESULTS, {"position": "reports/mspoe/acc_by_position.png", "sweep": "reports/mspoe/uniform_sweep.png",
                        "heads": "reports/mspoe/head_scores.png"},
              desc="Accuracy against gold position, the uniform-ratio sweep, per-head outlier scores")
paper.report(RESULTS, params=["mspoe.n_boot"], desc="Claims C1-C3 and the paper's page")


if __name__ == "__main__":
    paper.main()
