"""The `cherryq` params section (kept free of torch, so validating params is fast)."""

from __future__ import annotations

from llmrepro.data.config import HubDataset
from llmrepro.models.config import ModelSource
from llmrepro.pipeline.params import PaperSection, Section, section


class EvalCfg(Section):
    windows: int = 32  # per corpus, from the test split
    seq_len: int = 128
    batch: int = 16


class PtqCfg(Section):
    bits: list[int]
    group: int
    fraction: float  # cherries per row, as a fraction of in_features
    criteria: list[str]


class QatCfg(Section):
    # bits -> methods run at that width; "qat" = no cherries, "impact" = CherryQ,
    # "random" / "magnitude" = QAT with cherries chosen that way
    methods: dict[int, list[str]] = {3: ["qat", "impact", "random", "magnitude"]}
    group: int = 32
    fraction: float = 0.03125
    seeds: list[int] = [0, 1, 2]
    steps: int = 50
    batch: int = 8
    lr: float = 2.0e-4
    warmup: int = 5
    min_lr_ratio: float = 0.25  # the official recipe's LR floor for 3 bits


class SweepCfg(Section):
    bits: int = 3
    fractions: list[float]
    criteria: list[str] = ["impact", "random"]
    seed: int = 0


class DataCfg(Section):
    """Mini: the common corpora's splits. Full: hub datasets (C4 for calibration and
    evaluation, WikiText-2 for evaluation), which replace them."""

    hub_calib: HubDataset | None = None
    hub_eval: list[HubDataset] = []


class QatModelCfg(Section):
    model: ModelSource = ModelSource()  # mini: the common tiny Llama; full: a hub LLM
    data: DataCfg = DataCfg()
    calib_sequences: int = 64
    calib_len: int = 128
    seed: int = 0
    eval: EvalCfg
    ptq: PtqCfg
    qat: QatCfg
    sweep: SweepCfg


class PretrainedCfg(Section):
    model: ModelSource = ModelSource()  # mini: SmolLM2 from the common stages; full: a hub LLM
    data: DataCfg = DataCfg()
    calib_sequences: int = 16
    init_sequences: int = 8
    calib_len: int = 256
    seed: int = 0
    eval: EvalCfg
    ptq: PtqCfg


@section("cherryq")
class CherryqParams(PaperSection):
    tiny: QatModelCfg  # impact, PTQ and QAT on a model small enough to train (mini: the common tiny Llama)
    pretrained: PretrainedCfg  # impact and PTQ on a real pretrained LLM (mini: SmolLM2-135M)
