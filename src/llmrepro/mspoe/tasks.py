"""Seeded long-context tasks with the gold item at a controlled position.

Both are scored by candidate ranking at one position: every candidate answer is a
single token of the model's vocabulary (with its leading space), so one forward
pass per prompt gives the model's preference among all in-context answers.
(SmolLM2 splits numbers into digits, so number answers would all share a first
token; words do not.)

- kv: key-value retrieval in sentences, Liu et al. style: "The code word for the
  green falcon is river." repeated for N keys, then the question for one key.
- mdqa: multi-document QA over N short synthetic documents, one of which (the
  gold one) holds the answer; distractors describe other entities.
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
    prompt: str
    candidates: list[str]  # the answers in the context, each one token with its leading space
    gold: int  # index into candidates
    position: int  # where the gold item sits in the context


def single_tokens(tok, words) -> list[str]:
    """Words whose ' word' is one token: candidate ranking then needs one position."""
    return [w for w in dict.fromkeys(words) if len(tok(" " + w, add_special_tokens=False)["input_ids"]) == 1]


def kv_example(rng, values: list[str], n: int, position: int) -> Example:
    keys = []
    while len(keys) < n:
        k = f"{ADJECTIVES[rng.integers(len(ADJECTIVES))]} {ANIMALS[rng.integers(len(ANIMALS))]}"
        if k not in keys:
            keys.append(k)
    vals = [values[i] for i in rng.choice(len(values), n, replace=False)]
    lines = [f"The code word for the {k} is {v}." for k, v in zip(keys, vals)]
    q = keys[position]
    prompt = ("Below is a list of code words. Remember them.\n" + "\n".join(lines)
              + f"\n\nQuestion: What is the code word for the {q}?\nAnswer: The code word for the {q} is")
    return Example(prompt, vals, position, position)


def _entity(rng) -> str:
    return "".join(SYLLABLES[i] for i in rng.choice(len(SYLLABLES), 2, replace=False)).capitalize()


def mdqa_example(rng, cities: list[str], n: int, position: int) -> Example:
    names = []
    while len(names) < n:
        e = _entity(rng)
        if e not in names:
            names.append(e)
    where = [cities[i] for i in rng.choice(len(cities), n, replace=False)]
    kinds = [KINDS[i] for i in rng.integers(0, len(KINDS), n)]
    years = rng.integers(1850, 2000, n)
    docs = [f"Document [{i + 1}] (Title: {e}) {e} is a {k} that was founded in {c} in {y}. "
            f"It is known for its {NOUNS_LIST[rng.integers(len(NOUNS_LIST))]}."
            for i, (e, k, c, y) in enumerate(zip(names, kinds, where, years))]
    q = names[position]
    prompt = ("Write a high-quality answer for the given question using only the provided search results.\n\n"
              + "\n".join(docs) + f"\n\nQuestion: In which city was {q} founded?\nAnswer: {q} was founded in")
    return Example(prompt, where, position, position)


NOUNS_LIST = tuple(sorted(NOUNS))


def make(task: str, tok, n: int, positions: list[int], per_position: int, seed: int) -> list[Example]:
    rng = np.random.default_rng(seed)
    if task == "kv":
        values = single_tokens(tok, sorted(NOUNS))
        gen = lambda p: kv_example(rng, values, n, p)
    elif task == "mdqa":
        cities = single_tokens(tok, CITIES)
        gen = lambda p: mdqa_example(rng, cities, n, p)
    else:
        raise ValueError(f"task {task!r} is not one of: kv, mdqa")
    pool = values if task == "kv" else cities
    if len(pool) < n:
        raise ValueError(f"{task}: the tokenizer has only {len(pool)} single-token candidate answers, "
                         f"fewer than n={n} items per prompt")
    bad = [p for p in positions if not 0 <= p < n]
    if bad:
        raise ValueError(f"gold positions {bad} are outside 0..{n - 1} for {task} with {n} items")
    return [gen(p) for p in positions for _ in range(per_position)]
