"""Metrics, intervals and the report's numbers on hand-built runs; degenerate inputs; params."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.pipeline import params as PP
from llmrepro.pipeline.claims import INCONCLUSIVE
from llmrepro.tap import metrics as M
from llmrepro.tap.claims import CLAIMS
from llmrepro.tap.report import compute, game_metrics

from conftest import ROOT


def row(method, vault, seed, success, queries, tier="medium", judge=None, stop=None, proposed=4, off=2,
        first=(4, 2)):
    return {"method": method, "vault": vault, "seed": seed, "tier": tier, "true_success": success,
            "judge_success": success if judge is None else judge, "queries": queries,
            "stop_queries": (stop if stop is not None else queries) if (judge or success) else None,
            "first_leak_queries": None, "attacker_calls": 1, "on_topic_calls": 1, "judge_calls": 1,
            "proposed": proposed, "off_topic_proposed": off, "first_level_proposed": first[0],
            "first_level_unique": first[1]}


def test_grid_and_cluster_interval():
    rows = [row("tap", v, s, v % 2 == 0, 10 * v + s) for v in range(4) for s in (1, 2)]
    g, vaults = M.grid(rows, "tap", "queries")
    assert vaults == [0, 1, 2, 3] and g.shape == (4, 2) and g[2, 1] == 22
    ci = M.cluster_ci(M.grid(rows, "tap", "true_success")[0], n_boot=200)
    assert ci["value"] == 0.5 and ci["n_vaults"] == 4 and ci["ci"][0] <= 0.5 <= ci["ci"][1]


def test_paired_difference_by_hand():
    rows = [row("a", v, 1, True, 5) for v in range(3)] + [row("b", v, 1, v == 0, 9) for v in range(3)]
    assert M.paired(rows, "a", "b", "true_success", "medium", 200)["value"] == pytest.approx(2 / 3)
    assert M.paired(rows, "a", "b", "queries", "medium", 200)["value"] == -4
    missing = M.paired(rows[:2] + rows[3:], "a", "b", "queries", "medium", 200)
    assert missing["value"] is None and "different vaults" in missing["why"]


def test_degenerate_inputs_give_none_with_a_reason():
    assert M.cluster_ci(np.zeros((0, 0)), 100)["value"] is None
    one = M.cluster_ci(np.array([[1.0, 0.0]]), 100)
    assert one["value"] == 0.5 and one["ci"] is None and "one vault" in one["why"]
    flat = M.cluster_ci(np.ones((5, 2)), 100)
    assert flat["value"] == 1 and flat["ci"] == [1, 1]
    assert M.ratio_ci(np.ones((3, 1)), np.zeros((3, 1)), 100)["value"] is None
    assert M.ratio_ci(np.ones((3, 1)), np.ones((2, 1)), 100)["value"] is None
    assert M.ratio_ci(np.full((3, 1), 1e308), np.full((3, 1), 1e-308), 100)["value"] is None  # overflow: inf dropped
    nan = M.cluster_ci(np.full((3, 2), np.nan), 100)
    assert nan["value"] is None
    assert M.share([], []) is None and M.redundancy([]) is None and M.false_success_share([], "x") is None
    assert np.isnan(M.anytime([], "tap", None, np.array([1, 2]))).all()


def test_ratio_of_mean_queries():
    num = np.array([[30.0], [50.0]])
    den = np.array([[10.0], [30.0]])
    assert M.ratio_ci(num, den, 200)["value"] == pytest.approx(2.0)


def test_anytime_within_budget_and_diagnostics():
    rows = [row("tap", 0, 1, True, 80, stop=80), row("tap", 1, 1, True, 20, stop=20), row("tap", 2, 1, False, 340),
            row("pair", 0, 1, False, 60, first=(20, 8)), row("tap_weak", 0, 1, False, 5, judge=True, stop=5),
            row("tap_weak", 1, 1, True, 9)]
    assert M.anytime(rows, "tap", None, np.array([10, 20, 60, 100])) == [0, 1 / 3, 1 / 3, 2 / 3]
    capped = M.within_budget(rows, "tap", 60)
    assert [r["true_success"] for r in capped] == [False, True, False] and [r["queries"] for r in capped] == [60, 20, 60]
    assert M.redundancy(rows, "pair") == pytest.approx(12 / 20)
    assert M.false_success_share(rows, "tap_weak") == 0.5
    assert M.method_tier(rows, "tap", "medium", 100)["off_topic_share"] == 0.5


def _data(n_vaults=10, seeds=(1, 2)):
    methods = ("tap", "pair", "tap_no_prune", "tap_no_branch", "tap_weak")
    rows = []
    for tier in M.TIERS:
        for v in range(n_vaults):
            for s in seeds:
                vid = M.TIERS.index(tier) * 100 + v
                rows += [row("tap", vid, s, True, 30, tier), row("pair", vid, s, v < 1, 60, tier, first=(20, 10)),
                         row("tap_no_prune", vid, s, True, 80, tier), row("tap_no_branch", vid, s, v < 2, 40, tier),
                         row("tap_weak", vid, s, False, 8, tier, judge=True)]
    attack = {"rows": rows, "max_queries": {"tap": 340, "pair": 60}, "knobs": {"p_off": 0.5, "redundancy": 0.6},
              "vaults": [{"id": i} for i in range(3 * n_vaults)]}
    cell_rows = [row(m, v, 1, m == "tap", 10) for m in ("tap", "pair") for v in range(3)]
    sens = {"tier": "medium", "cells": [{"p_off": p, "p_off_after_off": p, "redundancy": r, "rows": cell_rows}
                                         for p in (0.0, 0.5) for r in (0.0, 0.6)]}
    game_rows = [row(m, v, 1, m == "random" and v < 2, 21) | {"secret": "x"} for m in ("tap", "pair", "random")
                 for v in range(4)]
    game = {"on_topic": {"threshold": 0.2}, "targets": {"smollm2": {
        "rows": game_rows, "vaults": ["a"] * 4, "screen": [{"leaked": [False]}] * 5 + [{"leaked": [True]}],
        "generations": 50, "max_queries": {"tap": 21, "pair": 21, "random": 21}}}}
    tune = {"chosen": {"epsilon": 0.1, "explore_edits": 2}, "grid": []}
    return {"attack": attack, "sensitivity": sens, "game": game, "tune": tune}, methods


def test_report_metrics_and_verdicts_on_hand_built_runs():
    data, methods = _data()
    m = compute(data, 200)
    c = m["claims"]["medium"]
    assert c["tap_minus_pair_success"]["value"] == pytest.approx(0.9)
    assert c["tap_minus_pair_queries"]["value"] == -30
    assert c["no_prune_over_tap_queries"]["value"] == pytest.approx(80 / 30)
    assert c["tap_minus_no_branch_success"]["value"] == pytest.approx(0.8)
    assert c["weak_false_success_share"] == 1.0 and c["pair_redundancy"] == 0.5
    assert c["tap_at_pair_budget_minus_pair_success"]["value"] == pytest.approx(0.9)
    g = m["game"]["targets"]["smollm2"]
    assert g["direct_leaks"] == 1 and g["methods"]["random"]["vaults_broken"] == 2 and g["nontrivial"]
    assert m["sensitivity"]["cells"][0]["tap_minus_pair_success"]["value"] == 1
    doc = CLAIMS.evaluate(m, "mini")
    v = {cl["id"]: cl["verdict"] for cl in doc["claims"]}
    assert all(v[k] == "reproduced" for k in ("C1", "C1b", "C2a", "C2b", "C3")), v
    assert v["C4"] == INCONCLUSIVE and m["claims"]["game"]["resolvable_difference"] > 0.25  # four vaults
    # the same runs with PAIR as strong as TAP: C1 fails on its own numbers
    for r in data["attack"]["rows"]:
        if r["method"] == "pair":
            r["true_success"] = r["judge_success"] = True
            r["stop_queries"] = r["queries"] = 20
    v2 = {cl["id"]: cl["verdict"] for cl in CLAIMS.evaluate(compute(data, 200), "mini")["claims"]}
    assert v2["C1"] == INCONCLUSIVE  # the precondition: PAIR leaves no room for +15 points


def test_game_with_nothing_broken_is_inconclusive():
    data, _ = _data()
    for r in data["game"]["targets"]["smollm2"]["rows"]:
        r["true_success"] = r["judge_success"] = False
    g = game_metrics(data["game"]["targets"]["smollm2"], 100)
    assert g["nontrivial"] is False and g["methods"]["tap"]["vaults_broken"] == 0


def test_params_reject_out_of_range_values_naming_the_key():
    raw = PP.render_scale(ROOT, "mini")
    raw["tap"]["attacker"]["p_off"] = 1.5
    raw["tap"]["methods"]["tap"]["branching"] = 0
    raw["tap"]["world"]["thresholds"]["hint"] = 9.0
    with pytest.raises(PP.ParamsError) as e:
        PP.validate(raw)
    msg = str(e.value)
    assert "tap.attacker.p_off" in msg and "tap.methods.tap.branching" in msg and "tap.world.thresholds" in msg


def test_full_scale_roles_are_pinned_endpoints():
    full = PP.validate(PP.render_scale(ROOT, "full"))["tap"]
    assert full.game.attacker.kind == "http" and full.game.attacker.hub.id == "lmsys/vicuna-13b-v1.5"
    ids = {t.hub.id for t in full.game.targets.values() if t.hub}
    assert {"meta-llama/Llama-2-7b-chat-hf", "meta-llama/Meta-Llama-3-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"} <= ids
    assert full.methods["tap"].max_queries() == 340 and full.methods["pair"].max_queries() == 60
    # params can name the key's environment variable, never hold a key
    raw = PP.render_scale(ROOT, "full")
    raw["tap"]["game"]["attacker"]["endpoint"]["api_key"] = "sk-in-params"
    with pytest.raises(PP.ParamsError, match="tap.game.attacker.endpoint.api_key: unknown key"):
        PP.validate(raw)
