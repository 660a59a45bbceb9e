"""The `freq` params section (kept free of torch and scipy, so validating params is fast)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmrepro.data.config import GithubSource, HubRef
from llmrepro.pipeline.params import PaperSection, Section, section


class WorldCfg(Section):
    concepts: int = Field(256, ge=2, le=100_000)
    pairs: int = Field(100_000, ge=10, le=10_000_000)
    dim: int = Field(64, ge=2, le=4096)
    sigma: float = Field(1.2, gt=0, le=100)
    zipf_s: float = Field(1.3, ge=0, le=10)
    two_concept_rate: float = Field(0.3, ge=0, le=1)
    misalignment_rate: float = Field(0.15, ge=0, le=1)
    plural_rate: float = Field(0.35, ge=0, le=1)
    test_images: int = Field(50, ge=1, le=10_000)  # zero-shot test images per concept


class ControlCfg(Section):
    """The causal control: worlds with uniform concept frequencies, one per seed in `seeds`
    (each shares its prototypes with the Zipf world of the same seed), at an image noise
    `sigma` chosen on seed 0 so that their mean accuracy matches the Zipf worlds'."""

    seeds: list[int] = Field(min_length=2)  # the C4 interval runs over these worlds
    sigma: float = Field(gt=0, le=100)


class TaggerCfg(Section):
    seed_images: int = Field(50, ge=1, le=10_000)  # labelled images per concept
    steps: int = Field(1000, ge=1, le=100_000)
    lr: float = Field(0.05, gt=0, le=10)
    pos_weight: float = Field(20.0, gt=0)  # one positive against K-1 negatives: balance the BCE
    threshold: float = Field(0.7, gt=0, lt=1)  # the paper's RAM++ threshold


class Pair(Section):
    """One replayed legend entry: a model and pretraining set, the figure file that prints
    its rho (a path in the released repository) and the value it prints."""

    set: Literal["ensemble", "class", "control"]  # which figure set (and check) it belongs to
    pretrain: str
    model: str
    legend_rho: float = Field(ge=-1, le=1)  # as printed; a PDF's own legend must agree
    figure: str
    label: str | None = None  # the legend label when it is not the model name
    prompt: Literal["ensemble", "class", "simple"] = "ensemble"
    count_type: str | None = None  # default: replay.count_type
    drop_low: int = Field(1, ge=0, le=11)  # the notebook drops the first two bins for LAION-400M
    drop_high: int = Field(1, ge=0, le=11)  # and the last four for SynthCI-30M


class ReplayCfg(Section):
    count_type: str = "integrated_tlemmatized_i0.7"
    let_it_wag_prompt: Literal["ensemble", "class", "simple"] = "ensemble"
    pairs: list[Pair] = Field(min_length=1)
    tolerance: float = Field(0.01, gt=0, le=1)
    n_boot: int = Field(2000, ge=10, le=100_000)


class ClipCfg(Section):
    hidden: int = Field(64, ge=2, le=4096)
    layers: int = Field(2, ge=1, le=48)
    heads: int = Field(2, ge=1, le=64)
    embed: int = Field(64, ge=2, le=4096)
    max_len: int = Field(12, ge=4, le=512)  # captions and prompts are at most 11 tokens with <eos>
    epochs: int = Field(2, ge=1, le=100)
    batch: int = Field(256, ge=2, le=1 << 16)
    lr: float = Field(1.0e-3, gt=0, le=1)


class MiniCfg(Section):
    world: WorldCfg
    seeds: list[int] = Field(min_length=2)  # Zipf worlds; the interval runs over them
    control: ControlCfg
    tagger: TaggerCfg
    clip: ClipCfg
    min_bin: int = Field(5, ge=1, le=1000)  # binned rho beside the paper's: bins of at least this many concepts


class PaperScale(Section):
    """Full scale: the paper's own models and data, pinned. Documented and validated;
    the stages that would use them (open_clip evaluation on Let It Wag!, RAM++ over
    CC-3M) are not part of this repository yet."""

    open_clip: list[str] = []  # "<arch>/<pretrained tag>" as open_clip names them
    let_it_wag: HubRef | None = None
    ram_plus_threshold: float = Field(0.7, gt=0, lt=1)


@section("freq")
class FreqParams(PaperSection):
    source: GithubSource
    replay: ReplayCfg
    mini: MiniCfg
    paper_scale: PaperScale = PaperScale()
