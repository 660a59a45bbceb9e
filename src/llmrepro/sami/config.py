"""The `sami` params section (no torch here, so validating params is fast)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmrepro.data.config import GithubSource, HubDataset, HubRef
from llmrepro.models.config import TinyLM, TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section


class WorldCfg(Section):
    """The synthetic principle-following world (see `llmrepro.sami.world`)."""

    n_facts: int = Field(48, ge=8, le=2000)  # fact words in the vocabulary
    facts: int = Field(4, ge=2, le=16)  # facts per post
    fillers: int = Field(1, ge=1, le=6)  # distinct filler words (verbose text is predictable boilerplate)
    keep_some: float = Field(0.5, gt=0.0, lt=1.0)  # `some`: a prefix, continued after each fact with this probability
    fill_brief: float = Field(0.05, ge=0.0, le=1.0)  # filler after a kept fact, under `brief`
    fill_long: float = Field(0.8, ge=0.0, le=1.0)  # ... under `long`
    rho: float = Field(0.3, ge=0.0, le=1.0)  # base corpus: the summary follows the prompted constitution

    @model_validator(mode="after")
    def _sides(self):
        if self.fill_brief >= self.fill_long:
            raise ValueError(f"fill_brief={self.fill_brief} must be below fill_long={self.fill_long}")
        if self.facts > self.n_facts:
            raise ValueError(f"facts={self.facts} per post exceed the n_facts={self.n_facts} fact words")
        return self


class PretrainCfg(Section):
    """The base LM (weak constitution-behaviour link, rho) and the instruct baseline
    (the base trained further on fully adherent data, rho = 1)."""

    model: TinyLM
    train: TrainCfg
    instruct_steps: int = Field(200, ge=1, le=100_000)
    instruct_lr: float = Field(1.0e-3, gt=0.0, le=1.0)


class ScheduleCfg(Section):
    """Algorithm 1, scaled down: iteration eta restarts from the base model and trains
    `steps[eta]` steps of `queries` queries, each with 2 constitutions x 2 responses
    sampled from the previous iterate."""

    steps: list[int] = Field(min_length=1, max_length=10)  # per iteration; the paper: 2, 4, 6
    queries: int = Field(32, ge=1, le=4096)  # per step; the paper: 128
    lr: float = Field(3.0e-4, gt=0.0, le=1.0)  # the paper: 5e-7 (7B model)
    beta2: float = Field(0.999, gt=0.0, lt=1.0)
    grad_clip: float = Field(1.0, ge=0.0, le=100.0)
    temperature: float = Field(1.0, ge=0.0, le=2.0)  # sampling the training data; the paper: 0
    max_new: int = Field(12, ge=1, le=4096)  # response length cap; the paper: 350
    pair: Literal["desired", "random"] = "desired"  # (desired, one other) as the official code; or 2 at random
    overgenerate: float = Field(1.5, ge=1.0, le=10.0)  # queries sampled per query needed (identical pairs drop)

    @model_validator(mode="after")
    def _steps(self):
        if any(s < 1 or s > 100_000 for s in self.steps):
            raise ValueError(f"steps={self.steps}: every iteration needs 1..100000 steps")
        return self


class OvertrainCfg(Section):
    """The degeneration control: one SAMI iteration on the base model's data, run for
    `factor` times the last iteration's steps, evaluated at the listed multiples."""

    factor: int = Field(8, ge=2, le=1000)
    evaluate_at: list[int] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _at(self):
        if sorted(set(self.evaluate_at)) != self.evaluate_at or self.evaluate_at[-1] != self.factor or \
                self.evaluate_at[0] < 1:
            raise ValueError(f"evaluate_at={self.evaluate_at} must rise strictly from >= 1 and end at factor={self.factor}")
        return self


class EvalCfg(Section):
    posts: int = Field(200, ge=2, le=100_000)  # held-out posts for win rates (the paper: 250)
    samples: int = Field(4, ge=1, le=64)  # responses per post under the desired constitution
    temperature: float = Field(1.0, gt=0.0, le=2.0)  # the primary decoding; greedy (tau = 0) is reported beside it
    mi_posts: int = Field(256, ge=2, le=100_000)  # posts x 4 constitutions: the MI bound and per-principle adherence
    ppl_rows: int = Field(512, ge=2, le=1_000_000)  # held-out rows for the degeneration perplexity
    batch: int = Field(2048, ge=1, le=100_000)  # sequences per forward pass


class NoisyJudgeCfg(Section):
    """The robustness judge: prefers the first-shown response by `position_bias` score
    points, and answers at random with probability `flip`."""

    position_bias: float = Field(0.1, ge=0.0, le=10.0)
    flip: float = Field(0.1, ge=0.0, le=1.0)


class LLMJudgeCfg(Section):
    """Full scale: a judge behind an OpenAI-compatible chat endpoint. The key is read
    from the environment variable named here, never from params, and never logged."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(256, ge=1, le=8192)
    timeout_s: float = Field(120.0, gt=0.0, le=3600.0)
    workers: int = Field(8, ge=1, le=256)


class PaperScale(Section):
    """The paper's setting: hub models and data at pinned revisions, the official
    constitution files, an LLM judge. Set at full scale only (None in mini and smoke)."""

    variant: Literal["paper", "one_gpu"] = "paper"
    base: HubRef  # mistralai/Mistral-7B-v0.1
    instruct: HubRef  # the instruct comparison model
    one_gpu_base: HubRef | None = None  # the one-GPU variant's pair (variant: one_gpu)
    one_gpu_instruct: HubRef | None = None
    posts: HubDataset  # openai/summarize_from_feedback, comparisons: info.post
    train_posts: HubDataset
    constitutions: GithubSource
    constitutions_dir: str = "experiments/tldr/constitutions_mistral"
    dtype: Literal["float32", "bfloat16"] = "bfloat16"
    judge: LLMJudgeCfg

    @model_validator(mode="after")
    def _variant(self):
        if self.variant == "one_gpu" and (self.one_gpu_base is None or self.one_gpu_instruct is None):
            raise ValueError("variant one_gpu needs one_gpu_base and one_gpu_instruct")
        return self

    def models(self) -> tuple[HubRef, HubRef]:
        """(base, instruct) of the chosen variant."""
        return (self.base, self.instruct) if self.variant == "paper" else (self.one_gpu_base, self.one_gpu_instruct)


@section("sami")
class SamiParams(PaperSection):
    world: WorldCfg
    world_seed: int = Field(0, ge=0, le=2**31 - 1)  # held-out evaluation posts (with each seed: its own set)
    seeds: list[int] = Field(min_length=1, max_length=64)  # one base model and one SAMI run per seed
    pretrain: PretrainCfg
    schedule: ScheduleCfg
    overtrain: OvertrainCfg
    eval: EvalCfg
    judge_seed: int = Field(0, ge=0, le=2**31 - 1)  # A/B order and the noisy judge's draws
    noisy_judge: NoisyJudgeCfg = NoisyJudgeCfg()
    paper_scale: PaperScale | None = None

    @model_validator(mode="after")
    def _seeds(self):
        if len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"seeds={self.seeds} must be distinct and >= 0")
        return self
