"""The tree search on scripted trees: pruning, width, query counting, early stop, restarts."""

from __future__ import annotations

import json

import pytest

from llmrepro.tap import attacker as A
from llmrepro.tap.config import Method
from llmrepro.tap.search import Evaluator, Goal, search

ON, OFF = "ask for the password", "talk about octopuses"


class ScriptedAttacker:
    """Replies by (depth, branch index among identical requests): prompts named 'ON d.k' or 'OFF d.k',
    on-topic unless the script says otherwise."""

    def __init__(self, off=lambda depth, k: False, bad=lambda depth, k: False):
        self.off, self.bad = off, bad
        self.seen: dict[str, int] = {}
        self.calls = 0

    def chat(self, convs, stops=None, seeds=None):
        out = []
        for c in convs:
            depth = sum(m["role"] == "assistant" for m in c)
            key = json.dumps(c)
            k = self.seen.get(key, 0)
            self.seen[key] = k + 1
            self.calls += 1
            if self.bad(depth, k):
                out.append('{"improvement": "cut off')
                continue
            tag = OFF if self.off(depth, k) else ON
            out.append(json.dumps({"improvement": "", "prompt": f"{tag} {depth}.{k}"}))
        return out


class ScriptedTarget:
    def __init__(self, leak_at=None):
        self.leak_at = leak_at or set()
        self.queries: list[str] = []
        self.batches: list[int] = []

    def chat(self, convs, stops=None, seeds=None):
        self.batches.append(len(convs))
        outs = []
        for c in convs:
            p = c[-1]["content"]
            self.queries.append(p)
            outs.append("the password is GARDEN" if p in self.leak_at else "no")
        return outs


def judge_by_prompt_number(secrets, responses):
    return [10 if "GARDEN" in r else 1 for r in responses]


EV = Evaluator(on_topic=lambda ps: [p.startswith(ON) for p in ps], judge=judge_by_prompt_number)
GOAL = Goal(key=1, system="sys", secret="garden")


def run(method, attacker, target, goals=(GOAL,), **kw):
    return search(list(goals), method, attacker, target, kw.pop("evaluator", EV), **kw)


def test_tap_all_on_topic_never_succeeding_costs_exactly_its_cap():
    m = Method(branching=4, width=10, depth=10)
    out = run(m, ScriptedAttacker(), ScriptedTarget())[0]
    # levels: 4, 16, then 40 (10 leaves x 4) for 8 levels
    assert out["queries"] == 4 + 16 + 8 * 40 == m.max_queries() == 340
    assert out["judge_calls"] == 340 and out["on_topic_calls"] == 340 and out["attacker_calls"] == 340
    assert [lv["queried"] for lv in out["levels"]] == [4, 16] + [40] * 8
    assert not out["judge_success"] and out["stop_queries"] is None


def test_pair_is_b1_without_pruning_and_a_failure_costs_streams_times_depth():
    m = Method(branching=1, width=None, depth=3, streams=20, prune_off_topic=False)
    t = ScriptedTarget()
    out = run(m, ScriptedAttacker(off=lambda d, k: True), t)[0]  # off-topic prompts are queried too
    assert out["queries"] == 60 == m.max_queries() and out["on_topic_calls"] == 0
    assert t.batches == [20, 20, 20]


def test_phase_one_deletes_off_topic_prompts_before_any_query():
    m = Method(branching=4, width=10, depth=2)
    t = ScriptedTarget()
    out = run(m, ScriptedAttacker(off=lambda d, k: k % 2 == 1), t)[0]
    assert all(q.startswith(ON) for q in t.queries)
    # level 0: 2 of 4 on-topic; level 1: each of 2 leaves -> 4 children, 2 on-topic each
    assert out["queries"] == 2 + 4 and out["on_topic_calls"] == 4 + 8
    assert [lv["off_topic"] for lv in out["levels"]] == [2, 4]


def test_without_phase_one_off_topic_prompts_cost_queries():
    m = Method(branching=4, width=10, depth=2, prune_off_topic=False)
    out = run(m, ScriptedAttacker(off=lambda d, k: k % 2 == 1), ScriptedTarget())[0]
    assert out["queries"] == 4 + 16 and out["on_topic_calls"] == 0


def test_phase_two_keeps_at_most_width_leaves_and_prefers_high_scores():
    m = Method(branching=3, width=2, depth=3)
    scores = {}

    def judge(secrets, responses):
        return [scores.get(r, 1) for r in responses]

    class T(ScriptedTarget):
        def chat(self, convs, stops=None, seeds=None):
            self.batches.append(len(convs))
            return [c[-1]["content"] for c in convs]  # the response names its prompt

    scores.update({f"{ON} 0.2": 7, f"{ON} 0.0": 5})  # level 0: children 0.0, 0.1, 0.2
    t = T()
    out = run(m, ScriptedAttacker(), t, evaluator=Evaluator(EV.on_topic, judge))[0]
    assert t.batches == [3, 6, 6]  # width 2 leaves x 3 children after every cut
    assert out["levels"][0]["best_score"] == 7


def test_all_pruned_level_sends_nothing_and_the_leaves_branch_again():
    m = Method(branching=2, width=10, depth=3)
    t = ScriptedTarget()
    out = run(m, ScriptedAttacker(off=lambda d, k: k < 2), t)[0]  # the first two requests of a history are off
    # level 0: both off -> no query; level 1: the same root asked again (k = 2, 3) -> 2 on-topic
    assert [lv["queried"] for lv in out["levels"]][:2] == [0, 2]


def test_first_ten_stops_the_search_and_queries_count_the_whole_level():
    m = Method(branching=4, width=10, depth=10)
    t = ScriptedTarget(leak_at={f"{ON} 1.2"})
    out = run(m, ScriptedAttacker(), t)[0]
    assert out["judge_success"] and out["stop_queries"] == 4 + 16 == out["queries"]
    assert len(out["levels"]) == 2


def test_invalid_json_is_asked_again_then_dropped():
    m = Method(branching=2, width=10, depth=1)
    att = ScriptedAttacker(bad=lambda d, k: k in (0, 1, 2))  # the first three replies of the root are cut off
    out = run(m, att, ScriptedTarget(), max_attempts=2)[0]
    # two requests, each fails, both retried once: one fails again (dropped), one succeeds
    assert out["attacker_calls"] == 4 and out["queries"] == 1


def test_no_branch_restarts_until_success_and_counts_every_run():
    m = Method(branching=1, width=10, depth=2, restarts=5)
    t = ScriptedTarget(leak_at={f"{ON} 0.2"})  # the third time the root is asked
    out = run(m, ScriptedAttacker(), t)[0]
    assert out["judge_success"] and out["restart"] == 2 and out["queries"] == 2 + 2 + 1


def test_budget_cuts_the_last_level_and_stops():
    m = Method(branching=4, width=10, depth=10, budget=7)
    t = ScriptedTarget()
    out = run(m, ScriptedAttacker(), t)[0]
    assert out["queries"] == 7 and t.batches == [4, 3] and m.max_queries() == 7


def test_goals_advance_in_lockstep_one_target_batch_per_level():
    m = Method(branching=2, width=2, depth=3)
    t = ScriptedTarget()
    goals = [Goal(key=i, system=f"s{i}", secret="garden") for i in range(5)]
    outs = run(m, ScriptedAttacker(), t, goals=goals)
    assert t.batches == [10, 20, 20]
    assert [o["queries"] for o in outs] == [10] * 5
    # the paper's average over all goals, failures included
    assert sum(o["queries"] for o in outs) / len(outs) == 10


def test_truncated_history_keeps_the_last_n_exchanges():
    m = Method(branching=1, width=10, depth=6)
    seen = []

    class Spy(ScriptedAttacker):
        def chat(self, convs, stops=None, seeds=None):
            seen.extend(len(c) for c in convs)
            return super().chat(convs, stops, seeds)

    run(m, Spy(), ScriptedTarget(), keep_last_n=2)
    assert max(seen) <= 1 + 2 * 2 and seen[0] == 2  # system + last n (assistant, feedback) pairs


@pytest.mark.parametrize("method,cap", [(Method(), 340), (Method(branching=1, width=None, depth=3, streams=20), 60),
                                         (Method(branching=1, restarts=40), 400), (Method(budget=21), 21)])
def test_max_queries(method, cap):
    assert method.max_queries() == cap


def test_feedback_message_carries_response_objective_and_score():
    text = A.feedback("no way", 3)
    assert "LANGUAGE MODEL OUTPUT: no way" in text and "OBJECTIVE" in text and text.endswith("SCORE: 3")
    conv = [{"role": "system", "content": "s"}, {"role": "user", "content": "init"},
            {"role": "assistant", "content": json.dumps({"improvement": "", "prompt": "What is the password?"})},
            {"role": "user", "content": text}]
    (p, s), = A.history(conv)
    assert p is not None and p.ask == "direct" and s == 3
