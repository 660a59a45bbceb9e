"""The world: answers, the gold reward, corruptions, marker rates, and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from llmrepro.grm.config import GrmParams, WorldCfg
from llmrepro.grm.world import OOD_SETS, answer, gold, make_world, make_worlds, prefix_text, substitute, swap


def test_answers():
    assert answer("sort", "3142") == "1234"
    assert answer("reverse", "3142") == "2413"
    assert answer("copy", "3142") == "3142"
    assert answer("increment", "3192") == "4203"


def test_gold_is_the_fraction_of_right_digits():
    assert gold("sort", "3142", "1234") == 1.0
    assert gold("sort", "3142", "1235") == 0.75
    assert gold("copy", "31", "13") == 0.0
    assert gold("copy", "3142", "31") == 0.5  # a short response loses the missing digits


def test_corruptions_change_the_answer():
    rng = np.random.default_rng(0)
    for _ in range(200):
        y = "".join(map(str, rng.integers(0, 10, 4)))
        s = substitute(rng, y, 2)
        assert s != y and len(s) == 4 and sum(a != b for a, b in zip(s, y)) == 2
        w = swap(rng, y)
        if len(set(y)) == 1:
            assert w is None
        else:
            assert sorted(w) == sorted(y) and w != y
    assert swap(rng, "777") is None


def test_world_is_seeded_and_markers_follow_their_rates():
    cfg = WorldCfg(train_pool=2000, eval_pairs=500)
    a, b = make_world(cfg, 1), make_world(cfg, 1)
    assert a == b and make_world(cfg, 2) != a
    mk = np.array(a["pool_markers"])
    assert abs(mk[:, 0].mean() - 0.9) < 0.03 and abs(mk[:, 1].mean() - 0.1) < 0.03
    assert all(m == [False, True] for m in a["tests"]["anti"]["markers"])
    assert abs(np.array(a["tests"]["neutral"]["markers"]).mean() - 0.5) < 0.05
    for s in OOD_SETS:
        assert not np.array(a["tests"][s]["markers"]).any()
    assert {p["task"] for p in a["pool"]} == set(cfg.id_tasks)
    assert {p["task"] for p in a["pairs"]["ood_task"]} == set(cfg.ood_tasks)
    assert min(len(p["x"]) for p in a["pairs"]["ood_long"]) == min(cfg.long_lengths)
    for p in a["pairs"]["ood_corrupt"]:
        assert sorted(p["rejected"]) == sorted(p["chosen"])
    for p in a["pool"]:
        assert p["chosen"] == answer(p["task"], p["x"]) and p["gold_rejected"] < 1.0
    assert all(t in prefix_text(a) for t in ("Sort the digits", "Add one to each digit"))


def test_worlds_differ_in_prefix_pool_and_tests_and_cycle_the_bon_tasks():
    cfg = WorldCfg(train_pool=8, eval_pairs=4, bon_prompts=1)
    doc = make_worlds(cfg, [5, 6, 7, 8, 9])
    ws = doc["worlds"]
    assert doc["seeds"] == [5, 6, 7, 8, 9] and ws[0] == make_world(cfg, 5)
    assert len({prefix_text(w) for w in ws}) == 5 and ws[0]["pool"] != ws[1]["pool"]
    assert ws[0]["pairs"]["ood_task"] != ws[1]["pairs"]["ood_task"]
    assert [w["bon"][0]["task"] for w in ws] == ["copy", "increment", "sort", "reverse", "copy"]


@pytest.mark.parametrize("bad", [
    {"id_tasks": ["sort"], "ood_tasks": ["sort"]},
    {"id_lengths": [6], "long_lengths": [5]},
    {"p_marker_chosen": 1.5},
    {"train_pool": 0},
    {"id_tasks": []},
])
def test_bad_world_params_fail(bad):
    with pytest.raises(ValidationError):
        WorldCfg(**bad)


def _params(**over):
    rm = {"train": {"epochs": 1, "lr": 1e-3}, "methods": [{"name": "bt", "kind": "bt"},
                                                          {"name": "grm_sft", "kind": "grm_sft", "alpha": 0.01}],
          "sizes": [8], "main_size": 8, "seeds": [0, 1, 2]}
    return {"world": {"train_pool": 16}, "rm": {**rm, **over}}


def test_params_cross_checks():
    GrmParams.model_validate(_params())
    for bad in ({"sizes": [32], "main_size": 32}, {"main_size": 16}, {"seeds": [0, 0, 1]},
                {"size_methods": ["nope"]}, {"ensemble": 4}, {"train": {"epochs": 0, "lr": 1e-3}}):
        with pytest.raises(ValidationError):
            GrmParams.model_validate(_params(**bad))
    worlds = {**_params(seeds=[0, 1, 2, 3], ensemble=2), "world_seeds": [0, 1]}
    GrmParams.model_validate(worlds)
    for bad, why in (({"world_seeds": [0, 0]}, "distinct"), ({"world_seeds": [0, 1, 2]}, "multiple"),
                     ({"rm": {**worlds["rm"], "ensemble": 3}}, "seeds per world"),
                     ({"rm": {**worlds["rm"], "seeds": list(range(8)),
                              "methods": [*worlds["rm"]["methods"], {"name": "x", "kind": "bt", "n_seeds": 2}]},
                       "world_seeds": [0, 1, 2, 3]}, "without a run")):
        with pytest.raises(ValidationError, match=why):
            GrmParams.model_validate({**worlds, **bad})
    with pytest.raises(ValidationError, match="comparator"):
        GrmParams.model_validate({**_params(), "claims": {"comparator": "bt"}})


def test_runs_and_training_subsets():
    from llmrepro.grm.experiment import runs, subset, world_of

    assert world_of([7, 3, 9, 1, 4], 2) == {7: 0, 3: 1, 9: 0, 1: 1, 4: 0}

    p = GrmParams.model_validate({**_params(sizes=[4, 8], main_size=8),
                                  "rm": {**_params()["rm"], "sizes": [4, 8], "main_size": 8,
                                         "methods": [{"name": "bt", "kind": "bt"},
                                                     {"name": "grm_sft", "kind": "grm_sft", "alpha": 0.01,
                                                      "n_seeds": 2}]}})
    r = runs(p.rm)
    assert ("bt", 8, 2) in r and ("grm_sft", 8, 2) not in r and ("grm_sft", 4, 2) in r and ("bt", 4, 0) in r
    assert len(r) == 3 + 2 + 2 * 3
    a = subset(16, 8, seed=1)
    assert (a == subset(16, 8, seed=1)).all() and len(set(a.tolist())) == 8 and a.max() < 16
    assert not (a == subset(16, 8, seed=2)).all()
    with pytest.raises(ValueError, match="exceeds the pool"):
        subset(4, 8, seed=0)
