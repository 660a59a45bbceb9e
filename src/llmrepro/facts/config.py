"""The `facts` params section (kept free of torch, so validating params is fast)."""

from __future__ import annotations

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.models.config import TinyLM, TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section


class WorldCfg(Section):
    recurring: int = Field(300, ge=1)  # entities whose facts repeat in the background
    random_names: int = Field(300, ge=1)  # names for never-repeating random facts
    per_scenario: int = Field(24, ge=1)  # fictional entities per scenario (paraphrase, duplication, once, control)
    recurring_fraction: float = Field(0.7, ge=0.0, le=1.0)
    two_hop_fraction: float = Field(0.1, ge=0.0, le=1.0)
    located_fraction: float = Field(0.1, ge=0.0, le=1.0)
    rare_template_fraction: float = Field(0.05, ge=0.0, le=1.0)  # background relation sentences in T2, the semantic template

    @model_validator(mode="after")
    def _fractions(self):
        if self.recurring_fraction + self.two_hop_fraction + self.located_fraction > 1:
            raise ValueError("recurring_fraction + two_hop_fraction + located_fraction must be at most 1")
        return self


class PretrainCfg(Section):
    model: TinyLM
    train: TrainCfg
    seed: int = 0


class InjectCfg(Section):
    """Continued pretraining with injection, at the pretraining's final learning rate.

    Injection happens in rounds `interval` steps apart: each round injects every paraphrase
    and duplication passage once (and, in round 0, every "once" passage), `injected_rows`
    rows per step, so one round is spread over consecutive steps and each entity is
    injected exactly `interval` steps after its previous injection."""

    batch: int = Field(8, ge=2)  # rows per update (batch B)
    injected_rows: int = Field(1, ge=1)  # rows of passages per update while a round lasts
    injections: int = Field(4, ge=1)  # rounds (paraphrase, duplication); "once" is injected in round 0 only
    interval: int = Field(40, ge=1)  # steps between an entity's injections (the paper: 100)
    window: int = Field(30, ge=1)  # t_w for the local acquisition maximum (the paper: 50)
    horizon: int = Field(450, ge=1)  # steps of R(t) after the last injection's window (the paper: ~1,500)
    stride: int = Field(2, ge=1)  # probes logged every `stride` steps before the last round, then every step ...
    dense: int = Field(30, ge=0)  # ... until this many steps into the horizon ...
    late_evals: int = Field(30, ge=1)  # ... then at this many log-spaced steps
    bins: int = Field(12, ge=3)  # log-spaced bins of t for the forgetting fits
    seeds: list[int] = Field(min_length=2)

    @model_validator(mode="after")
    def _spacing(self):
        if self.window > self.interval:
            raise ValueError(f"window={self.window} must not exceed interval={self.interval}: "
                             "an injection's window would contain the next injection")
        if self.injected_rows >= self.batch:
            raise ValueError(f"injected_rows={self.injected_rows} must be below batch={self.batch}")
        return self


class Models(Section):
    base: PretrainCfg  # the main model
    small: PretrainCfg  # the model-size comparison (claim C6)


class PaperScale(Section):
    """The paper's own setting, pinned and validated. Continuing an OLMo checkpoint on
    Dolma with kaist-ai/fictional-knowledge is not implemented by these stages."""

    olmo: HubRef | None = None
    fictional_knowledge: HubDataset | None = None


@section("facts")
class FactsParams(PaperSection):
    world: WorldCfg
    # one world per injection seed (seed i runs in world i, on models pretrained there): an interval over seeds
    # then spans worlds, which one shared world hid (issue 19: facts C2 moved under the seed shift)
    world_seeds: list[int] = Field(min_length=2)
    models: Models
    inject: InjectCfg
    large_batch_scale: int = Field(8, ge=2)  # the large-batch arm: this many times the rows and the injected rows
    paper_scale: PaperScale = PaperScale()

    @model_validator(mode="after")
    def _one_world_per_seed(self):
        if len(self.world_seeds) != len(self.inject.seeds) or len(set(self.world_seeds)) != len(self.world_seeds):
            raise ValueError(f"world_seeds={self.world_seeds} must be distinct, one per inject.seeds="
                             f"{self.inject.seeds}: injection seed i runs in world i")
        return self
