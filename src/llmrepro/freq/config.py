"""The `freq` params section (kept free of torch and scipy, so validating params is fast)."""

from __future__ import annotations

from llmrepro.data.config import GithubSource, HubRef
from llmrepro.pipeline.params import PaperSection, Section, section


class WorldCfg(Section):
    concepts: int = 256
    pairs: int = 100_000
    dim: int = 64
    sigma: float = 1.2
    zipf_s: float = 1.3
    two_concept_rate: float = 0.3
    misalignment_rate: float = 0.15
    plural_rate: float = 0.35
    test_images: int = 50  # zero-shot test images per concept


class TaggerCfg(Section):
    seed_images: int = 50  # labelled images per concept
    steps: int = 1000
    lr: float = 0.05
    pos_weight: float = 20.0  # one positive against K-1 negatives: balance the BCE
    threshold: float = 0.7  # the paper's RAM++ threshold


class Pair(Section):
    pretrain: str
    model: str
    legend_rho: float  # the value printed in the paper's figure legend
    drop_low: int = 1  # the notebook drops the first two bins for LAION-400M


class ReplayCfg(Section):
    count_type: str = "integrated_tlemmatized_i0.7"
    prompt: str = "ensemble"
    pairs: list[Pair]
    tolerance: float = 0.01
    n_boot: int = 2000


class ClipCfg(Section):
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    embed: int = 64
    max_len: int = 24
    epochs: int = 2
    batch: int = 256
    lr: float = 1.0e-3


class MiniCfg(Section):
    world: WorldCfg
    seeds: list[int]
    tagger: TaggerCfg
    clip: ClipCfg


class PaperScale(Section):
    """Full scale: the paper's own models and data, pinned. Documented and validated;
    the stages that would use them (open_clip evaluation on Let It Wag!, RAM++ over
    CC-3M) are not part of this repository yet."""

    open_clip: list[str] = []  # "<arch>/<pretrained tag>" as open_clip names them
    let_it_wag: HubRef | None = None
    ram_plus_threshold: float = 0.7


@section("freq")
class FreqParams(PaperSection):
    source: GithubSource
    replay: ReplayCfg
    mini: MiniCfg
    paper_scale: PaperScale = PaperScale()
