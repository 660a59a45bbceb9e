"""The tree search of TAP (Algorithm 1), with the flags that give PAIR and the ablations.

One level, for every goal still running (all goals advance in lockstep, so each role
sees one batch per level):

1. branch: every leaf asks the attacker for `branching` refinements (invalid JSON is
   asked again, up to `max_attempts` times, then dropped);
2. prune, phase 1 (`prune_off_topic`): off-topic prompts are deleted before any target
   query;
3. attack and assess: the target answers every remaining prompt (these are the counted
   queries) and the judge scores each answer from 1 to 10; a 10 ends the search;
4. prune, phase 2 (`width`): only the `width` best-scored leaves are kept, ties broken at
   random; `width: None` keeps them all.

After `depth` levels the search fails, or starts again from the root while `restarts`
remain (TAP-No-Branch: b = 1, repeated). PAIR is b = 1, `streams` roots, no pruning.
Queries are counted per goal, failures included (the paper's Remark A.1). With a
`budget`, a goal stops once it has sent that many queries; the level that would exceed
it sends only a random subset of its prompts (methods compared at one budget).

Where phase 1 deletes every prompt of a goal, its leaves stay and branch again at the
next level: the paper's code instead keeps two prompts chosen by a bug in its
fallback (see the notes), which this implementation does not copy.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from llmrepro.tap import attacker as A
from llmrepro.tap.judge import recovered, rule_on_topic
from llmrepro.tap.prompts import GOAL
from llmrepro.tap.world import stable_int


@dataclass(frozen=True)
class Goal:
    key: int  # identifies the run: the attacker's randomness and the tie-breaks derive from it
    system: str  # the target's system prompt (it holds the secret)
    secret: str
    goal: str = GOAL


@dataclass(frozen=True)
class Evaluator:
    """The evaluator's two functions (the paper's Off-Topic and Judge)."""

    on_topic: Callable[[list[str]], list[bool]]
    judge: Callable[[list[str], list[str]], list[int]]  # (secrets, responses) -> scores


@dataclass
class Run:
    goal: Goal
    leaves: list[list[dict]]
    ties: random.Random
    depth: int = 0
    restart: int = 0
    queries: int = 0
    attacker_calls: int = 0
    on_topic_calls: int = 0
    judge_calls: int = 0
    done: bool = False
    judge_success: bool = False
    true_success: bool = False
    stop_queries: int | None = None  # queries spent when a judge score of 10 stopped the search
    first_leak_queries: int | None = None  # queries up to the first true leak, judged or not
    levels: list[dict] = field(default_factory=list)
    best: dict | None = None

    def summary(self) -> dict:
        return {k: getattr(self, k) for k in (
            "queries", "attacker_calls", "on_topic_calls", "judge_calls", "judge_success", "true_success",
            "stop_queries", "first_leak_queries", "depth", "restart", "levels", "best")}


def root(goal: Goal) -> list[dict]:
    return [{"role": "system", "content": A.SYSTEM.format(goal=goal.goal)},
            {"role": "user", "content": A.INIT.format(goal=goal.goal)}]


def _attack(attacker, requests: list[tuple[Run, list[dict]]], max_attempts: int) -> list[dict | None]:
    """One attacker reply per request, asking again where the JSON is invalid."""
    out: list[dict | None] = [None] * len(requests)
    todo = list(range(len(requests)))
    for _ in range(max_attempts):
        if not todo:
            break
        texts = attacker.chat([requests[i][1] for i in todo], seeds=[requests[i][0].goal.key for i in todo])
        again = []
        for i, text in zip(todo, texts):
            requests[i][0].attacker_calls += 1
            reply = A.parse_reply(text)
            if reply is None:
                again.append(i)
            else:
                out[i] = {**reply, "raw": text}
        todo = again
    return out


def _truncate(conv: list[dict], keep_last_n: int) -> list[dict]:
    return conv[:1] + conv[1:][-2 * keep_last_n:]


def search(goals: Sequence[Goal], method, attacker, target, evaluator: Evaluator, keep_last_n: int = 3,
           max_attempts: int = 5, stop: Callable[[Goal], Callable[[str], bool]] | None = None,
           progress=None) -> list[dict]:
    """Run `method` (branching, width, depth, streams, prune_off_topic, restarts) on every goal."""
    runs = [Run(g, [root(g)] * method.streams, random.Random(stable_int("ties", g.key))) for g in goals]
    bar = progress(total=method.depth * method.restarts, desc="levels") if progress else None
    while active := [r for r in runs if not r.done]:
        # 1. branch
        requests = [(r, leaf) for r in active for leaf in r.leaves for _ in range(method.branching)]
        replies = _attack(attacker, requests, max_attempts)
        children: dict[int, list[tuple[list[dict], str]]] = {id(r): [] for r in active}
        for (r, leaf), rep in zip(requests, replies):
            if rep is not None:
                children[id(r)].append((leaf + [{"role": "assistant", "content": rep["raw"]}], rep["prompt"]))
        for r in active:
            kids = children[id(r)]
            r.levels.append({"restart": r.restart, "proposed": len(kids), "unique": len({p for _, p in kids}),
                             "off_topic": sum(not rule_on_topic(p) for _, p in kids)})
        # 2. prune, phase 1: no target query for an off-topic prompt
        if method.prune_off_topic:
            flat = [(r, kid) for r in active for kid in children[id(r)]]
            keep = evaluator.on_topic([kid[1] for _, kid in flat]) if flat else []
            for r in active:
                r.on_topic_calls += len(children[id(r)])
                children[id(r)] = []
            for (r, kid), ok in zip(flat, keep):
                if ok:
                    children[id(r)].append(kid)
        # 3. attack and assess
        if method.budget is not None:
            for r in active:
                room = method.budget - r.queries
                if len(children[id(r)]) > room:
                    children[id(r)] = r.ties.sample(children[id(r)], room)
        flat = [(r, kid) for r in active for kid in children[id(r)]]
        convs = [[{"role": "system", "content": r.goal.system}, {"role": "user", "content": p}] for r, (_, p) in flat]
        responses = target.chat(convs, stops=[stop(r.goal) for r, _ in flat] if stop else None) if flat else []
        scores = evaluator.judge([r.goal.secret for r, _ in flat], responses) if flat else []
        results: dict[int, list] = {id(r): [] for r in active}
        for (r, (conv, prompt)), resp, score in zip(flat, responses, scores):
            results[id(r)].append((conv, prompt, resp, int(score), recovered(r.goal.secret, resp)))
        # 4. per goal: stop on a 10, else prune phase 2 and go one level deeper
        for r in active:
            res = results[id(r)]
            lev = r.levels[-1]
            lev.update(queried=len(res), best_score=max((s for *_, s, _ in res), default=None))
            for _, prompt, resp, score, leak in res:
                if leak and r.first_leak_queries is None:  # a level's queries go out together
                    r.first_leak_queries = r.queries + len(res)
                if r.best is None or score > r.best["score"]:
                    r.best = {"score": score, "prompt": prompt, "response": resp, "leak": leak}
            r.queries += len(res)
            r.judge_calls += len(res)
            tens = [x for x in res if x[3] == 10]
            if tens:
                r.done, r.judge_success, r.stop_queries = True, True, r.queries
                r.true_success = any(x[4] for x in tens)
                r.best = {"score": 10, "prompt": tens[0][1], "response": tens[0][2], "leak": tens[0][4]}
                continue
            if res:
                res.sort(key=lambda x: (-x[3], r.ties.random()))
                if method.width is not None:
                    res = res[:method.width]
                r.leaves = [_truncate(conv + [{"role": "user", "content": A.feedback(resp, score, r.goal.goal)}],
                                      keep_last_n) for conv, _, resp, score, _ in res]
            r.depth += 1
            if method.budget is not None and r.queries >= method.budget:
                r.done = True
            elif r.depth >= method.depth:
                if r.restart + 1 < method.restarts:
                    r.restart, r.depth, r.leaves = r.restart + 1, 0, [root(r.goal)] * method.streams
                else:
                    r.done = True
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return [r.summary() for r in runs]
