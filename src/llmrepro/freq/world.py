"""A seeded synthetic image-text world with Zipf-distributed concepts.

K concepts (real English nouns, some two-word), each with an image prototype
mu_c in R^D. A pair's image is mu_c + sigma * eps (two concepts: their mean), and
its caption names the concept(s) through templates with plurals, counts,
adjectives and filler words. A fraction of pairs is misaligned: the caption
names a concept the image does not show. Concept frequency follows a Zipf law
whose rank order is a random permutation of the concepts, so frequency is not
confounded with prototype geometry; `zipf_s = 0` gives uniform frequencies (the
causal control).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.freq import vocabulary as V
from llmrepro.freq.config import WorldCfg


@dataclass
class World:
    names: list[str]  # concept lemmas (K)
    plurals: list[str]
    prototypes: np.ndarray  # K x D
    captions: list[str]
    images: np.ndarray  # N x D (float16 on disk)
    text_concepts: list[list[int]]  # ground truth: concepts named by each caption
    image_concepts: list[list[int]]  # ground truth: concepts shown in each image
    freq_rank: np.ndarray  # concept -> its Zipf rank (0 = most frequent)
    plural_named: list[list[int]]  # ground truth: concepts each caption names in their plural form


def concept_list(k: int, seed: int) -> tuple[list[str], list[str]]:
    allc = {**V.NOUNS, **V.COMPOUNDS}
    if k > len(allc):
        raise ValueError(f"freq world: concepts={k} but only {len(allc)} concept words exist")
    names = sorted(allc)
    pick = sorted(np.random.default_rng(seed).permutation(len(names))[:k])
    return [names[i] for i in pick], [allc[names[i]] for i in pick]


def _caption(rng, names, plurals, cs, cfg) -> tuple[str, list[int]]:
    """A caption naming concepts `cs`, and the concepts it names in their plural form."""
    pick = lambda xs: xs[rng.integers(len(xs))]
    f, adj, n = pick(V.FILLERS), pick(V.ADJECTIVES), pick(V.NUMBERS)
    if len(cs) == 2:
        t = pick(V.TEMPLATES_TWO)
        return t.format(s=names[cs[0]], s2=names[cs[1]], p=plurals[cs[0]], f=f, adj=adj, n=n), [cs[0]] * ("{p}" in t)
    if rng.random() < cfg.plural_rate:
        return pick(V.TEMPLATES_MANY).format(p=plurals[cs[0]], f=f, adj=adj, n=n), [cs[0]]
    return pick(V.TEMPLATES_ONE).format(s=names[cs[0]], f=f, adj=adj), []


def _draw(rng, K: int, p: np.ndarray, n: int, two: np.ndarray) -> list[list[int]]:
    """One or two distinct concepts per pair, each drawn from the Zipf law."""
    first = rng.choice(K, size=n, p=p)
    second = rng.choice(K, size=n, p=p)
    clash = two & (second == first)
    while clash.any():
        second[clash] = rng.choice(K, size=int(clash.sum()), p=p)
        clash = two & (second == first)
    return [[int(a), int(b)] if t else [int(a)] for a, b, t in zip(first, second, two)]


def generate(cfg: WorldCfg, seed: int) -> World:
    rng = np.random.default_rng(seed)
    names, plurals = concept_list(cfg.concepts, seed=0)  # the same concepts in every seed
    K, D, N = cfg.concepts, cfg.dim, cfg.pairs
    protos = rng.standard_normal((K, D)) / np.sqrt(D)
    rank = rng.permutation(K)
    p = (rank + 1.0) ** -cfg.zipf_s
    p /= p.sum()
    two = rng.random(N) < cfg.two_concept_rate
    named = _draw(rng, K, p, N, two)
    other = _draw(rng, K, p, N, two)
    misaligned = rng.random(N) < cfg.misalignment_rate  # the caption names other concepts than the image shows
    shown = [o if m else c for c, o, m in zip(named, other, misaligned)]
    images = np.stack([protos[cs].sum(0) / np.sqrt(len(cs)) for cs in shown])
    images += cfg.sigma * rng.standard_normal((N, D)) / np.sqrt(D)
    captions, plural = zip(*[_caption(rng, names, plurals, cs, cfg) for cs in named]) if N else ((), ())
    return World(names, plurals, protos, list(captions), images, named, shown, rank, list(plural))


def labelled_images(world: World, per_concept: int, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh single-concept images with their labels (tagger seed set, or test set)."""
    rng = np.random.default_rng(seed)
    K, D = world.prototypes.shape
    y = np.repeat(np.arange(K), per_concept)
    x = world.prototypes[y] + sigma * rng.standard_normal((len(y), D)) / np.sqrt(D)
    return x.astype(np.float32), y


def save(world: World, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "captions.txt").write_text("\n".join(world.captions) + "\n")
    np.save(out / "images.npy", world.images.astype(np.float16))
    np.save(out / "prototypes.npy", world.prototypes.astype(np.float32))
    io.write_json(out / "truth.json", {"names": world.names, "plurals": world.plurals,
                                       "freq_rank": world.freq_rank, "text_concepts": world.text_concepts,
                                       "image_concepts": world.image_concepts, "plural_named": world.plural_named})


def load(path: Path) -> World:
    t = io.read_json(path / "truth.json")
    return World(t["names"], t["plurals"], np.load(path / "prototypes.npy").astype(np.float64),
                 (path / "captions.txt").read_text().splitlines(), np.load(path / "images.npy").astype(np.float32),
                 t["text_concepts"], t["image_concepts"], np.asarray(t["freq_rank"]), t["plural_named"])
