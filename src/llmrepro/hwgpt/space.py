"""The GPT search space (HW-GPT-Bench's layout at CPU size): one embedding width for the whole
network, a layer count, and per layer a head count and an MLP ratio. Head size is fixed, so the
attention width (heads x head size) is decoupled from the embedding width, as in the paper.

An architecture is a frozen `Arch`; the whole space is small enough to enumerate, so the true
Pareto front of any objective computed on it is known. Genotypes (what the optimisers see) are
integer vectors [embed, layers, heads_1..L_max, mlp_1..L_max] of choice indices; the genes of
layers beyond `layers` are ignored, as in the paper's encoding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, order=True)
class Arch:
    embed: int
    heads: tuple[int, ...]  # per layer
    mlp: tuple[int, ...]  # MLP ratio per layer (hidden = ratio x embed)

    def __post_init__(self):
        if len(self.heads) != len(self.mlp) or not self.heads:
            raise ValueError(f"heads {self.heads} and mlp {self.mlp} must be non-empty and of equal length")

    @property
    def layers(self) -> int:
        return len(self.heads)

    @property
    def key(self) -> str:
        """A stable text id: e128-L2-h4.8-m2.4."""
        return (f"e{self.embed}-L{self.layers}-h{'.'.join(map(str, self.heads))}"
                f"-m{'.'.join(map(str, self.mlp))}")

    def as_dict(self) -> dict:
        return {"embed": self.embed, "heads": list(self.heads), "mlp": list(self.mlp)}

    @staticmethod
    def from_dict(d: dict) -> Arch:
        return Arch(int(d["embed"]), tuple(int(h) for h in d["heads"]), tuple(int(m) for m in d["mlp"]))


class Space:
    """The choices, and what follows from them: enumeration, sampling, genotypes, features, cost."""

    def __init__(self, embed, layers, heads, mlp_ratio, head_size: int, context: int, vocab: int):
        self.embed, self.layers = tuple(sorted(embed)), tuple(sorted(layers))
        self.heads, self.mlp_ratio = tuple(sorted(heads)), tuple(sorted(mlp_ratio))
        self.head_size, self.context, self.vocab = head_size, context, vocab
        self.max_layers = self.layers[-1]

    @staticmethod
    def from_params(p, vocab: int) -> Space:
        return Space(p.embed, p.layers, p.heads, p.mlp_ratio, p.head_size, p.context, vocab)

    # ---- the extremes the sandwich rule trains every step
    @property
    def largest(self) -> Arch:
        L = self.max_layers
        return Arch(self.embed[-1], (self.heads[-1],) * L, (self.mlp_ratio[-1],) * L)

    @property
    def smallest(self) -> Arch:
        L = self.layers[0]
        return Arch(self.embed[0], (self.heads[0],) * L, (self.mlp_ratio[0],) * L)

    # ---- enumeration and sampling
    def size(self) -> int:
        per_layer = len(self.heads) * len(self.mlp_ratio)
        return len(self.embed) * sum(per_layer ** L for L in self.layers)

    @cached_property
    def all(self) -> list[Arch]:
        out = []
        for L in self.layers:
            for e in self.embed:
                for cells in itertools.product(itertools.product(self.heads, self.mlp_ratio), repeat=L):
                    out.append(Arch(e, tuple(c[0] for c in cells), tuple(c[1] for c in cells)))
        return out

    @cached_property
    def index(self) -> dict[Arch, int]:
        return {a: i for i, a in enumerate(self.all)}

    def sample(self, rng: np.random.Generator) -> Arch:
        """Uniform over the embedding width and the layer count, then uniform per layer (the paper's
        sampler): every depth is equally represented, unlike uniform sampling over the space."""
        e = self.embed[rng.integers(len(self.embed))]
        L = self.layers[rng.integers(len(self.layers))]
        return Arch(e, tuple(self.heads[i] for i in rng.integers(len(self.heads), size=L)),
                    tuple(self.mlp_ratio[i] for i in rng.integers(len(self.mlp_ratio), size=L)))

    def sample_distinct(self, n: int, rng: np.random.Generator, exclude=()) -> list[Arch]:
        seen, out = set(exclude), []
        limit = self.size() - len(seen)
        if n > limit:
            raise ValueError(f"asked for {n} distinct architectures; the space has {limit} left")
        while len(out) < n:
            a = self.sample(rng)
            if a not in seen:
                seen.add(a)
                out.append(a)
        return out

    # ---- genotypes: what the optimisers search over
    @property
    def gene_bounds(self) -> np.ndarray:
        """Upper bound (inclusive) of each gene; lower bounds are 0."""
        L = self.max_layers
        return np.array([len(self.embed) - 1, len(self.layers) - 1] + [len(self.heads) - 1] * L
                        + [len(self.mlp_ratio) - 1] * L)

    def decode(self, g) -> Arch:
        g = np.asarray(g).astype(int)
        L, Lm = self.layers[g[1]], self.max_layers
        return Arch(self.embed[g[0]], tuple(self.heads[i] for i in g[2:2 + L]),
                    tuple(self.mlp_ratio[i] for i in g[2 + Lm:2 + Lm + L]))

    def encode(self, a: Arch) -> np.ndarray:
        L, Lm = a.layers, self.max_layers
        h = [self.heads.index(x) for x in a.heads] + [0] * (Lm - L)
        m = [self.mlp_ratio.index(x) for x in a.mlp] + [0] * (Lm - L)
        return np.array([self.embed.index(a.embed), self.layers.index(L), *h, *m])

    # ---- exact costs
    def params(self, a: Arch) -> int:
        """Parameters of the sub-network (tied LM head counted once), biases and norms included."""
        E, hs = a.embed, self.head_size
        n = self.vocab * E + self.context * E + 2 * E  # wte (= LM head), wpe, final norm
        for h, r in zip(a.heads, a.mlp):
            W, H = h * hs, r * E
            n += 2 * E + 3 * (E * W + W) + W * E + E  # norm 1, q/k/v, out projection
            n += 2 * E + E * H + H + H * E + E  # norm 2, MLP
        return n

    def flops(self, a: Arch, seq: int | None = None) -> int:
        """Forward FLOPs of one sequence, the paper's formula 2 N T + 4 L E T^2 with the attention term
        written for a decoupled attention width: 2 N T + 4 T^2 sum_l W_l."""
        T = seq or self.context
        return 2 * self.params(a) * T + 4 * T * T * sum(h * self.head_size for h in a.heads)

    # ---- surrogate features (the paper's [embed, L, mlp_1..L_max, heads_1..L_max], padded)
    def features(self, archs) -> np.ndarray:
        Lm = self.max_layers
        rows = []
        for a in archs:
            pad = Lm - a.layers
            rows.append([a.embed / self.embed[-1], a.layers / Lm,
                         *[h / self.heads[-1] for h in a.heads], *[0.0] * pad,
                         *[m / self.mlp_ratio[-1] for m in a.mlp], *[0.0] * pad,
                         np.log(self.params(a)), np.log(self.flops(a))])
        return np.asarray(rows, dtype=float)
