"""The `mspoe` params section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmrepro.models.config import ModelSource
from llmrepro.pipeline.params import PaperSection, Section, section


class TaskCfg(Section):
    kind: Literal["kv", "mdqa"]
    n: int = Field(ge=3, le=1000)  # key-value pairs or documents per context
    positions: list[int] = Field(min_length=3)  # gold positions, 0-based: the first, middle ones, the last
    contexts: int = Field(ge=2, le=10_000)  # each context is asked about the item at every position
    candidates: int = Field(0, ge=0)  # answers ranked: the gold one and candidates - 1 others; 0: all n
    sweep: bool = False  # also run the uniform-ratio sweep on this task

    @model_validator(mode="after")
    def _fits(self):
        if any(not 0 <= p < self.n for p in self.positions) or sorted(set(self.positions)) != self.positions:
            raise ValueError(f"positions {self.positions} must be distinct, increasing and inside 0..{self.n - 1}")
        if self.candidates == 1 or self.candidates > self.n:
            raise ValueError(f"candidates = {self.candidates}: use 0 (all {self.n}) or 2..{self.n}")
        return self


class Tasks(Section):
    kv: TaskCfg  # short prompts (a few hundred tokens)
    mdqa: TaskCfg
    long: TaskCfg  # longer prompts, where RoPE's long-range decay acts more (full: 2,000+ tokens)


class MsPoERatios(Section):
    r_min: float = Field(1.2, ge=1.0, le=100.0)
    r_max: float = Field(1.8, ge=1.0, le=100.0)
    skip_layers: int = Field(2, ge=0, le=1000)  # the paper leaves the first two layers unchanged


@section("mspoe")
class MspoeParams(PaperSection):
    model: ModelSource = ModelSource()  # mini: SmolLM2 from the common stages; full: vicuna-7b-v1.5
    tasks: Tasks
    seed: int = Field(0, ge=0)  # task i of kv, mdqa, long draws from seed + i
    batch: int = Field(8, ge=1, le=4096)  # rows per forward pass
    ms_poe: MsPoERatios = MsPoERatios()
    uniform_ratios: list[float] = Field(min_length=1)  # > 1: interpolation; the baseline is r = 1
    n_flips: int = Field(4000, ge=10, le=1_000_000)  # random sign patterns beyond 14 contexts (exact below)

    @model_validator(mode="after")
    def _ratios(self):
        if self.ms_poe.r_max < self.ms_poe.r_min:
            raise ValueError(f"ms_poe: r_max = {self.ms_poe.r_max} is below r_min = {self.ms_poe.r_min}")
        if any(r <= 1.0 for r in self.uniform_ratios):
            raise ValueError(f"uniform_ratios {self.uniform_ratios}: every ratio must exceed 1 (r = 1 is the baseline)")
        return self
