"""The `facts` params section (kept free of torch, so validating params is fast)."""

from __future__ import annotations

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.models.config import TinyLM, TrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section


class WorldCfg(Section):
    recurring: int = 300  # entities whose facts repeat in the background
    random_names: int = 300  # names for never-repeating random facts
    per_scenario: int = 12  # fictional entities per scenario (paraphrase, duplication, once, control)
    recurring_fraction: float = 0.7
    two_hop_fraction: float = 0.1
    located_fraction: float = 0.1


class PretrainCfg(Section):
    model: TinyLM
    train: TrainCfg
    seed: int = 0


class InjectCfg(Section):
    steps: int = 300  # continued-pretraining steps, the first injection at step 0
    batch: int = 16
    batch_scale: int = 1  # 2 = twice the rows, with every passage injected twice (fixed injected fraction)
    lr: float = 1.0e-3  # constant, as in the paper's constant-LR control
    interval: int = 15  # steps between injections (the paper: 100)
    injections: int = 10  # paraphrase and duplication; "once" is injected at step 0 only
    window: int = 8  # t_w for the local acquisition maximum (the paper: 50 for a 100-step interval)
    seeds: list[int] = [0, 1, 2]


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
    world_seed: int = 0
    models: Models
    inject: InjectCfg
    large_batch_scale: int = 2
    paper_scale: PaperScale = PaperScale()
