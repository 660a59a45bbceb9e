"""The `attngrad` params section."""

from __future__ import annotations

from typing import Literal

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.pipeline.params import PaperSection, Section, section

Family = Literal["hard", "gaussian"]


class Runtime(Section):
    ns: list[int]
    d: int = 8
    B: float = 0.5
    eps: float = 1e-3  # the Taylor degree is chosen a priori for this error at |s| <= B^2
    family: Family = "hard"
    repeats: int = 3
    slope_from: int = 1024
    target_n: int = 16384
    target_speedup: float = 20.0


class ErrorVsB(Section):
    n: int = 2048
    d: int = 6
    Bs: list[float]
    degrees: list[int]
    polys: list[Literal["taylor", "chebyshev"]] = ["taylor", "chebyshev"]
    family: Family = "hard"


class Alpha(Section):
    ns: list[int]
    cs: list[float]
    seeds: list[int]
    max_rank_factor: int = 4
    family: Family = "hard"
    easy_c: float = 0.05
    hard_c: float = 0.3


class Training(Section):
    n: int = 4096
    d: int = 4
    B: float = 0.5
    target_scale: float = 1.0
    bound_margin: float = 1.5
    eps: float = 1e-3
    steps: int = 20
    lr: float = 100.0


class Heads(Section):
    seq_len: int = 512
    windows: int = 4
    hub_models: list[HubRef] = []  # full scale: GPT-2 and Pythia-160m
    hub_dataset: HubDataset | None = None  # full scale: wikitext-2


@section("attngrad")
class AttngradParams(PaperSection):
    seed: int = 0
    device: Literal["cpu", "cuda"] = "cpu"
    runtime: Runtime
    error_vs_b: ErrorVsB
    alpha: Alpha
    training: Training
    heads: Heads
