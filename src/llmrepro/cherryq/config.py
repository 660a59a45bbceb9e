"""The `cherryq` params section (kept free of torch, so validating params is fast)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset
from llmrepro.models.config import ModelSource
from llmrepro.pipeline.params import PaperSection, Section, section

Bits = Annotated[int, Field(ge=2, le=8)]
Seed = Annotated[int, Field(ge=0)]
# How cherries are chosen; "magnitude_prescale" is magnitude selection whose group scales are
# computed before the cherries are removed (the control that isolates the scale effect)
Criterion = Literal["impact", "magnitude", "magnitude_prescale", "random", "obd"]
# QAT arms: "qat" = no cherries at the nominal group size, "qat_equal_bits" = no cherries with
# groups small enough to store at least CherryQ's bits per weight, "impact" = CherryQ, the rest =
# QAT with cherries chosen that way
QatMethod = Literal["qat", "qat_equal_bits", "impact", "random", "magnitude", "magnitude_prescale"]


class EvalCfg(Section):
    windows: int = Field(32, ge=1)  # per corpus
    seq_len: int = Field(128, ge=2)
    batch: int = Field(16, ge=1)


class PtqCfg(Section):
    bits: list[Bits] = Field(min_length=1)
    rtn_bits: list[Bits] = []  # widths at which only plain RTN is scored (what it costs the model)
    group: int = Field(ge=1)
    fraction: float = Field(gt=0, le=0.5)  # cherries per row, as a fraction of in_features
    criteria: list[Criterion] = Field(min_length=1)
    # GPTQ at the nominal group size and/or at the equal-bits one (no cherries, smaller groups)
    gptq: list[Literal["nominal", "equal_bits"]] = ["nominal", "equal_bits"]


class QatCfg(Section):
    methods: dict[Bits, list[QatMethod]] = Field(min_length=1)  # bits -> the arms run at that width
    group: int = Field(128, ge=1)
    fraction: float = Field(1 / 128, gt=0, le=0.5)
    seeds: list[Seed] = Field([0, 1, 2], min_length=1)  # data order; run r pairs with calib_seeds[r]
    steps: int = Field(50, ge=1)
    batch: int = Field(8, ge=1)
    lr: float = Field(2.0e-4, gt=0, le=1)
    warmup: int = Field(5, ge=0)
    min_lr_ratio: float = Field(0.25, ge=0, le=1)  # the official recipe's LR floor for 3 bits


class DataCfg(Section):
    """Mini: the common corpora's splits. Full: hub datasets (C4 for calibration and
    evaluation, WikiText-2 for evaluation), which replace them."""

    hub_calib: HubDataset | None = None
    hub_eval: list[HubDataset] = []
    eval_split: Literal["test", "valid"] = "test"  # the common corpora's split that is scored


class CalibCfg(Section):
    """Calibration: one subset of `sequences` random train windows per seed. Impact,
    cherries and GPTQ's Hessians are computed per subset, so intervals cover them."""

    seeds: list[Seed] = Field(min_length=1)
    sequences: int = Field(ge=1)  # per subset
    length: int = Field(ge=2)
    batch: int = Field(8, ge=1)  # sequences per backward pass (the result does not depend on it)


class QatModelCfg(Section):
    model: ModelSource = ModelSource()  # mini: the common tiny Llama; full: a hub LLM
    data: DataCfg = DataCfg()
    calib: CalibCfg
    seed: Seed = 0  # the random-init model of the heterogeneity control
    eval: EvalCfg
    ptq: PtqCfg
    qat: QatCfg

    @model_validator(mode="after")
    def _paired(self):
        if len(self.qat.seeds) != len(self.calib.seeds):
            raise ValueError(f"qat.seeds {self.qat.seeds} and calib.seeds {self.calib.seeds} must have the same "
                             "length: QAT run r uses calibration subset r")
        return self


class PretrainedCfg(Section):
    model: ModelSource = ModelSource()  # mini: SmolLM2 from the common stages; full: a hub LLM
    data: DataCfg = DataCfg()
    calib: CalibCfg
    init_sequences: int = Field(1, ge=1)  # of the first subset, for the random-init control
    seed: Seed = 0  # the random-init model of the heterogeneity control
    eval: EvalCfg
    ptq: PtqCfg


@section("cherryq")
class CherryqParams(PaperSection):
    tiny: QatModelCfg  # impact, PTQ and QAT on a model small enough to train (mini: the common tiny Llama)
    pretrained: PretrainedCfg  # impact and PTQ on a real pretrained LLM (mini: SmolLM2-135M)
