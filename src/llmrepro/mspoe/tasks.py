"""Seeded long-context tasks with the gold item at a controlled position.

Both are scored by candidate ranking at one position: every candidate answer is a
single token of the model's vocabulary (with its leading space), so one forward
pass per prompt gives the model's preference among the candidates, all of them
answers that appear in the context. (SmolLM2 splits numbers into digits, so
number answers would all share a first token; words do not.)

- kv: key-value retrieval in sentences, Liu et al. style: "The code word for the
  green falcon is river." repeated for N keys, then the question for one key.
- mdqa: multi-document QA over N short synthetic documents, one of which (the
  gold one) holds the answer; distractors describe other entities.

Each context is asked about the item at every gold position: the prompts of one
context share their prefix (the context), so a model can run it once and answer
every question from its KV cache, and the positions are compared on equal contexts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmrepro.freq.vocabulary import ADJECTIVES, NOUNS

ANIMALS = ("falcon", "otter", "badger", "heron", "lynx", "beetle", "salmon", "raven", "bison", "gecko", "panda",
           "walrus", "cobra", "moth", "viper", "koala", "hornet", "ferret", "marmot", "stork", "trout", "wren",
           "yak", "iguana", "jackal", "lemur", "mole", "newt", "oriole", "pelican", "quail", "robin")
CITIES = ("Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Dublin", "Oslo", "Lisbon", "Athens",
          "Warsaw", "Cairo", "Tokyo", "Seoul", "Beijing", "Delhi", "Mumbai", "Sydney", "Toronto", "Chicago",
          "Boston", "Denver", "Dallas", "Houston", "Miami", "Seattle", "Moscow", "Istanbul", "Munich", "Milan",
          "Naples", "Venice", "Geneva", "Zurich", "Brussels", "Amsterdam", "Stockholm", "Helsinki", "Budapest")
SYLLABLES = ("ka", "lo", "mi", "ven", "tor", "sa", "ri", "dun", "bel", "cor", "na", "zel", "quo", "fen", "har",
             "lin", "mor", "pel", "rus", "tam")
KINDS = ("company", "museum", "university", "bakery", "orchestra", "newspaper", "hospital", "theatre")


@dataclass
class Example:
    prefix: str  # the context, shared by every question about it
    suffix: str  # the question; the prompt is prefix + suffix, tokenized apart
    candidates: list[str]  # answers from the context, each one token with its leading space
    gold: int  # index into candidates
    position: int  # where the gold item sits in the context
    context: int  # which context (examples of one context share their prefix)


def single_tokens(tok, words) -> list[str]:
    """Words whose ' word' is one token: candidate ranking then needs one position."""
    return [w for w in dict.fromkeys(words) if len(tok(" " + w, add_special_tokens=False)["input_ids"]) == 1]


def _distinct(rng, n: int, draw) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        x = draw()
        if x not in out:
            out.append(x)
    return out


def _questions(rng, prefix: str, answers: list[str], positions: list[int], n_candidates: int, context: int,
               question) -> list[Example]:
    """One example per gold position; candidates are every answer in the context, or the gold
    one and n_candidates - 1 others drawn from the context (kept in context order)."""
    n = len(answers)
    out = []
    for p in positions:
        if 0 < n_candidates < n:
            others = rng.choice([i for i in range(n) if i != p], n_candidates - 1, replace=False)
            idx = sorted([p, *others.tolist()])
        else:
            idx = list(range(n))
        out.append(Example(prefix, question(p), [answers[i] for i in idx], idx.index(p), p, context))
    return out


def kv_context(rng, values: list[str], n: int, positions: list[int], n_candidates: int, context: int
               ) -> list[Example]:
    keys = _distinct(rng, n, lambda: f"{ADJECTIVES[rng.integers(len(ADJECTIVES))]} "
                                     f"{ANIMALS[rng.integers(len(ANIMALS))]}")
    vals = [values[i] for i in rng.choice(len(values), n, replace=False)]
    lines = [f"The code word for the {k} is {v}." for k, v in zip(keys, vals)]
    prefix = "Below is a list of code words. Remember them.\n" + "\n".join(lines)
    ask = lambda p: (f"\n\nQuestion: What is the code word for the {keys[p]}?\n"
                     f"Answer: The code word for the {keys[p]} is")
    return _questions(rng, prefix, vals, positions, n_candidates, context, ask)


def _entity(rng) -> str:
    return "".join(SYLLABLES[i] for i in rng.choice(len(SYLLABLES), 2, replace=False)).capitalize()


def mdqa_context(rng, cities: list[str], n: int, positions: list[int], n_candidates: int, context: int
                 ) -> list[Example]:
    names = _distinct(rng, n, lambda: _entity(rng))
    where = [cities[i] for i in rng.choice(len(cities), n, replace=False)]
    kinds = [KINDS[i] for i in rng.integers(0, len(KINDS), n)]
    years = rng.integers(1850, 2000, n)
    docs = [f"Document [{i + 1}] (Title: {e}) {e} is a {k} that was founded in {c} in {y}. "
            f"It is known for its {NOUNS_LIST[rng.integers(len(NOUNS_LIST))]}."
            for i, (e, k, c, y) in enumerate(zip(names, kinds, where, years))]
    prefix = ("Write a high-quality answer for the given question using only the provided search results.\n\n"
              + "\n".join(docs))
    ask = lambda p: f"\n\nQuestion: In which city was {names[p]} founded?\nAnswer: {names[p]} was founded in"
    return _questions(rng, prefix, where, positions, n_candidates, context, ask)


NOUNS_LIST = tuple(sorted(NOUNS))
KINDS_OF_TASK = ("kv", "mdqa")


def make(kind: str, tok, n: int, positions: list[int], contexts: int, candidates: int, seed: int) -> list[Example]:
    """`contexts` seeded contexts of n items, each asked about the item at every gold position."""
    rng = np.random.default_rng(seed)
    if kind == "kv":
        pool, gen = single_tokens(tok, sorted(NOUNS)), kv_context
    elif kind == "mdqa":
        pool, gen = single_tokens(tok, CITIES), mdqa_context
    else:
        raise ValueError(f"task kind {kind!r} is not one of: {', '.join(KINDS_OF_TASK)}")
    if len(pool) < n:
        raise ValueError(f"{kind}: the tokenizer has only {len(pool)} single-token candidate answers, "
                         f"fewer than n={n} items per prompt")
    bad = [p for p in positions if not 0 <= p < n]
    if bad:
        raise ValueError(f"gold positions {bad} are outside 0..{n - 1} for {kind} with {n} items")
    return [e for c in range(contexts) for e in gen(rng, pool, n, positions, candidates, c)]
