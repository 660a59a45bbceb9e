"""Pretraining of the shared from-scratch tiny Llama."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from llmrepro.data import corpora as C
from llmrepro.data import tokenizer as T


def pretrain_tinylm(ctx, run, tok_dir: Path, corpus_dirs: list[Path], out_dir: Path) -> dict[str, Any]:
    import torch

    from llmrepro.models import factory, train
    from llmrepro.models.evaluate import perplexity, unigram_perplexity

    tok = T.load(tok_dir)
    ctx.seed(run.seed)
    train_ids = np.concatenate([np.asarray(T.encode_corpus(tok, C.read_split(d, "train")) + [tok.eos_token_id])
                                for d in corpus_dirs])
    valid = {d.name: np.asarray(T.encode_corpus(tok, C.read_split(d, "valid"))) for d in corpus_dirs}
    ctx.log.info("train stream: %d tokens; valid: %s", len(train_ids), {k: len(v) for k, v in valid.items()})
    model = factory.build(run.model, len(tok), seed=run.seed)
    ctx_len = run.model.context

    def evaluate(m) -> dict[str, float]:
        return {f"val_ppl_{k}": perplexity(m, v, ctx_len, run.eval_windows, batch=16)["ppl"] for k, v in valid.items()}

    with torch.no_grad():
        start = {"step": 0, **evaluate(model)}
    next_batch = train.window_batches(train_ids, run.train.batch, ctx_len, run.seed)
    hist, opt = train.train(model, next_batch, run.train, evaluate=evaluate, progress=ctx.progress)
    hist["eval"].insert(0, start)
    n = factory.n_params(model)
    hist.update(
        params=n, vocab=len(tok), context=ctx_len, train_tokens_available=int(len(train_ids)),
        flops_per_token=train.flops_per_token(n, run.model.layers, ctx_len, run.model.hidden),
        unigram_ppl={k: unigram_perplexity(train_ids, v, len(tok)) for k, v in valid.items()},
    )
    train.save_checkpoint(out_dir, model, opt, tok, meta={k: v for k, v in hist.items()
                                                          if k not in ("step", "loss", "lr", "eval")})
    ctx.record(tokens_per_s=hist["tokens_per_s"], params=n)
    return hist
