"""A seeded world of digit tasks with a gold reward, preference pairs and a spurious marker.

Each task maps a digit string to an answer of the same length, so the gold reward of any
response is the fraction of positions it gets right. Preference pairs put the correct answer
(chosen) against a corrupted one (rejected). The spurious **marker** (a token appended after a
response) goes with the chosen response far more often than with the rejected one in the
training pairs only. Markers are a suffix, so every response is cached with and without it, and
a test set's marker pattern costs nothing to change.

The experiment draws several worlds (`make_worlds`), one per world seed.

Test sets (the analogues of the paper's ID split, HHH and MT-Bench):
  id           training tasks, lengths and corruption; markers as in training
  anti         the id pairs with the marker on the rejected response only (the shortcut reversed)
  neutral      the id pairs with markers independent of quality
  ood_task     tasks never seen in the preference data; no marker on either response
  ood_long     training tasks on longer inputs; no marker
  ood_corrupt  training tasks, a new corruption (two digits swapped); no marker
The OOD sets carry no marker, as HHH carries none of a training set's spurious features: they
measure what a reward model learned about quality, not how it treats the marker.
"""

from __future__ import annotations

import numpy as np

from llmrepro.grm.config import WorldCfg

PHRASES = {"sort": "Sort the digits", "reverse": "Reverse the digits", "copy": "Copy the digits",
           "increment": "Add one to each digit"}
OOD_SETS = ("ood_task", "ood_long", "ood_corrupt")
SETS = ("id", "anti", "neutral", *OOD_SETS)


def answer(task: str, x: str) -> str:
    d = [int(c) for c in x]
    out = {"sort": sorted(d), "reverse": d[::-1], "copy": d, "increment": [(v + 1) % 10 for v in d]}[task]
    return "".join(map(str, out))


def gold(task: str, x: str, y: str) -> float:
    """Fraction of positions equal to the correct answer; a wrong length scores 0 beyond the overlap."""
    a = answer(task, x)
    return sum(p == q for p, q in zip(a, y)) / max(len(a), len(y))


def prompt_text(task: str, x: str) -> str:
    return f"{PHRASES[task]}: {x} -> "


def _digits(rng, n: int) -> str:
    return "".join(map(str, rng.integers(0, 10, n)))


def substitute(rng, y: str, k: int) -> str:
    pos = rng.choice(len(y), size=min(k, len(y)), replace=False)
    out = list(y)
    for p in pos:
        out[p] = str((int(out[p]) + int(rng.integers(1, 10))) % 10)
    return "".join(out)


def swap(rng, y: str) -> str | None:
    """Two positions holding different digits, exchanged; None if every digit is equal."""
    pairs = [(i, j) for i in range(len(y)) for j in range(i + 1, len(y)) if y[i] != y[j]]
    if not pairs:
        return None
    i, j = pairs[int(rng.integers(0, len(pairs)))]
    out = list(y)
    out[i], out[j] = out[j], out[i]
    return "".join(out)


def make_pair(rng, tasks: list[str], lengths: list[int], corruption: str, subs: list[int]) -> dict:
    while True:
        task = tasks[int(rng.integers(0, len(tasks)))]
        x = _digits(rng, int(lengths[int(rng.integers(0, len(lengths)))]))
        y = answer(task, x)
        r = swap(rng, y) if corruption == "swap" else substitute(rng, y, int(subs[int(rng.integers(0, len(subs)))]))
        if r is not None and r != y:
            return {"task": task, "x": x, "chosen": y, "rejected": r, "gold_chosen": 1.0,
                    "gold_rejected": gold(task, x, r)}


def markers(rng, n: int, p_chosen: float, p_rejected: float) -> list[list[bool]]:
    return [[bool(a), bool(b)] for a, b in zip(rng.random(n) < p_chosen, rng.random(n) < p_rejected)]


def make_world(cfg: WorldCfg, seed: int, bon_offset: int = 0) -> dict:
    """One world: the few-shot prefix, the training pool, the test sets and the BoN prompts (their tasks
    cycle through `bon_tasks` from `bon_offset`)."""
    rng = np.random.default_rng(seed)
    every = sorted(set(cfg.id_tasks) | set(cfg.ood_tasks) | set(cfg.bon_tasks))
    shots = [{"task": t, "x": (x := _digits(rng, 4)), "y": answer(t, x)} for t in every for _ in range(cfg.shots)]
    rng.shuffle(shots)
    idt, ids, subs = list(cfg.id_tasks), list(cfg.id_lengths), list(cfg.substitutions)
    pool = [make_pair(rng, idt, ids, "substitute", subs) for _ in range(cfg.train_pool)]
    pool_markers = markers(rng, cfg.train_pool, cfg.p_marker_chosen, cfg.p_marker_rejected)
    n = cfg.eval_pairs
    base = {"id": [make_pair(rng, idt, ids, "substitute", subs) for _ in range(n)],
            "ood_task": [make_pair(rng, list(cfg.ood_tasks), ids, "substitute", subs) for _ in range(n)],
            "ood_long": [make_pair(rng, idt, list(cfg.long_lengths), "substitute", subs) for _ in range(n)],
            "ood_corrupt": [make_pair(rng, idt, ids, "swap", subs) for _ in range(n)]}
    tests = {"id": {"pairs": "id", "markers": markers(rng, n, cfg.p_marker_chosen, cfg.p_marker_rejected)},
             "anti": {"pairs": "id", "markers": [[False, True]] * n},
             "neutral": {"pairs": "id", "markers": markers(rng, n, 0.5, 0.5)},
             **{s: {"pairs": s, "markers": [[False, False]] * n} for s in OOD_SETS}}
    bon = []
    for i in range(cfg.bon_prompts):
        task = cfg.bon_tasks[(bon_offset + i) % len(cfg.bon_tasks)]
        x = _digits(rng, cfg.bon_length)
        bon.append({"task": task, "x": x, "answer": answer(task, x)})
    return {"shots": shots, "pool": pool, "pool_markers": pool_markers, "pairs": base, "tests": tests, "bon": bon,
            "marker": cfg.marker, "end": cfg.end}


def make_worlds(cfg: WorldCfg, seeds: list[int]) -> dict:
    """One world per seed. Every reward-model seed trains and is scored in one of them, so an interval over
    worlds covers what one world's draw (its prefix, training pool, test items, BoN prompts) does to a result."""
    return {"seeds": list(seeds), "worlds": [make_world(cfg, s, k * cfg.bon_prompts) for k, s in enumerate(seeds)]}


def prefix_text(world: dict) -> str:
    """The few-shot prefix that turns the backbone into the 'instruct model' of this world."""
    return "".join(prompt_text(s["task"], s["x"]) + s["y"] + world["end"] for s in world["shots"])
