"""The `grm` params section (kept free of torch, so validating params is fast)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from llmrepro.data.config import HubDataset, HubRef
from llmrepro.models.config import ModelSource
from llmrepro.models.config import TrainCfg as ModelTrainCfg
from llmrepro.pipeline.params import PaperSection, Section, section

Task = Literal["sort", "reverse", "copy", "increment"]
Method = Literal["frozen", "bt", "margin", "label_smoothing", "grm_sft", "grm_dpo_noref", "grm_dpo"]


class WorldCfg(Section):
    """Digit tasks whose answers a program checks; the few-shot prefix makes SmolLM2 the 'instruct model'."""

    id_tasks: list[Task] = Field(["sort", "reverse"], min_length=1)  # in the preference data
    ood_tasks: list[Task] = Field(["copy", "increment"], min_length=1)  # never in the preference data
    shots: int = Field(2, ge=0, le=8)  # demonstrations per task in the prefix (all tasks)
    id_lengths: list[int] = Field([3, 4, 5], min_length=1)
    long_lengths: list[int] = Field([6, 7], min_length=1)  # the longer-input OOD set
    substitutions: list[int] = Field([1, 2], min_length=1)  # digits changed in a training corruption
    marker: str = " ok"  # the spurious token appended after a response
    end: str = "\n"  # every response ends here; the reward reads the state at its last token
    p_marker_chosen: float = Field(0.9, ge=0.0, le=1.0)  # in the preference data (and the ID test set)
    p_marker_rejected: float = Field(0.1, ge=0.0, le=1.0)
    # Per world (grm.world_seeds): every reward-model seed trains and is scored in one world of its own
    train_pool: int = Field(640, ge=4, le=1_000_000)  # pairs each seed's training set is drawn from
    eval_pairs: int = Field(160, ge=2, le=100_000)  # pairs per test set
    bon_tasks: list[Task] = Field(["copy", "increment", "sort", "reverse"], min_length=1)
    bon_prompts: int = Field(8, ge=1, le=10_000)  # per world; the tasks cycle on from world to world
    bon_length: int = Field(4, ge=2, le=32)
    bon_pool: int = Field(256, ge=2, le=100_000)  # samples per prompt; best-of-n for every power of 2 up to it
    bon_marker_rate: float = Field(0.2, ge=0.0, le=1.0)  # samples carrying the marker, independent of quality

    @model_validator(mode="after")
    def _disjoint(self):
        if set(self.id_tasks) & set(self.ood_tasks):
            raise ValueError(f"id_tasks {self.id_tasks} and ood_tasks {self.ood_tasks} must not overlap")
        if min(self.id_lengths + self.long_lengths) < 2 or max(self.id_lengths) >= min(self.long_lengths):
            raise ValueError("lengths must be >= 2 (a swap needs two positions) and long_lengths longer than id_lengths")
        return self


class BackboneCfg(Section):
    model: ModelSource = ModelSource()  # mini: SmolLM2 from the common stages; full: the hub
    dtype: Literal["float32", "bfloat16"] = "float32"  # weights as loaded
    bf16: bool = True  # autocast for the frozen trunk (the cache is stored in bf16 either way)
    batch: int = Field(64, ge=1, le=4096)  # pairs per trunk forward
    shortlist_topk: int = Field(32, ge=1, le=1024)  # frozen top-k tokens per sampled position in the shortlist
    shortlist_positions: int = Field(512, ge=1, le=1_000_000)  # positions sampled to build the shortlist


class LoraCfg(Section):
    r: int = Field(8, ge=1, le=1024)
    alpha: float = Field(16.0, gt=0.0, le=4096.0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    # modules of the top layer's MLP; its output projection alone keeps training cheap
    targets: list[Literal["gate_proj", "up_proj", "down_proj"]] = Field(["down_proj"], min_length=1)


class TrainCfg(Section):
    """Reward-model training: the same recipe for every method; steps follow the set size (epochs)."""

    epochs: float = Field(gt=0.0, le=1000.0)
    min_steps: int = Field(1, ge=1, le=1_000_000)
    batch: int = Field(32, ge=1, le=4096)  # pairs per step
    lr: float = Field(gt=0.0, le=1.0)
    warmup: int = Field(0, ge=0, le=1_000_000)
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0)  # cosine decay to this fraction of lr
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    beta2: float = Field(0.999, gt=0.0, lt=1.0)
    grad_clip: float = Field(5.0, ge=0.0, le=1e6)  # the official scripts' max_grad_norm

    def steps(self, size: int) -> int:
        return max(self.min_steps, math.ceil(self.epochs * size / self.batch))

    def loop(self, size: int) -> ModelTrainCfg:
        """The shared training loop's settings (`models/train.py`) at this set size."""
        return ModelTrainCfg(steps=self.steps(size), batch=self.batch, lr=self.lr, warmup=self.warmup,
                             min_lr_ratio=self.min_lr_ratio, weight_decay=self.weight_decay, beta2=self.beta2,
                             grad_clip=self.grad_clip)


class HeadCfg(Section):
    hidden: int = Field(1024, ge=1, le=65536)  # the paper's MLP value head: Linear(h, 1024), ReLU, Linear(1024, 1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)  # on the hidden state before the head


class MethodCfg(Section):
    """One reward model recipe; `alpha` and `beta` only for GRM, `epsilon` for label smoothing."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Method
    alpha: float = Field(0.0, ge=0.0, le=1.0)  # weight of the regularizer: (1 - alpha) L_BT + alpha L_reg
    beta: float = Field(0.1, gt=0.0, le=100.0)
    epsilon: float = Field(0.1, ge=0.0, le=0.5)
    margin_scale: float = Field(1.0, ge=0.0, le=100.0)  # margin = scale x gold(chosen) - gold(rejected)
    n_seeds: int | None = Field(None, ge=2)  # the first k of rm.seeds (secondary arms; >= the worlds); None: all


class RmCfg(Section):
    precompute: bool = True  # keep the frozen MLP activations of every cached vector in memory (small models)
    lora: LoraCfg = LoraCfg()
    head: HeadCfg = HeadCfg()
    train: TrainCfg
    methods: list[MethodCfg] = Field(min_length=2)
    sizes: list[int] = Field([64, 256], min_length=1)  # preference-set sizes (pairs), the data-scarcity axis
    main_size: int = Field(256, ge=2)  # every method at this size; the size axis runs `size_methods` only
    size_methods: list[str] = Field(["bt", "grm_sft"], min_length=1)
    seeds: list[int] = Field(min_length=2)
    ensemble: int = Field(3, ge=2, le=16)  # BT models per ensemble (consecutive seeds of one world, cyclic)

    @model_validator(mode="after")
    def _consistent(self):
        names = [m.name for m in self.methods]
        if len(set(names)) != len(names):
            raise ValueError(f"method names must be unique: {names}")
        for need in ("bt", *self.size_methods):
            if need not in names:
                raise ValueError(f"method {need!r} is required (comparator or size axis) but not in methods {names}")
        if self.main_size not in self.sizes:
            raise ValueError(f"main_size {self.main_size} must be one of sizes {self.sizes}")
        if len(self.seeds) != len(set(self.seeds)):
            raise ValueError(f"seeds must be distinct: {self.seeds}")
        if self.ensemble > len(self.seeds):
            raise ValueError(f"ensemble {self.ensemble} needs at least as many seeds, got {len(self.seeds)}")
        return self


class ClaimsCfg(Section):
    primary: str = "ood_mean"  # pre-registered primary OOD metric (fixed before the claim run)
    comparator: str = "grm_sft"  # the GRM arm the claims test (the paper's default: SFT, alpha 0.01)


class PaperScale(Section):
    """The paper's own data (Unified-Feedback, HHH, MT-Bench, RewardBench) and gold RM, pinned and
    validated. These stages run the synthetic world on the configured backbone; training on the
    paper's data is not implemented by them. Null: the revision could not be checked offline."""

    unified_feedback: HubDataset | None = None
    hhh_alignment: HubDataset | None = None
    mt_bench: HubDataset | None = None
    reward_bench: HubDataset | None = None
    gold_rm: HubRef | None = None


@section("grm")
class GrmParams(PaperSection):
    world: WorldCfg = WorldCfg()
    # One synthetic world (few-shot prefix, training pool, test sets, BoN prompts) per seed; rm.seeds are dealt
    # to them in turn, so intervals over worlds carry world-to-world variance (issue 19)
    world_seeds: list[int] = Field([0], min_length=1)
    backbone: BackboneCfg = BackboneCfg()
    bon_seed: int = Field(0, ge=0)
    rm: RmCfg
    claims: ClaimsCfg = ClaimsCfg()
    paper_scale: PaperScale = PaperScale()

    @model_validator(mode="after")
    def _claim_arms(self):
        kinds = {m.name: m.kind for m in self.rm.methods}
        if kinds.get(self.claims.comparator, "").startswith("grm") is False:
            raise ValueError(f"claims.comparator {self.claims.comparator!r} must name a GRM method of rm.methods")
        if kinds.get("bt") != "bt" or ("frozen" in kinds and kinds["frozen"] != "frozen"):
            raise ValueError("the method named 'bt' must be of kind bt (and 'frozen', if present, of kind frozen)")
        if self.rm.main_size > self.world.train_pool or max(self.rm.sizes) > self.world.train_pool:
            raise ValueError(f"sizes {self.rm.sizes} must not exceed world.train_pool {self.world.train_pool}")
        W, S = len(self.world_seeds), len(self.rm.seeds)
        if len(set(self.world_seeds)) != W:
            raise ValueError(f"world_seeds must be distinct: {self.world_seeds}")
        if S % W:
            raise ValueError(f"rm.seeds ({S}) must be a multiple of the worlds ({W} world_seeds): as many seeds each")
        if self.rm.ensemble > S // W:
            raise ValueError(f"rm.ensemble {self.rm.ensemble} exceeds the {S // W} seeds per world")
        for m in self.rm.methods:
            if m.n_seeds is not None and m.n_seeds < W:
                raise ValueError(f"rm.methods {m.name}: n_seeds {m.n_seeds} leaves some of the {W} worlds without a run")
        return self
