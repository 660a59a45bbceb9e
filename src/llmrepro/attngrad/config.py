"""The `attngrad` params section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.pipeline.params import PaperSection, Section, section

Family = Literal["uniform", "hard", "gaussian"]
Poly = Literal["taylor", "chebyshev"]


class Runtime(Section):
    ns: list[int] = Field(min_length=2)
    # Larger n at which only the fast gradient is timed: its slope is fitted where its working set
    # is out of cache too, not across this CPU's cache sizes (exact at such n would take minutes).
    fast_ns: list[int] = []
    # Both gradients stream rows in blocks of at most this many elements per n-wide (exact) or
    # rank-wide (fast) intermediate, so the working set does not grow with n; None: exact in
    # 2048-row blocks and fast all at once, as suits a GPU.
    block_elems: int | None = Field(None, ge=1)
    d: int = Field(8, ge=1, le=64)
    B: float = Field(0.5, gt=0, le=10)
    eps: float = Field(1e-3, gt=0, lt=1)  # the Taylor degree is chosen a priori for this error at |s| <= B^2
    family: Family = "uniform"
    repeats: int = Field(3, ge=1, le=100)
    slope_from: int = Field(1024, ge=1)
    target_n: int = Field(16384, ge=4, le=1 << 20)  # one of ns: the speed-up is read off that row
    target_speedup: float = Field(20.0, gt=0)

    @model_validator(mode="after")
    def _target_in_sweep(self):
        if self.target_n not in self.ns:
            raise ValueError(f"target_n={self.target_n} must be one of ns={self.ns}")
        return self


class ErrorVsB(Section):
    n: int = Field(2048, ge=4, le=1 << 20)
    d: int = Field(6, ge=1, le=64)
    Bs: list[float] = Field(min_length=1)
    degrees: list[int] = Field(min_length=1)
    polys: list[Poly] = Field(["taylor", "chebyshev"], min_length=1)
    family: Family = "uniform"


class Alpha(Section):
    ns: list[int] = Field(min_length=2)
    cs: list[float] = Field(min_length=2)
    seeds: list[int] = Field(min_length=1)
    polys: list[Poly] = Field(["taylor", "chebyshev"], min_length=1)
    max_rank_factor: float = Field(1.0, gt=0, le=16)  # search ranks <= factor * n (alpha up to ~1)
    family: Family = "uniform"
    easy_c: float = Field(0.05, gt=0)
    hard_c: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _grid(self):
        if list(self.cs) != sorted(set(self.cs)):
            raise ValueError(f"cs={self.cs} must be strictly increasing")
        for key in ("easy_c", "hard_c"):
            if getattr(self, key) not in self.cs:
                raise ValueError(f"{key}={getattr(self, key)} must be one of cs={self.cs}")
        return self


class Training(Section):
    n: int = Field(4096, ge=4, le=1 << 20)
    d: int = Field(4, ge=1, le=64)
    B: float = Field(0.5, gt=0, le=10)
    target_scale: float = Field(1.0, ge=0, le=10)
    eps: float = Field(1e-3, gt=0, lt=1)  # Taylor remainder bound at the current X's exponent radius
    steps: int = Field(20, ge=1, le=10_000)
    lr: float = Field(100.0, gt=0)
    target_factor: float = Field(1.01, ge=1.0, le=2.0)  # time to reach this x the exact run's final loss


class Heads(Section):
    seq_len: int = Field(512, ge=2, le=1 << 16)
    windows: int = Field(4, ge=1, le=1000)
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
