"""Concept extraction, the way the paper counts (its src/text_search_*, image_search_*):

- text: every caption's tokens are lowercased and lemmatised (simplemma, offline)
  into an inverted index lemma -> caption ids; a concept's count is the size of
  the AND over its lemmatised unigrams' postings. Unigrams absent from the index
  are dropped, as the paper does ("kite (bird of prey)" must not get 0 hits just
  because "prey" is missing). The `lowercased` ablation indexes surface forms.
- image: a tagger marks concept c present when its probability >= 0.7 (the
  paper's RAM++ threshold). Here it is a one-vs-rest logistic tagger trained on a
  separate labelled seed set, so its errors are realistic rather than an oracle's.
- integrated count = |text hits AND image hits| per concept.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

import numpy as np

from llmrepro.freq.config import TaggerCfg

WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=None)
def lemma(token: str) -> str:
    import simplemma

    return simplemma.lemmatize(token, lang="en").lower()


def tokens(text: str, mode: str) -> list[str]:
    words = WORD.findall(text.lower())
    if mode == "lemmatized":
        return [lemma(w) for w in words]
    if mode == "lowercased":
        return words
    raise ValueError(f"text index mode {mode!r} is not one of: lemmatized, lowercased")


def build_index(captions: list[str], mode: str) -> dict[str, set[int]]:
    index: dict[str, set[int]] = defaultdict(set)
    for i, cap in enumerate(captions):
        for t in tokens(cap, mode):
            index[t].add(i)
    return index


def text_hits(index: dict[str, set[int]], concept: str, mode: str) -> set[int]:
    posts = [index[u] for u in tokens(concept, mode) if u in index]
    return set.intersection(*posts) if posts else set()


def tagger_grad(lin, X, y, pos_weight: float) -> None:
    """Set lin's .grad to the gradient of the class-balanced BCE, mean over every (image,
    concept) entry, for one-hot labels y: d/dz is sigmoid(z) off the label and
    pos_weight * (sigmoid(z) - 1) on it. Written out, it costs a third of autograd's passes."""
    import torch

    with torch.no_grad():
        g = torch.sigmoid(torch.addmm(lin.bias, X, lin.weight.T))
        rows = torch.arange(len(y))
        g[rows, y] = pos_weight * (g[rows, y] - 1)
        g /= g.numel()
        lin.weight.grad = g.T @ X
        lin.bias.grad = g.sum(0)


def train_tagger(x: np.ndarray, y: np.ndarray, n_concepts: int, steps: int, lr: float, pos_weight: float,
                 seed: int = 0):
    """One-vs-rest logistic tagger p(c | image) = sigmoid(W x + b), full-batch Adam on a
    class-balanced BCE (without the balance, p >= 0.7 is almost never reached)."""
    import torch

    torch.manual_seed(seed)
    X = torch.from_numpy(x).float()
    labels = torch.from_numpy(y).long()
    lin = torch.nn.Linear(X.shape[1], n_concepts)
    opt = torch.optim.Adam(lin.parameters(), lr=lr)
    for _ in range(steps):
        tagger_grad(lin, X, labels, pos_weight)
        opt.step()
    return lin


def tag(tagger, images: np.ndarray, threshold: float, batch: int = 20000) -> list[set[int]]:
    import torch

    out: list[set[int]] = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            p = torch.sigmoid(tagger(torch.from_numpy(images[i:i + batch]).float()))
            rows, cols = torch.nonzero(p >= threshold, as_tuple=True)
            tags = [set() for _ in range(len(p))]
            for r, c in zip(rows.tolist(), cols.tolist()):
                tags[r].add(c)
            out += tags
    return out


def precision_recall(found: list[set[int]], truth: list[set[int]]) -> dict[str, list[float | None]]:
    """Per concept: the fraction of its found items that are true (precision) and of its true
    items that are found (recall); None where there is nothing to divide by."""
    prec = [len(f & t) / len(f) if f else None for f, t in zip(found, truth)]
    rec = [len(f & t) / len(t) if t else None for f, t in zip(found, truth)]
    return {"precision": prec, "recall": rec}


def extract(world, tagger: TaggerCfg, sigma: float, seed: int) -> dict:
    """Counts per concept by every method, and their fidelity to the generator's truth:
    Spearman against the true integrated counts, the text index's recall on singular and
    plural mentions, and per-concept precision and recall of the text index and the tagger."""
    from llmrepro.freq.world import labelled_images
    from llmrepro.stats import corr

    K = len(world.names)
    idx = {m: build_index(world.captions, m) for m in ("lemmatized", "lowercased")}
    hits = {m: [text_hits(idx[m], c, m) for c in world.names] for m in idx}
    x, y = labelled_images(world, tagger.seed_images, sigma, seed + 1000)
    tags = tag(train_tagger(x, y, K, tagger.steps, tagger.lr, tagger.pos_weight, seed), world.images,
               tagger.threshold)
    image_hits = [set() for _ in range(K)]
    for i, ts in enumerate(tags):
        for c in ts:
            image_hits[c].add(i)
    integrated = [len(t & im) for t, im in zip(hits["lemmatized"], image_hits)]
    named, shown = [set() for _ in range(K)], [set() for _ in range(K)]
    for i, (ns, ss) in enumerate(zip(world.text_concepts, world.image_concepts)):
        for c in ns:
            named[c].add(i)
        for c in ss:
            shown[c].add(i)
    true_int = [len(a & b) for a, b in zip(named, shown)]
    plural = {(i, c) for i, cs in enumerate(world.plural_named) for c in cs}
    mentions = [(i, c) for i, cs in enumerate(world.text_concepts) for c in cs]
    recall = {}
    for m in hits:
        for form, keep in (("all", lambda ic: True), ("plural", lambda ic: ic in plural),
                           ("singular", lambda ic: ic not in plural)):
            found = [i in hits[m][c] for i, c in mentions if keep((i, c))]
            recall[f"{m}_{form}"] = float(np.mean(found)) if found else None
    # misalignment degree, as the repo computes it: pairs whose text concepts and image
    # tags are both non-empty but disjoint, over all pairs
    text_of = [set() for _ in world.captions]
    for c, hs in enumerate(hits["lemmatized"]):
        for i in hs:
            text_of[i].add(c)
    mis = float(np.mean([bool(t) and bool(g) and not (t & g) for t, g in zip(text_of, tags)]))
    sp = corr(integrated, true_int, "spearman")
    return {
        "names": world.names,
        "counts": {"integrated": integrated, "text_lemmatized": [len(h) for h in hits["lemmatized"]],
                   "text_lowercased": [len(h) for h in hits["lowercased"]],
                   "image": [len(h) for h in image_hits], "true_integrated": true_int,
                   "true_text": [len(h) for h in named], "true_image": [len(h) for h in shown]},
        "spearman_integrated_vs_true": sp["value"], **({"spearman_why": sp["why"]} if sp["value"] is None else {}),
        "recall": recall,
        "tagger": precision_recall(image_hits, shown),
        "text": precision_recall(hits["lemmatized"], named),
        "misalignment_degree": mis,
        "zero_integrated": int(sum(c == 0 for c in integrated)),
        "decades": float(np.log10(max(max(integrated, default=1), 1) / max(1, min(integrated, default=1)))),
    }
