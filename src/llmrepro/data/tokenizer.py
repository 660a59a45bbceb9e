"""Tokenizers built with `tokenizers`, wrapped as transformers fast tokenizers so the
from-scratch and pretrained paths share one interface."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIALS = ("<unk>", "<bos>", "<eos>", "<pad>")


def train_bpe(texts: Iterable[str], vocab_size: int, out_dir: Path):
    """Byte-level BPE, as GPT-2 and SmolLM2 use; deterministic for fixed input."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<bos>",
                                   eos_token="<eos>", pad_token="<pad>")
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast


def word_level(words: Iterable[str], out_dir: Path | None = None, extra: Iterable[str] = ()):
    """A closed word-level vocabulary for synthetic worlds: every word is one token."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(dict.fromkeys([*SPECIALS, *extra, *words]))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<bos>",
                                   eos_token="<eos>", pad_token="<pad>")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        fast.save_pretrained(out_dir)
    return fast


def load(path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def encode_corpus(tok, text: str, chunk_chars: int = 1 << 16) -> list[int]:
    """Token ids of a long text, encoded in line-aligned chunks (fast and memory-flat)."""
    ids: list[int] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + chunk_chars)
        end = len(text) if end == -1 else end + 1
        ids += tok(text[start:end], add_special_tokens=False)["input_ids"]
        start = end
    return ids


def train_on_corpora(corpus_dirs: list[Path], vocab_size: int, out_dir: Path):
    """BPE on the train splits of prepared corpora."""
    from llmrepro.data.corpora import read_split

    lines = [ln for d in corpus_dirs for ln in read_split(d, "train").splitlines() if ln.strip()]
    return train_bpe(lines, vocab_size, out_dir)
