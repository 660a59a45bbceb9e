"""The `mspoe` params section."""

from __future__ import annotations

from llmrepro.models.config import ModelSource
from llmrepro.pipeline.params import PaperSection, Section, section


class TaskCfg(Section):
    n: int  # key-value pairs or documents per prompt
    positions: list[int]  # gold positions, 0-based


class Tasks(Section):
    kv: TaskCfg
    mdqa: TaskCfg


class MsPoERatios(Section):
    r_min: float = 1.2
    r_max: float = 1.8
    skip_layers: int = 2  # the paper leaves the first two layers unchanged


@section("mspoe")
class MspoeParams(PaperSection):
    model: ModelSource = ModelSource()  # mini: SmolLM2 from the common stages; full: vicuna-7b-v1.5
    tasks: Tasks
    per_position: int = 12
    seed: int = 0
    batch: int = 4
    ms_poe: MsPoERatios = MsPoERatios()
    uniform_ratios: list[float]
    n_boot: int = 2000
