"""mspoe: Ms-PoE on a real pretrained RoPE LLM, against the baseline and uniform interpolation."""

from __future__ import annotations

from llmrepro.pipeline import Curve, Paper, Resources
from stages.common import SMOLLM2

paper = Paper("mspoe", code=["src/llmrepro/mspoe/config.py"])
SCORES = "data/mspoe/scores.json"


@paper.stage(deps={"model": SMOLLM2}, outs={"scores": SCORES}, resources=Resources(mem_mb=6000, runtime=30),
             params=["mspoe.model", "mspoe.tasks", "mspoe.seed", "mspoe.batch", "mspoe.ms_poe",
                     "mspoe.uniform_ratios"])
def evaluate(ctx):
    """Every task under the baseline, Ms-PoE (both head orders) and uniform interpolation; the model loads once."""
    from llmrepro import io
    from llmrepro.mspoe.steps import evaluate as run

    io.write_json(ctx.out.scores, run(ctx.params.mspoe, ctx.dep.model, ctx.progress))


paper.figures({"scores": SCORES}, {"position": "reports/mspoe/acc_by_position.png",
                                   "sweep": "reports/mspoe/uniform_sweep.png",
                                   "heads": "reports/mspoe/head_scores.png"},
              desc="Accuracy against gold position, the uniform-ratio sweep, per-head outlier scores",
              curves={"position_data": Curve("reports/mspoe/plots/accuracy_by_position.json", x="relative_position",
                                             y="accuracy", title="Accuracy against gold position (all tasks)",
                                             x_label="gold position / last position", y_label="accuracy",
                                             template="scatter")})
paper.report({"scores": SCORES}, params=["mspoe.n_flips", "mspoe.seed", "mspoe.tasks", "mspoe.uniform_ratios",
                                         "mspoe.ms_poe", "mspoe.model"],
             desc="Claims C1-C3 and the paper's page")


if __name__ == "__main__":
    paper.main()
