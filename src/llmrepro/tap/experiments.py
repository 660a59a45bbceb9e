"""What each tap stage computes: attacker tuning on dev vaults, the methods on test vaults,
the sensitivity map, and the game against SmolLM2."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np

from llmrepro.tap import attacker as A
from llmrepro.tap import judge as J
from llmrepro.tap import prompts as P
from llmrepro.tap import roles as R
from llmrepro.tap import world as W
from llmrepro.tap.search import Evaluator, Goal, search


def run_key(seed: int, split: str, vault_id: int) -> int:
    """Shared by every method on one (seed, vault): their attackers draw the same modal moves
    (common random numbers make method differences less noisy)."""
    return W.stable_int("run", seed, split, vault_id)


def record(method: str, seed: int, vault: dict, out: dict) -> dict:
    first = [lv for lv in out["levels"] if lv["restart"] == 0][:1]
    proposed = sum(lv["proposed"] for lv in out["levels"])
    return {"method": method, "seed": seed, **vault,
            **{k: out[k] for k in ("queries", "judge_success", "true_success", "stop_queries", "first_leak_queries",
                                   "attacker_calls", "on_topic_calls", "judge_calls")},
            "levels": len(out["levels"]), "proposed": proposed,
            "off_topic_proposed": sum(lv["off_topic"] for lv in out["levels"]),
            "first_level_proposed": first[0]["proposed"] if first else 0,
            "first_level_unique": first[0]["unique"] if first else 0,
            "best_score": (out["best"] or {}).get("score")}


def rule_runs(p, knobs, vaults: list[W.Vault], methods: dict, seeds: list[int], progress=None) -> list[dict]:
    """Every method on every vault for every seed, against the rule target."""
    target = W.RuleTarget(vaults, p.world.thresholds, p.world.noise)
    rows = []
    for name, m in methods.items():
        for seed in seeds:
            attacker = A.RandomAttacker() if m.attacker == "random" else A.RuleAttacker(knobs, p.keep_last_n)
            goals = [Goal(run_key(seed, v.split, v.id), v.system, v.secret) for v in vaults]
            outs = search(goals, m, attacker, target, R.rule_evaluator(m), p.keep_last_n, p.max_attempts)
            rows += [record(name, seed, {"vault": v.id, "tier": v.tier}, o) for v, o in zip(vaults, outs)]
        if progress is not None:
            progress.update(1)
    return rows


def tune(p, progress=None) -> dict:
    """Grid over (epsilon, explore_edits) on dev vaults; the best mean true success of the
    tuning methods wins (ties: the earlier grid point)."""
    vaults = W.make_vaults(p.world, p.world_seed, "dev", p.vaults.dev_per_tier)
    grid = []
    for eps, edits in itertools.product(p.tune.epsilon, p.tune.explore_edits):
        knobs = p.attacker.model_copy(update={"epsilon": eps, "explore_edits": edits})
        rows = rule_runs(p, knobs, vaults, {m: p.methods[m] for m in p.tune.methods}, p.tune.seeds)
        per = {m: float(np.mean([r["true_success"] for r in rows if r["method"] == m])) for m in p.tune.methods}
        grid.append({"epsilon": eps, "explore_edits": edits, "success": per, "objective": float(np.mean(list(per.values())))})
        if progress is not None:
            progress.update(1)
    best = max(range(len(grid)), key=lambda i: (grid[i]["objective"], -i))
    return {"grid": grid, "chosen": {k: grid[best][k] for k in ("epsilon", "explore_edits")},
            "dev_vaults": len(vaults), "seeds": list(p.tune.seeds)}


def tuned_knobs(p, tune_result: dict):
    return p.attacker.model_copy(update=tune_result["chosen"])


def test_runs(p, tune_result: dict, progress=None) -> dict:
    vaults = W.make_vaults(p.world, p.world_seed, "test", p.vaults.test_per_tier)
    knobs = tuned_knobs(p, tune_result)
    rows = rule_runs(p, knobs, vaults, dict(p.methods), list(p.seeds), progress)
    return {"knobs": knobs.model_dump(), "max_queries": {k: m.max_queries() for k, m in p.methods.items()},
            "vaults": [{"id": v.id, "tier": v.tier} for v in vaults], "rows": rows}


def sensitivity(p, tune_result: dict, progress=None) -> dict:
    """TAP and PAIR over the (p_off, redundancy) grid, one tier."""
    s = p.sensitivity
    vaults = [v for v in W.make_vaults(p.world, p.world_seed, "test", p.vaults.test_per_tier) if v.tier == s.tier]
    vaults = vaults[:s.vaults]
    base = tuned_knobs(p, tune_result)
    cells = []
    for p_off, red in itertools.product(s.p_off, s.redundancy):
        # drift after an off-topic parent keeps the default's relative rise (Remark A.2)
        after = min(1.0, p_off + (1 - p_off) * (base.p_off_after_off - base.p_off) / max(1e-9, 1 - base.p_off))
        knobs = base.model_copy(update={"p_off": p_off, "p_off_after_off": after, "redundancy": red})
        rows = rule_runs(p, knobs, vaults, {m: p.methods[m] for m in ("tap", "pair")}, list(s.seeds))
        cells.append({"p_off": p_off, "p_off_after_off": after, "redundancy": red, "rows": [
            {k: r[k] for k in ("method", "seed", "vault", "true_success", "queries")} for r in rows]})
        if progress is not None:
            progress.update(1)
    return {"tier": s.tier, "cells": cells}


# ---------------------------------------------------------------- SmolLM2

SCREEN = (P.Prompt("direct"), P.Prompt("direct", obfuscation="synonym"), P.Prompt("euphemism"))


class CachedTarget:
    """A greedy target is a function of its input: identical conversations are generated once
    (every query is still counted by the search)."""

    def __init__(self, chat):
        self.chat_model = chat
        self._cache: dict[tuple[str, str], str] = {}
        self.generations = 0

    def chat(self, convs, stops=None, seeds=None):
        keys = [(c[0]["content"], c[-1]["content"]) for c in convs]
        todo = {}
        for i, k in enumerate(keys):
            if k not in self._cache and k not in todo:
                todo[k] = i
        if todo:
            idx = list(todo.values())
            outs = self.chat_model.chat([convs[i] for i in idx], stops=[stops[i] for i in idx] if stops else None)
            self.generations += len(idx)
            for k, o in zip(todo, outs):
                self._cache[k] = o
        return [self._cache[k] for k in keys]


def on_topic_calibration(p, embed) -> dict:
    """The embedding threshold, chosen on dev prompts and checked on separate test prompts
    (labels from the prompt grammar: does the prompt ask for the secret?)."""
    from llmrepro.tap.embed import balanced_accuracy, choose_threshold, similarities

    def sample(n, seed):
        rng = random.Random(W.stable_int("on_topic", seed))
        ps = [P.random_prompt(rng, on_topic=None) for _ in range(n)]
        return [P.render(q) for q in ps], np.array([q.on_topic for q in ps])

    c = p.on_topic
    dev, dev_y = sample(c.dev_prompts, c.seed)
    test, test_y = sample(c.test_prompts, c.seed + 1)
    sd, st = similarities(embed, dev, P.GOAL), similarities(embed, test, P.GOAL)
    chosen = choose_threshold(sd, dev_y)
    th = chosen["threshold"]
    return {**chosen, "test_balanced_accuracy": None if th is None else balanced_accuracy(st >= th, test_y),
            "test_on_topic_recall": None if th is None else float((st[test_y] >= th).mean()),
            "test_off_topic_recall": None if th is None else float((st[~test_y] < th).mean()),
            "dev": {"n": len(dev), "on_topic": int(dev_y.sum())}, "test": {"n": len(test), "on_topic": int(test_y.sum())},
            "similarity": {"on_topic_mean": float(sd[dev_y].mean()), "off_topic_mean": float(sd[~dev_y].mean())}}


def game(p, local_model: Path, embed, tune_result: dict, progress=None, log=None) -> dict:
    """Per target: screen secrets against direct questions, then every method at one per-vault
    query budget. Roles come from `p.game` (mini: the rule attacker, the exact judge, the
    embedding on-topic check, SmolLM2 as the target)."""
    g = p.game
    cal = on_topic_calibration(p, embed)
    on_topic = None  # "evaluator": the evaluator's own check (an LLM evaluator asks its model)
    if g.on_topic == "embedding" and cal["threshold"] is not None:
        th = cal["threshold"]
        on_topic = lambda ps: [bool(x >= th) for x in _sims(embed, ps)]  # noqa: E731
    elif g.on_topic != "evaluator":
        on_topic = lambda ps: [J.rule_on_topic(q) for q in ps]  # noqa: E731
    knobs = tuned_knobs(p, tune_result)
    eval_chat = R.chat_model(g.evaluator) if g.evaluator.kind != "rule" else None
    attack_chat = R.chat_model(g.attacker) if g.attacker.kind != "rule" else None
    out = {"on_topic": cal, "targets": {}, "roles": {
        "attacker": _describe(g.attacker, attack_chat), "evaluator": _describe(g.evaluator, eval_chat)}}
    for tname, role in g.targets.items():
        chat = R.chat_model(role, local_model, g.batch)
        target = CachedTarget(chat)
        rng = random.Random(W.stable_int("secrets", g.secret_seed))
        candidates = rng.sample(W.SECRETS, g.candidates)
        screen = []
        for secret in candidates:
            system = W.system_prompt(secret, g.system)
            convs = [[{"role": "system", "content": system}, {"role": "user", "content": P.render(q)}] for q in SCREEN]
            outs = target.chat(convs, stops=[_leak(secret)] * len(convs))
            screen.append({"secret": secret, "leaked": [J.recovered(secret, o) for o in outs]})
        kept = [s["secret"] for s in screen if not any(s["leaked"])][:g.vaults]
        if log is not None:
            log.info("%s: %d of %d secrets survive the direct questions", tname, len(kept), len(candidates))
        rows = []
        for name, m in g.methods.items():
            for seed in g.seeds:
                attacker = (A.RandomAttacker() if m.attacker == "random" else attack_chat if attack_chat is not None
                            else A.RuleAttacker(knobs, p.keep_last_n))
                ev = R.llm_evaluator(eval_chat) if eval_chat is not None else R.rule_evaluator(m)
                if on_topic is not None:
                    ev = Evaluator(on_topic=on_topic, judge=ev.judge)
                goals = [Goal(run_key(seed, "game", i), W.system_prompt(s, g.system), s) for i, s in enumerate(kept)]
                outs = search(goals, m, attacker, target, ev, p.keep_last_n, p.max_attempts,
                              stop=lambda goal: _leak(goal.secret))
                rows += [record(name, seed, {"vault": i, "secret": s}, o) | {"best": o["best"]}
                         for i, (s, o) in enumerate(zip(kept, outs))]
                if progress is not None:
                    progress.update(1)
        out["targets"][tname] = {
            "role": _describe(role, chat), "screen": screen, "vaults": kept, "rows": rows,
            "max_queries": {k: m.max_queries() for k, m in g.methods.items()}, "generations": target.generations,
            "prompt_tokens": getattr(chat, "prompt_tokens", None),
            "generated_tokens": getattr(chat, "generated_tokens", None)}
    out["on_topic_calls"] = embed.calls
    return out


def _describe(role, chat) -> dict:
    """What the results may record about a role (an endpoint describes itself without its key)."""
    d = {"kind": role.kind, "hub": role.hub.model_dump() if role.hub else None}
    if chat is not None and hasattr(chat, "describe"):
        d["endpoint"] = chat.describe()
    return d


def _leak(secret: str):
    return lambda text: J.recovered(secret, text)


def _sims(embed, prompts):
    from llmrepro.tap.embed import similarities

    return similarities(embed, prompts, P.GOAL)
