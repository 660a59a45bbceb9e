"""hwgpt: a hardware-aware GPT benchmark measured on this CPU (HW-GPT-Bench at mini scale):
supernet, standalone checks, latency and memory, surrogates, multi-objective search."""

from __future__ import annotations

from llmrepro.common.config import CORPORA
from llmrepro.pipeline import Paper, Resources

paper = Paper("hwgpt", code=["src/llmrepro/hwgpt/config.py"])
TOKENS = "data/hwgpt/tokens/"
SUPERNET = "models/hwgpt/supernet/"
TOKENIZER = "data/common/tokenizer/"
CORPUS = "data/common/corpora/{}/"
PPL = "data/hwgpt/perplexity.json"
HARDWARE = "data/hwgpt/hardware.json"
MACHINE = "data/hwgpt/machine.json"
SURROGATES = "data/hwgpt/surrogates/"
SEARCH = "data/hwgpt/search.json"
STANDALONE = "data/hwgpt/standalone.json"


@paper.stage(deps={"tokenizer": TOKENIZER, **{c: CORPUS.format(c) for c in CORPORA}},
             params=["hwgpt.space.context", "hwgpt.data"], outs={"tokens": TOKENS})
def tokens(ctx):
    """Tokenise the common corpora once: the training stream and fixed validation windows."""
    from llmrepro.hwgpt.steps import tokens as run

    ctx.record(**run(ctx.params.hwgpt, ctx.dep.tokenizer, [getattr(ctx.dep, c) for c in CORPORA], ctx.out.tokens))


@paper.stage(deps={"tokens": TOKENS}, params=["hwgpt.space", "hwgpt.supernet", "hwgpt.data.eval_batch"],
             outs={"model": SUPERNET}, resources=Resources(runtime=30))
def supernet(ctx):
    """Train the weight-sharing supernet with the sandwich rule (largest, smallest, random subnets)."""
    from llmrepro.hwgpt.steps import supernet as run

    ctx.seed(ctx.params.hwgpt.supernet.seed)
    run(ctx, ctx.params.hwgpt, ctx.dep.tokens, ctx.out.model)


@paper.stage(deps={"tokens": TOKENS},
             params=["hwgpt.space", "hwgpt.supernet.train", "hwgpt.standalone", "hwgpt.data.eval_batch"],
             outs={"result": STANDALONE}, resources=Resources(runtime=30))
def standalone(ctx):
    """Train a spread of architectures from scratch with the supernet's schedule (for C3)."""
    from llmrepro import io
    from llmrepro.hwgpt.steps import standalone as run

    p = ctx.params.hwgpt
    ctx.record_seeds([p.standalone.seed, p.standalone.seed + 1])
    io.write_json(ctx.out.result, run(ctx, p, ctx.dep.tokens))


@paper.stage(deps={"tokens": TOKENS, "model": SUPERNET},
             params=["hwgpt.space", "hwgpt.perplexity", "hwgpt.standalone", "hwgpt.data.eval_batch"],
             outs={"result": PPL})
def perplexity(ctx):
    """Validation perplexity of sampled architectures with weights inherited from the supernet."""
    from llmrepro import io
    from llmrepro.hwgpt.steps import perplexity as run

    ctx.record_seeds([ctx.params.hwgpt.perplexity.sample_seed])
    io.write_json(ctx.out.result, run(ctx, ctx.params.hwgpt, ctx.dep.tokens, ctx.dep.model))


@paper.stage(params=["hwgpt.hardware.kind"], outs={"machine": MACHINE}, light=True, always_changed=True)
def machine(ctx):
    """The fingerprint of the machine the latencies belong to, read on every `dvc repro`.

    Its output changes only on another machine, and then the latencies and all that depends on
    them are measured again: results of another CPU are never reused silently."""
    from llmrepro import io
    from llmrepro.hwgpt.machine import fingerprint

    io.write_json(ctx.out.machine, {"machine": fingerprint(ctx.params.hwgpt.hardware.kind)})


@paper.stage(deps={"tokenizer": TOKENIZER, "machine": MACHINE},
             params=["hwgpt.space", "hwgpt.perplexity", "hwgpt.hardware"],
             outs={"result": HARDWARE}, resources=Resources(threads=2, runtime=30))
def hardware(ctx):
    """Latency on two devices (1 thread batch 1; 2 threads batch 8), memory, machine fingerprint and load."""
    from llmrepro import io
    from llmrepro.hwgpt.steps import hardware as run

    p = ctx.params.hwgpt
    ctx.record_seeds([p.perplexity.sample_seed, p.hardware.order_seed])
    from llmrepro.data.tokenizer import load

    vocab = len(load(ctx.dep.tokenizer))
    doc = run(ctx, p, vocab, io.read_json(ctx.dep.machine)["machine"])
    ctx.record(machine=doc["machine"], measure_s=doc["measure_s"], load_before=doc["load_before"])
    io.write_json(ctx.out.result, doc)


@paper.stage(deps={"ppl": PPL, "hardware": HARDWARE}, params=["hwgpt.space", "hwgpt.surrogates"],
             outs={"surrogates": SURROGATES})
def surrogates(ctx):
    """Surrogates (MLP, deep ensemble, conformal quantile GBM, homoscedastic GP): held-out accuracy and
    calibration, and the benchmark table over the whole space."""
    from llmrepro import io
    from llmrepro.hwgpt.steps import surrogates as run

    ctx.record_seeds([*ctx.params.hwgpt.surrogates.split_seeds, ctx.params.hwgpt.surrogates.ensemble.seed])
    run(ctx, ctx.params.hwgpt, io.read_json(ctx.dep.ppl), io.read_json(ctx.dep.hardware), ctx.out.surrogates)


@paper.stage(deps={"surrogates": SURROGATES}, params=["hwgpt.space", "hwgpt.search"], outs={"result": SEARCH},
             resources=Resources(runtime=30))
def search(ctx):
    """RS, LS, NSGA-II, MOEA/D and ParEGO on the surrogate benchmark, per device, over seeds."""
    from llmrepro import io
    from llmrepro.hwgpt.steps import search as run

    ctx.record_seeds(ctx.params.hwgpt.search.seeds)
    io.write_json(ctx.out.result, run(ctx, ctx.params.hwgpt, ctx.dep.surrogates))


RESULTS = {"supernet": SUPERNET, "standalone": STANDALONE, "ppl": PPL, "hardware": HARDWARE,
           "surrogates": SURROGATES, "search": SEARCH}

paper.figures(RESULTS, {"hetero": "reports/hwgpt/latency_std_vs_mean.png",
                        "calibration": "reports/hwgpt/calibration.png",
                        "predicted": "reports/hwgpt/predicted_vs_measured.png",
                        "fronts": "reports/hwgpt/pareto_fronts.png",
                        "hv": "reports/hwgpt/hypervolume.png",
                        "supernet": "reports/hwgpt/supernet_vs_standalone.png"},
              desc="Heteroscedasticity, calibration, predicted vs measured, Pareto fronts, hypervolume, C3")
paper.report(RESULTS, params=["hwgpt.space", "hwgpt.hardware", "hwgpt.search", "hwgpt.surrogates", "hwgpt.standalone"],
             desc="Claims C1-C4 and the paper's page")


if __name__ == "__main__":
    paper.main()
