"""The `cherryq` params section."""

from __future__ import annotations

from llmrepro.cherryq.experiments import PretrainedCfg, QatModelCfg
from llmrepro.pipeline.params import PaperSection, section


@section("cherryq")
class CherryqParams(PaperSection):
    tiny: QatModelCfg  # impact, PTQ and QAT on a model small enough to train (mini: the common tiny Llama)
    pretrained: PretrainedCfg  # impact and PTQ on a real pretrained LLM (mini: SmolLM2-135M)
