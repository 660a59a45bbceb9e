"""The `freq` params section."""

from __future__ import annotations

from llmrepro.data.sources import GithubSource, HubRef
from llmrepro.freq.experiment import MiniCfg
from llmrepro.freq.replay import ReplayCfg
from llmrepro.pipeline.params import PaperSection, Section, section


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
