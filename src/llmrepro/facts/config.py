"""The `facts` params section."""

from __future__ import annotations

from llmrepro.data.sources import HubDataset, HubRef
from llmrepro.facts.training import InjectCfg, PretrainCfg
from llmrepro.facts.world import WorldCfg
from llmrepro.pipeline.params import PaperSection, Section, section


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
