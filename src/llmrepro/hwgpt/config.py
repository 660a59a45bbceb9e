"""The `hwgpt` params section (schema only: no torch, so validating params stays fast)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.models.config import TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section

Choice = list[int]
METHODS = ("rs", "ls", "nsga2", "moead", "parego")
SURROGATES = ("mlp", "ensemble", "quantile", "gp")


class SpaceCfg(Section):
    """Embedding width (one per network), layer count, per-layer heads and MLP ratio."""

    embed: Choice = Field(min_length=2)
    layers: Choice = Field(min_length=2)
    heads: Choice = Field(min_length=2)
    mlp_ratio: Choice = Field(min_length=2)
    head_size: int = Field(ge=1, le=256)
    context: int = Field(ge=4, le=4096)
    max_size: int = Field(100_000, ge=10)  # the space is enumerated: refuse one too large to score whole

    @model_validator(mode="after")
    def _choices(self):
        for name in ("embed", "layers", "heads", "mlp_ratio"):
            v = getattr(self, name)
            if len(set(v)) != len(v) or min(v) < 1 or max(v) > 8192:
                raise ValueError(f"{name}={v}: choices must be distinct integers in [1, 8192]")
        per_layer = len(self.heads) * len(self.mlp_ratio)
        size = len(self.embed) * sum(per_layer ** L for L in self.layers)
        if size > self.max_size:
            raise ValueError(f"the space has {size} architectures, more than max_size={self.max_size}: "
                             "it must stay small enough to enumerate")
        return self


class DataCfg(Section):
    eval_windows: int = Field(ge=2, le=100_000)  # fixed validation windows per corpus (context tokens each)
    eval_batch: int = Field(ge=1, le=4096)
    hub_dataset: HubDataset | None = None  # full scale: OpenWebText instead of the common corpora
    hub_tokenizer: HubRef | None = None  # full scale: the gpt2 tokenizer


class SupernetCfg(Section):
    seed: int = Field(ge=0)
    random_subnets: int = Field(ge=0, le=64)  # sandwich rule: largest + smallest + this many random
    train: TrainCfg
    init_from: HubRef | None = None  # full scale: inherit GPT-2 weights (homogeneous largest arch)


class StandaloneCfg(Section):
    """Architectures trained from scratch with the supernet's schedule (steps, batch, lr) for C3."""

    seed: int = Field(ge=0)
    archs: int = Field(ge=3, le=100)  # picked at evenly spaced quantiles of parameter count


class PerplexityCfg(Section):
    archs: int = Field(ge=10, le=1_000_000)  # sampled architectures scored with inherited weights
    sample_seed: int = Field(ge=0)


class Device(Section):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    threads: int = Field(ge=1, le=256)
    batch: int = Field(ge=1, le=4096)


class HardwareCfg(Section):
    kind: Literal["cpu", "cuda"] = "cpu"
    archs: int = Field(ge=4, le=100_000)  # the first `archs` of the perplexity sample
    seq_len: int = Field(ge=1, le=4096)
    warmups: int = Field(ge=0, le=100)
    repeats: int = Field(ge=4, le=1000)  # split-half reliability needs two halves of >= 2
    order_seed: int = Field(ge=0)
    devices: list[Device] = Field(min_length=2)
    memory_archs: int = Field(ge=0, le=1000)  # peak-RSS checks of the analytic memory model (subprocesses)
    memory_batch: int = Field(ge=1, le=4096)

    @model_validator(mode="after")
    def _devices(self):
        names = [d.name for d in self.devices]
        if len(set(names)) != len(names):
            raise ValueError(f"device names must be distinct, got {names}")
        return self


class EnsembleCfg(Section):
    members: int = Field(ge=2, le=50)
    hidden: int = Field(ge=2, le=4096)
    epochs: int = Field(ge=1, le=100_000)
    lr: float = Field(gt=0, le=1)
    seed: int = Field(ge=0)


class QuantileCfg(Section):
    max_iter: int = Field(ge=1, le=10_000)
    lr: float = Field(gt=0, le=1)
    max_leaf_nodes: int = Field(ge=2, le=1024)
    calib_fraction: float = Field(gt=0, lt=1)  # of the training architectures, held out for conformal calibration


class GPCfg(Section):
    restarts: int = Field(ge=0, le=20)


class MLPCfg(Section):
    hidden: list[int] = Field(min_length=1)
    max_iter: int = Field(ge=1, le=100_000)
    alpha: float = Field(ge=0, le=10)


class SurrogatesCfg(Section):
    # held-out splits, each with its own test architectures and surrogate seed; the first is the main split
    # (figures, area gains, the benchmark's fit), all of them give C2's coverage interval
    split_seeds: list[int] = Field(min_length=2)
    test_fraction: float = Field(gt=0, lt=1)
    coverage: float = Field(gt=0, lt=1)  # nominal central interval for the coverage metric
    calibration_levels: int = Field(ge=3, le=1000)
    n_boot: int = Field(ge=10, le=100_000)
    mlp: MLPCfg
    ensemble: EnsembleCfg
    quantile: QuantileCfg
    gp: GPCfg
    benchmark: Literal["mlp", "ensemble", "quantile", "gp"]  # whose mean the search benchmark queries


class SearchCfg(Section):
    seeds: list[int] = Field(min_length=2)
    methods: list[Literal["rs", "ls", "nsga2", "moead", "parego"]] = Field(min_length=2)
    budget: int = Field(ge=4, le=100_000)
    small_budget: int = Field(ge=2, le=100_000)  # where C4 compares the methods
    init: int = Field(ge=2, le=1000)  # random evaluations before any guided proposal
    pop_size: int = Field(ge=2, le=1000)
    ref_point: list[float] = Field(min_length=2, max_length=2)
    parego_pool: int = Field(ge=10, le=1_000_000)  # candidates scored by the acquisition per step
    parego_refit_every: int = Field(ge=1, le=1000)  # GP hyper-parameters re-optimised every k steps

    @model_validator(mode="after")
    def _budgets(self):
        if not self.init < self.small_budget <= self.budget:
            raise ValueError(f"need init < small_budget <= budget, got {self.init}, {self.small_budget}, {self.budget}")
        if self.pop_size != self.init:
            raise ValueError(f"pop_size={self.pop_size} must equal init={self.init}: the evolutionary methods' "
                             "first population is their random start, the same size as every other method's")
        if "rs" not in self.methods:
            raise ValueError("methods must include rs: every guided method is compared with random search")
        if any(r <= 1.0 for r in self.ref_point):
            raise ValueError(f"ref_point={self.ref_point}: objectives are min-max normalised to [0, 1], "
                             "so the reference point must lie beyond 1")
        return self


@section("hwgpt")
class HwgptParams(PaperSection):
    space: SpaceCfg
    data: DataCfg
    supernet: SupernetCfg
    standalone: StandaloneCfg
    perplexity: PerplexityCfg
    hardware: HardwareCfg
    surrogates: SurrogatesCfg
    search: SearchCfg

    @model_validator(mode="after")
    def _fit(self):
        if self.hardware.archs > self.perplexity.archs:
            raise ValueError(f"hardware.archs={self.hardware.archs} must not exceed perplexity.archs="
                             f"{self.perplexity.archs}: latencies are measured on the perplexity sample")
        if self.hardware.seq_len > self.space.context:
            raise ValueError(f"hardware.seq_len={self.hardware.seq_len} exceeds space.context={self.space.context}")
        return self
