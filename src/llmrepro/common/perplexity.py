"""SmolLM2's perplexity on held-out text, next to a unigram model on the same tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmrepro import io
from llmrepro.data import corpora as C
from llmrepro.data import tokenizer as T
from llmrepro.data.sources import load_hub_text


def smollm2_perplexity(model_dir: Path, corpus_dirs: dict[str, Path], cfg, progress=None) -> dict[str, Any]:
    from llmrepro.models.evaluate import perplexity, unigram_perplexity
    from llmrepro.models.factory import load_causal_lm

    model, tok = load_causal_lm(model_dir)
    out: dict[str, Any] = {"model": io.read_json(model_dir / "source.json"), "seq_len": cfg.seq_len}
    texts = {name: (C.read_split(d, "train"), C.read_split(d, "test")) for name, d in corpus_dirs.items()}
    if cfg.hub_dataset is not None:
        texts[cfg.hub_dataset.id.split("/")[-1]] = (None, load_hub_text(cfg.hub_dataset))
    for name, (train, test) in texts.items():
        test_ids = T.encode_corpus(tok, test)
        res = perplexity(model, test_ids, cfg.seq_len, cfg.max_windows, cfg.batch, progress)
        if train is not None:
            # The unigram model is scored on exactly the tokens the LM predicted.
            from llmrepro.models.evaluate import windows

            scored = windows(test_ids, cfg.seq_len, cfg.max_windows)[:, 1:].ravel()
            res["unigram_ppl"] = unigram_perplexity(T.encode_corpus(tok, train), scored, len(tok))
            res["ratio_to_unigram"] = {"value": res["ppl"] / res["unigram_ppl"],
                                       "ci": [x / res["unigram_ppl"] for x in res["ppl_ci"] or []] or None}
        out[name] = res
    return out
