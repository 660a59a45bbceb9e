"""sami: self-supervised alignment with mutual information, on a synthetic principle-following world."""

from __future__ import annotations

import time

from llmrepro.pipeline import Paper, Resources

paper = Paper("sami", code=["src/llmrepro/sami/config.py"])
MODELS = "models/sami/"
PRETRAIN = "data/sami/pretrain/"
WORLD = ["sami.world", "sami.world_seed", "sami.seeds", "sami.eval", "sami.schedule.max_new", "sami.paper_scale"]
ARMS = {"sami": "SAMI: 3 iterations from the base, symmetric InfoNCE on self-generated pairs",
        "sft": "Self-SFT control: the same data sizes, steps and learning rate, NLL of the diagonal",
        "ablate": "One-sided losses: rows only (contrast over responses), columns only (over constitutions)"}


@paper.stage(params=[*WORLD, "sami.pretrain"], outs={"models": MODELS, "evals": PRETRAIN},
             resources=Resources(runtime=60))
def pretrain(ctx):
    """Per seed: the base LM (weak constitution-behaviour link) and the instruct baseline, evaluated."""
    from llmrepro.sami.steps import pretrain as run

    ctx.record_seeds(ctx.params.sami.seeds)
    run(ctx.params.sami, ctx.out.models, ctx.out.evals, ctx.progress)
    ctx.record(cpu_s=round(time.process_time(), 1))  # this process's CPU seconds, imports included


def iterate(ctx, arm: str):
    from llmrepro.sami.steps import iterate as run

    ctx.record_seeds(ctx.params.sami.seeds)
    run(ctx.params.sami, arm, ctx.dep.models, ctx.out.runs, ctx.progress)
    ctx.record(cpu_s=round(time.process_time(), 1))


for _arm, _desc in ARMS.items():
    paper.add(f"iterate_{_arm}", iterate, deps={"models": MODELS}, params=[*WORLD, "sami.schedule"],
              outs={"runs": f"data/sami/{_arm}/"}, args={"arm": _arm}, resources=Resources(runtime=60), desc=_desc)


@paper.stage(deps={"models": MODELS}, params=[*WORLD, "sami.schedule", "sami.overtrain"],
             outs={"runs": "data/sami/overtrain/"}, resources=Resources(runtime=60))
def overtrain(ctx):
    """Over-training control: one SAMI iteration run for many times the paper-like step count."""
    from llmrepro.sami.steps import overtrain as run

    ctx.record_seeds(ctx.params.sami.seeds)
    run(ctx.params.sami, ctx.dep.models, ctx.out.runs, ctx.progress)
    ctx.record(cpu_s=round(time.process_time(), 1))


RUNS = {"pretrain": PRETRAIN, **{a: f"data/sami/{a}/" for a in ARMS}, "overtrain": "data/sami/overtrain/"}


@paper.stage(deps=RUNS, params=["sami.seeds", "sami.judge_seed", "sami.noisy_judge", "sami.schedule.steps",
                                "sami.overtrain.evaluate_at", "sami.paper_scale"],
             outs={"judged": "data/sami/judged.json"}, light=True)
def judge(ctx):
    """Pairwise judging under `brief all` against the base and the instruct model, A/B order randomized."""
    from llmrepro import io
    from llmrepro.sami.verdicts import judge_all

    p = ctx.params.sami
    ctx.record_seeds([p.judge_seed])
    io.write_json(ctx.out.judged, judge_all(p, {k: getattr(ctx.dep, k) for k in RUNS}))


RESULTS = {**RUNS, "judged": "data/sami/judged.json"}

paper.figures(RESULTS, {"mi": "reports/sami/mi_bound.png", "win": "reports/sami/win_rates.png",
                        "length": "reports/sami/length.png", "principles": "reports/sami/principles.png",
                        "overtrain": "reports/sami/overtrain.png"},
              code=["src/llmrepro/sami/report.py"],
              desc="MI bound (Fig. 2a), win rates (Fig. 2b/4), length, per-principle adherence, over-training")
paper.report(RESULTS, params=["sami.seeds", "sami.schedule", "sami.world", "sami.overtrain"],
             code=["src/llmrepro/sami/before_seed_shift.json"], desc="Claims C1-C5 and the paper's page")


if __name__ == "__main__":
    paper.main()
