"""freq: concept frequency and zero-shot performance; replay of the released data and a Zipf-CLIP."""

from __future__ import annotations

from llmrepro.pipeline import Curve, Paper, Resources

paper = Paper("freq", code=["src/llmrepro/freq/config.py"])
RELEASED = "data/freq/released/"
WORLDS = "data/freq/worlds/"
MODELS = "models/freq/"


@paper.stage(params=["freq.source", "freq.replay"], outs={"released": RELEASED}, light=True)
def download(ctx):
    """Fetch the paper's released counts, per-concept accuracies and vector figures at the pinned commit."""
    from llmrepro import io
    from llmrepro.data.sources import fetch_github
    from llmrepro.freq.replay import files

    p = ctx.params.freq
    got = [fetch_github(p.source, f, ctx.out.released) for f in files(p.replay)]
    io.write_json(ctx.out.released / "source.json", {"repo": p.source.repo, "commit": p.source.commit, "files": got})


@paper.stage(deps={"released": RELEASED},
             params=["freq.replay"], outs={"result": "data/freq/replay.json"}, light=True)
def replay(ctx):
    """Recompute the binned rho that the authors' figures print, the per-concept statistics and the Let It Wag! gap."""
    from llmrepro import io
    from llmrepro.freq.replay import replay as run

    io.write_json(ctx.out.result, run(ctx.dep.released, ctx.params.freq.replay))


@paper.stage(params=["freq.mini.world", "freq.mini.seeds", "freq.mini.control"], outs={"worlds": WORLDS})
def world(ctx):
    """Seeded Zipf image-text worlds (one per seed) and uniform-frequency controls (one per control seed)."""
    from llmrepro.freq.experiment import make_worlds

    p = ctx.params.freq.mini
    ctx.record_seeds([*p.seeds, *p.control.seeds])
    make_worlds(p, ctx.out.worlds)


@paper.stage(deps={"worlds": WORLDS},
             params=["freq.mini"], outs={"counts": "data/freq/counts.json"})
def extract(ctx):
    """Concept extraction: lemmatised inverted index (and a lowercased ablation), an image
    tagger at threshold 0.7, integrated counts, and their fidelity to the ground truth."""
    from llmrepro import io
    from llmrepro.freq.experiment import extract_all

    io.write_json(ctx.out.counts, extract_all(ctx.params.freq.mini, ctx.dep.worlds))


@paper.stage(deps={"worlds": WORLDS},
             params=["freq.mini"], outs={"models": MODELS}, resources=Resources(runtime=30))
def train(ctx):
    """A tiny CLIP (CLIPTextModel + MLP image tower) per world, symmetric InfoNCE."""
    from llmrepro.freq.experiment import train_all

    p = ctx.params.freq.mini
    ctx.record_seeds([*p.seeds, *p.control.seeds])
    train_all(p, ctx.dep.worlds, ctx.out.models, ctx.progress)


@paper.stage(deps={"worlds": WORLDS, "models": MODELS}, params=["freq.mini"],
             outs={"result": "data/freq/zeroshot.json"})
def zeroshot(ctx):
    """Per-concept zero-shot accuracy over all K concepts, prompt ensemble."""
    from llmrepro import io
    from llmrepro.freq.experiment import zero_shot_all

    io.write_json(ctx.out.result, zero_shot_all(ctx.params.freq.mini, ctx.dep.worlds, ctx.dep.models))


RESULTS = {"replay": "data/freq/replay.json", "counts": "data/freq/counts.json", "zeroshot": "data/freq/zeroshot.json"}


paper.figures(RESULTS, {"replay": "reports/freq/replay_log_linear.png", "mini": "reports/freq/mini_log_linear.png",
                        "tail": "reports/freq/long_tail.png", "wag": "reports/freq/rarest_decile.png",
                        "control": "reports/freq/uniform_control.png"},
              desc="Replay and mini log-linear plots, long tail, rarest decile, uniform control",
              curves={"accuracy_data": Curve("reports/freq/plots/accuracy_vs_frequency.json", x="log10_frequency",
                                             y="accuracy", title="Zero-shot accuracy against counted frequency",
                                             x_label="log10 counted frequency", y_label="accuracy (%)",
                                             template="scatter")})
paper.report(RESULTS, params=["freq.mini.seeds", "freq.mini.control", "freq.mini.min_bin"],
             code=["src/llmrepro/freq/before_worlds_t.json"],
             desc="Claims C1-C6 and the paper's page")


if __name__ == "__main__":
    paper.main()
