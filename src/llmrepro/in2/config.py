"""The `in2` params section (schema only: no torch, so validating params is fast)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.models.config import TinyLM, TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section

Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


class BoundedTrain(TrainCfg):
    """The training loop's settings, with bounds (models.config.TrainCfg has none)."""

    steps: int = Field(ge=1, le=1_000_000)
    batch: int = Field(ge=1, le=4096)
    lr: float = Field(gt=0.0, le=1.0)
    warmup: int = Field(0, ge=0, le=100_000)
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0)
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    beta2: float = Field(0.95, gt=0.0, lt=1.0)
    grad_clip: float = Field(1.0, ge=0.0, le=100.0)
    eval_every: int = Field(0, ge=0)


class Model(TinyLM):
    hidden: int = Field(128, ge=8, le=8192)
    layers: int = Field(4, ge=1, le=64)
    heads: int = Field(4, ge=1, le=128)
    kv_heads: int | None = Field(None, ge=1, le=128)
    intermediate: int = Field(384, ge=8, le=32768)
    context: int = Field(128, ge=16, le=131072)
    rope_theta: float | None = Field(None, gt=0.0, le=1.0e9)  # RoPE base; None: transformers' default (1e4)


class Retrieval(Section):
    """Stage 1: general retrieval on short contexts with uniform answer positions, gated.
    One model per seed; fine-tuning seed i of every arm starts from the model of seeds[i],
    so the interval over fine-tuning seeds covers stage-1 variance too."""

    seeds: list[Seed] = Field(min_length=1, max_length=64)
    copy_steps: int = Field(400, ge=0, le=1_000_000)  # dense copy warm-up before the questions
    copy_min: int = Field(4, ge=2, le=4096)  # copied sequence lengths, uniform in [copy_min, copy_max]
    copy_max: int = Field(24, ge=2, le=4096)
    n_min: int = Field(2, ge=1, le=4096)
    n_max: int = Field(8, ge=1, le=4096)
    ramp_steps: int = Field(0, ge=0, le=1_000_000)  # curriculum: the longest context grows to n_max over these
    queries: int = Field(4, ge=1, le=64)
    train: BoundedTrain
    gate: float = Field(0.9, ge=0.0, le=1.0)  # minimum accuracy per style at n_max, or the stage fails
    gate_per_position: int = Field(16, ge=1, le=100_000)

    @model_validator(mode="after")
    def _range(self):
        if self.n_min > self.n_max:
            raise ValueError(f"n_min={self.n_min} must not exceed n_max={self.n_max}")
        if self.copy_min > self.copy_max:
            raise ValueError(f"copy_min={self.copy_min} must not exceed copy_max={self.copy_max}")
        return self


class Finetune(Section):
    """Stage 2, the same for every arm: steps, optimizer, questions per context, and
    tokens per step (rows are added until the next would pass `tokens_per_step`, so an
    arm with shorter contexts gets more rows, not fewer tokens). `train.batch` caps the
    rows per step."""

    seeds: list[Seed] = Field(min_length=1, max_length=64)
    queries: int = Field(4, ge=1, le=64)
    tokens_per_step: int = Field(2400, ge=8, le=10_000_000)
    train: BoundedTrain


class Arm(Section):
    """One stage-2 data distribution."""

    n_min: int = Field(8, ge=1, le=4096)  # records per training context, uniform in [n_min, n_max]
    n_max: int = Field(32, ge=1, le=4096)
    p_ends: float = Field(0.0, ge=0.0, le=1.0)  # share of answers in the first/last `ends` records
    ends: int = Field(3, ge=1, le=1024)
    integration: float = Field(0.0, ge=0.0, le=0.9)  # share of questions that need two records

    @model_validator(mode="after")
    def _range(self):
        if self.n_min > self.n_max:
            raise ValueError(f"n_min={self.n_min} must not exceed n_max={self.n_max}")
        return self


class Arms(Section):
    natural: Arm  # the baseline: shorter contexts than at test, answers mostly at the ends
    natural_long: Arm  # ablation: test-length contexts, answers still mostly at the ends
    in2: Arm  # IN2: test-length contexts, answers anywhere, plus integration items


class Probe(Section):
    """VaL-lite: every record position of held-out contexts, every probe style."""

    n: int = Field(32, ge=2, le=4096)  # records per test context
    buckets: int = Field(8, ge=2, le=64)
    per_position: int = Field(16, ge=1, le=100_000)
    short_n: int = Field(8, ge=1, le=4096)  # the short-context retention check
    short_per_position: int = Field(16, ge=1, le=100_000)
    probe_seed: Seed = 1234
    batch: int = Field(256, ge=1, le=65536)

    @model_validator(mode="after")
    def _buckets(self):
        if self.n % self.buckets:
            raise ValueError(f"n={self.n} records must split evenly into buckets={self.buckets}")
        return self


class ValProbe(Section):
    """Full scale: VaL Probing on real models, greedy, scored with the paper's metrics.
    Empty `models` (mini) makes the stage write an empty result."""

    models: list[HubRef] = []
    dataset: HubDataset | None = None
    splits: list[str] = Field(["document_bi_32k", "code_backward_32k", "database_forward_32k"], min_length=1)
    sets: list[int] = Field([0], min_length=1)  # set_id 0-3; one set per task fits one GPU
    max_new_tokens: int = Field(128, ge=1, le=4096)
    batch: int = Field(4, ge=1, le=1024)
    dtype: str = "bfloat16"


class Lora(Section):
    """The one-GPU variant: LoRA on a small instruct model with 4K-8K IN2 contexts."""

    base: HubRef
    rank: int = Field(16, ge=1, le=1024)
    alpha: int = Field(32, ge=1, le=4096)
    dropout: float = Field(0.05, ge=0.0, le=0.9)
    target_modules: list[str] = Field(["q_proj", "k_proj", "v_proj", "o_proj"], min_length=1)
    context_tokens: list[int] = Field([4096, 8192], min_length=2, max_length=2)
    steps: int = Field(1000, ge=1, le=1_000_000)
    batch: int = Field(8, ge=1, le=4096)
    lr: float = Field(2.0e-4, gt=0.0, le=1.0)


class PaperScale(Section):
    """The paper's own training, pinned and validated as a cluster configuration;
    these stages do not run it (no training data or code was released)."""

    base_model: HubRef | None = None  # Mistral-7B-Instruct-v0.2
    corpus: HubDataset | None = None  # allenai/c4 realnewslike, cut into ~128-token segments
    generator: HubRef | None = None  # an open QA generator in place of GPT-4-Turbo
    segment_tokens: int = Field(128, ge=16, le=4096)
    context_tokens: list[int] = Field([4096, 32768], min_length=2, max_length=2)
    global_batch: int = Field(128, ge=1, le=65536)
    steps: int = Field(14000, ge=1, le=10_000_000)
    schedule: str = "cosine"
    lora: Lora | None = None


@section("in2")
class In2Params(PaperSection):
    vocab_keys: int = Field(48, ge=2, le=100_000)  # tokens per record role
    model: Model
    retrieval: Retrieval
    finetune: Finetune
    arms: Arms
    probe: Probe
    valprobe: ValProbe = ValProbe()
    paper_scale: PaperScale = PaperScale()

    @model_validator(mode="after")
    def _fits(self):
        if len(self.retrieval.seeds) != len(self.finetune.seeds):
            raise ValueError(f"retrieval.seeds ({len(self.retrieval.seeds)}) must pair one to one with "
                             f"finetune.seeds ({len(self.finetune.seeds)}): each fine-tuning seed has its own "
                             "stage-1 model")
        arms = (self.arms.natural, self.arms.natural_long, self.arms.in2)
        longest = max(self.probe.n, self.retrieval.n_max, self.probe.short_n, *(a.n_max for a in arms))
        if longest > self.vocab_keys:
            raise ValueError(f"contexts of {longest} records need vocab_keys >= {longest} (no key repeats), "
                             f"got {self.vocab_keys}")
        if self.retrieval.copy_max > 3 * self.vocab_keys:
            raise ValueError(f"retrieval.copy_max={self.retrieval.copy_max} exceeds the {3 * self.vocab_keys} keys")
        need = max(1 + 3 * longest + 5 * max(self.finetune.queries, self.retrieval.queries),
                   2 + 2 * self.retrieval.copy_max)
        if need > self.model.context:
            raise ValueError(f"model.context={self.model.context} is shorter than the longest row ({need} tokens)")
        if need > self.finetune.tokens_per_step:
            raise ValueError(f"finetune.tokens_per_step={self.finetune.tokens_per_step} does not fit one row "
                             f"of up to {need} tokens")
        return self
