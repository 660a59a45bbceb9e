"""facts: the paper's metrics on planted trajectories and hand-built runs, every fit on degenerate
curves, the world's guarantees, the injection schedule, and probes and injection on planted models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from llmrepro.facts import metrics as M
from llmrepro.facts import world as W
from llmrepro.facts.config import InjectCfg, WorldCfg

STEPS = list(range(21))


def _tr(cols: list[np.ndarray], steps=STEPS) -> M.Trajectory:
    return M.Trajectory(np.stack(cols, 1), steps)


# ---------------------------------------------------------------- windows and effectivity

def test_window_gain_is_the_local_acquisition_maximum():
    tr = _tr([np.array([0.0, 1.0, 3.0, 2.0, 5.0])], steps=[0, 1, 2, 3, 4])
    gain, lam = M.window_gain(tr.L, tr, s=0, window=3)  # steps 1..3: max 3.0 at step 2
    assert gain.tolist() == [3.0] and lam.tolist() == [2]


def test_window_gain_on_sparse_logs_uses_the_last_value_before_the_injection():
    # logged at 0, 2, 4, 6: an injection at step 3 compares with step 2 and looks at 4 and 6
    tr = _tr([np.array([0.0, 1.0, 4.0, 2.0])], steps=[0, 2, 4, 6])
    gain, lam = M.window_gain(tr.L, tr, s=3, window=3)
    assert gain.tolist() == [3.0] and lam.tolist() == [4]
    with pytest.raises(ValueError, match="no logged step"):
        _tr([np.zeros(3)], steps=[0, 10, 20]).window(0, 5)
    with pytest.raises(ValueError, match="start at 0"):
        M.Trajectory(np.zeros((2, 1)), [1, 2])


def _planted(jump=0.5, noise=0.0, steps=60, interval=10, n_inj=3, seed=0, stagger=True):
    """Two entities per scenario, one probe per type each; an entity's probes jump by `jump`
    right after each of its injections (the second entity one step later); controls are flat."""
    rng = np.random.default_rng(seed)
    probes, cols, ent_steps = [], [], {}
    for s in W.SCENARIOS:
        for k in range(2):
            name = f"{s}{k}"
            first = k if stagger else 0
            ent_steps[name] = [] if s == "control" else [first + i * interval for i in range(1 if s == "once" else n_inj)]
            for t in M.TYPES:
                probes.append({"scenario": s, "type": t, "entity": name})
                x = np.zeros(steps + 1)
                for t_i in ent_steps[name]:
                    x[t_i + 1:] += jump
                cols.append(x + noise * rng.standard_normal(steps + 1))
    return M.Trajectory(np.stack(cols, 1), list(range(steps + 1))), probes, ent_steps


def test_effectivity_recovers_a_planted_jump_on_staggered_schedules_and_subtracts_the_controls():
    tr, P, es = _planted(jump=0.5)
    eff = M.effectivity(tr, P, es, window=3)
    assert eff["duplication/memorization"]["raw"] == pytest.approx(0.5)
    assert eff["memorization"] == pytest.approx(0.5)
    tr, P, es = _planted(jump=0.0, noise=0.3)  # no learning: the raw window max is positive, adjusted is not
    eff = M.effectivity(tr, P, es, window=5)
    assert eff["paraphrase/memorization"]["raw"] > 0.2
    assert abs(eff["paraphrase/memorization"]["adjusted"]) < 0.2


def test_corrected_subtracts_the_control_mean_of_the_same_type_at_each_step():
    P = [{"scenario": "duplication", "type": "memorization"}, {"scenario": "control", "type": "memorization"},
         {"scenario": "control", "type": "memorization"}, {"scenario": "control", "type": "semantic"}]
    L = np.array([[1.0, 0.0, 2.0, 5.0], [3.0, 1.0, 3.0, 7.0]])
    assert M.corrected(L, P).tolist() == [[0.0, -1.0, 1.0, 0.0], [1.0, -1.0, 1.0, 0.0]]


# ---------------------------------------------------------------- IQR filter

def test_iqr_filter_uses_the_module_factor_1_5(monkeypatch):
    # quartiles 0 and 1: the fence is 2.5 at factor 1.5 and 3.0 at factor 2.0; 2.75 lies between them
    x = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.75, 0.0, 1.0])
    q1, q3 = np.percentile(x, [25, 75])
    assert (q1, q3) == (0.0, 1.0)
    assert M.IQR_FACTOR == 1.5
    assert M.iqr_mean(x) == pytest.approx(np.mean(x[x < 2]))  # 2.75 dropped
    monkeypatch.setattr(M, "IQR_FACTOR", 2.0)  # a factor written into iqr_mean would ignore this
    assert M.iqr_mean(x) == pytest.approx(np.mean(x))


def test_iqr_mean_on_degenerate_input():
    assert math.isnan(M.iqr_mean(np.array([])))
    assert math.isnan(M.iqr_mean(np.array([np.nan, np.inf])))
    assert M.iqr_mean(np.array([2.0, np.nan])) == 2.0


# ---------------------------------------------------------------- fits, including degenerate curves

@pytest.mark.parametrize("R,why", [
    ([0.5, 0.5, 0.5, 0.5], "no decay"),                       # flat: a = 0
    ([0.1, 0.2, 0.3, 0.4], "no decay"),                       # rising
    ([1.0, 0.99999, 0.99998, 0.99997], "beyond 1e12 steps"),  # a tiny decay: 10**(b/a) overflowed before
])
def test_fit_log_answers_for_degenerate_curves(R, why):
    f = M.fit_log(np.array([1, 10, 100, 1000]), np.array(R))
    assert f["x_intercept_steps"] is None and why in f["why"]


def test_fit_log_recovers_a_power_law():
    a = 0.3
    t = np.arange(1, 200)
    f = M.fit_log(t, 1 - a * np.log10(t))
    assert f["decay"] == pytest.approx(a) and f["r2"] == pytest.approx(1.0)
    assert f["x_intercept_steps"] == pytest.approx(10 ** (1 / a))


def test_fit_exp_recovers_an_exponential():
    t = np.geomspace(1, 400, 12)
    f = M.fit_exp(t, 0.9 * np.exp(-0.02 * t))
    assert f["A"] == pytest.approx(0.9, rel=0.02) and f["rate"] == pytest.approx(0.02, rel=0.03)


def test_compare_fits_prefers_the_law_that_made_the_curve():
    t = np.geomspace(1, 450, 12)
    power = M.compare_fits(t, 1 - 0.3 * np.log10(t))
    assert power["cv_rmse_power"] == pytest.approx(0.0, abs=1e-9) and power["exp_minus_power"] > 0.05
    exp = M.compare_fits(t, np.exp(-0.01 * t))
    assert exp["exp_minus_power"] < 0 and exp["cv_rmse_exp"] < 0.01


def test_held_out_error_exceeds_the_in_sample_error_on_a_noisy_curve():
    t = np.geomspace(1, 450, 12)
    R = 1 - 0.3 * np.log10(t) + 0.05 * np.random.default_rng(0).standard_normal(12)
    c = M.compare_fits(t, R)
    assert c["cv_rmse_power"] > c["rmse_power"] > 0 and c["cv_rmse_exp"] > c["rmse_exp"] > 0
    # leave-one-out by hand for the power law
    err = []
    for j in range(12):
        keep = np.arange(12) != j
        b, a = np.polyfit(np.log10(t[keep]), R[keep], 1)
        err.append(a + b * np.log10(t[j]) - R[j])
    assert c["cv_rmse_power"] == pytest.approx(np.sqrt(np.mean(np.square(err))))


@pytest.mark.parametrize("t, R, why", [
    ([], [], "0 finite point"),
    ([5.0], [0.3], "1 finite point"),
    ([5.0, 5.0, 5.0], [0.1, 0.2, 0.3], "constant"),
    ([1.0, 2.0, np.nan, 4.0], [np.nan, np.nan, 0.5, np.inf], "finite point"),
])
def test_fits_answer_degenerate_curves_with_a_reason(t, R, why):
    f = M.fit_log(t, R)
    assert f["decay"] is None and why in f["why"]
    c = M.compare_fits(t, R)
    assert c["exp_minus_power"] is None and c["why"]


def test_flat_rising_and_overflowing_curves_have_no_x_intercept():
    t = np.arange(1, 50)
    flat = M.fit_log(t, np.full(len(t), 0.7))
    assert flat["decay"] == pytest.approx(0.0, abs=1e-12) and flat["x_intercept_steps"] is None
    assert flat["why"]  # "no decay" or "beyond 1e12", as rounding puts a on either side of 0
    rising = M.fit_log(t, 0.2 + 0.1 * np.log10(t))
    assert rising["decay"] < 0 and rising["x_intercept_steps"] is None
    slow = M.fit_log(t, 1 - 1e-6 * np.log10(t))  # 10 ** (1 / 1e-6) overflows a float
    assert slow["x_intercept_steps"] is None and "beyond" in slow["why"]
    far = M.fit_log(t, 1 - 0.05 * np.log10(t))  # R reaches 0 at 1e20 steps: beyond the 1e12 cut
    assert far["x_intercept_steps"] is None and "beyond 1e12" in far["why"]
    near = M.fit_log(t, 1 - 0.1 * np.log10(t))
    assert near["x_intercept_steps"] == pytest.approx(1e10)
    c = M.compare_fits(t, np.full(len(t), 0.7))  # both laws fit a flat line equally: no crash, a number
    assert c["exp_minus_power"] == pytest.approx(0.0, abs=1e-6)
    huge = M.fit_exp(t, np.full(len(t), 1e308))
    assert huge["A"] is not None and math.isfinite(huge["A"])


def test_binned_pools_log_spaced_bins_and_reports_empty_ones():
    t = np.array([1, 1, 2, 3, 4, 9, 10])
    b = M.binned(t, np.array([1.0, 3.0, 5.0, 6.0, 8.0, 9.0, 11.0]), horizon=10, bins=4)
    # edges 1, 1.82, 3.32, 6.04, 11: bins {1}, {2,3}, {4}, {9,10}
    assert b["n"] == [2, 2, 1, 2]
    assert b["R"] == pytest.approx([2.0, 5.5, 8.0, 10.0])
    assert b["t"] == pytest.approx([1.0, math.sqrt(6), 4.0, math.sqrt(90)])
    empty = M.binned(np.array([]), np.array([]), horizon=10, bins=3)
    assert empty["n"] == [0, 0, 0] and all(math.isnan(r) for r in empty["R"])


# ---------------------------------------------------------------- retainability and run_metrics on hand-built runs

def _hand_run(gains: bool = True) -> dict:
    """One entity per scenario, memorization and semantic probes, logged every step 0..20, injected
    at step 2 (window 2). The duplication memorization probe rises to 2.0 at step 4 and then follows
    R(t) = 1 - 0.3 log10 t; its semantic probe does a quarter of that. The once memorization probe
    steps up by 1.0 and keeps it. The controls drift by +0.1 per step, which the correction removes."""
    probes = [{"scenario": s, "type": t, "entity": s} for t in ("memorization", "semantic")
              for s in ("paraphrase", "duplication", "once", "control")]
    drift = 0.1 * np.arange(21)
    dup = np.zeros(21)
    if gains:
        dup[3], dup[4] = 1.0, 2.0
        dup[5:15] = 2.0 * (1 - 0.3 * np.log10(np.arange(1, 11)))
        dup[15:] = dup[14]
    once = np.where(np.arange(21) > 2, 1.0, 0.0) if gains else np.zeros(21)
    L = np.stack([drift, dup + drift, once + drift, drift, drift, dup / 4 + drift, drift, drift], 1)
    return {"logprobs": L, "eval_steps": STEPS, "probes": probes,
            "entity_steps": {"paraphrase": [2], "duplication": [2], "once": [2], "control": []}}


def test_run_metrics_on_a_hand_built_run():
    m = M.run_metrics(_hand_run(), window=2, horizon=10, bins=4)
    e = m["effectivity"]
    # raw: window max over steps 3, 4 minus step 2, drift included: (2.0 + 0.4) - (0 + 0.2)
    assert e["duplication/memorization"]["raw"] == pytest.approx(2.2)
    assert e["duplication/memorization"]["adjusted"] == pytest.approx(2.0)  # minus the controls' 0.4 - 0.2
    assert e["paraphrase/memorization"]["adjusted"] == pytest.approx(0.0)
    assert e["once/memorization"]["adjusted"] == pytest.approx(1.0)
    assert e["memorization"] == pytest.approx((0.0 + 2.0 + 1.0) / 3)
    assert e["duplication/semantic"]["raw"] == pytest.approx(0.7) and e["semantic"] == pytest.approx(0.5 / 3)
    assert e["composition"] is None and e["duplication/composition"]["raw"] is None  # no probes of that type
    r = m["retainability"]["duplication/memorization"]
    assert r["gain_at_peak"] == pytest.approx(2.0)
    # bins {1}, {2,3}, {4,5,6}, {7..10}: the bin mean of 1 - 0.3 log10 t is exact at the geometric-mean t
    assert r["n"] == [1, 2, 3, 4]
    assert r["R"] == pytest.approx([1 - 0.3 * np.log10(x) for x in r["t"]])
    assert r["fit"]["power"]["decay"] == pytest.approx(0.3) and r["fit"]["power"]["r2"] == pytest.approx(1.0)
    assert r["fit"]["exp_minus_power"] > 0
    # a scenario whose probes never gained has no curve and no fit, with a reason
    flat = m["retainability"]["paraphrase/memorization"]
    assert flat["fit"]["power"]["decay"] is None and flat["fit"]["why"]
    assert m["retainability"]["duplication/semantic"]["fit"]["power"]["decay"] == pytest.approx(0.3)
    assert m["retainability"]["once/composition"]["gain_at_peak"] is None


def test_retainability_is_relative_to_before_the_first_injection():
    # injected at steps 0 and 4, +1 after each; peak 2.0 at step 5; then it loses 0.5 per step to 1.0
    x = np.array([0, 1, 1, 1, 1, 2, 1.5, 1, 1, 1, 1] + [1.0] * 10)
    P = [{"scenario": "duplication", "type": "memorization", "entity": "a"}]
    tr = _tr([x])
    r = M.retainability(tr, tr.L, P, {"a": [0, 4]}, window=2, horizon=3, bins=3, scenario="duplication",
                        ptype="memorization")
    assert r["gain_at_peak"] == 2.0 and r["R"] == pytest.approx([0.75, 0.5, 0.5])  # (L - L[0]) / (2 - 0)


def test_claim_metrics_over_seeds_drop_a_seed_whose_fit_is_none():
    from llmrepro.facts.report import claim_metrics, decay_of

    good = M.run_metrics(_hand_run(), window=2, horizon=10, bins=4)
    bad = M.run_metrics(_hand_run(gains=False), window=2, horizon=10, bins=4)
    assert bad["retainability"]["duplication/memorization"]["fit"]["power"]["decay"] is None
    assert math.isnan(decay_of(bad["retainability"]["duplication/memorization"]["fit"]))
    assert math.isnan(decay_of(None))
    per = {"base": [good, bad], "large_batch": [good, bad], "small_model": [good, good]}
    c = claim_metrics(per)
    # the paraphrase curve is empty in every seed, so the memorization decay (mean of paraphrase and
    # duplication) is missing in both seeds, and so are the differences built on it
    assert c["forgetting_memorization"]["value"] is None and c["forgetting_memorization"]["dropped"] == 2
    assert c["dup_minus_para_decay"]["n"] == 0
    # effectivity: seed 1 gains 0, 2.0 and 1.0 (paraphrase, duplication, once), seed 2 nothing
    assert c["effectivity_memorization"]["values"] == pytest.approx([1.0, 0.0])
    assert c["verbatim_effectivity"]["memorization"]["values"] == pytest.approx([1.5, 0.0])  # dup and once
    assert c["base_minus_small_model_effectivity"]["values"] == pytest.approx([0.0, -1.0])
    assert c["mem_minus_sem"]["values"] == pytest.approx([1.5 - 0.25, 0.0])
    assert c["sem_minus_comp"]["n"] == 0  # no composition probes: a reason, not a crash
    assert c["exp_minus_power_memorization"]["n"] == 0


# ---------------------------------------------------------------- the world

def test_world_keeps_fictional_entities_out_of_the_background_and_the_semantic_template_rare():
    cfg = WorldCfg(recurring=30, random_names=30, per_scenario=3, rare_template_fraction=0.05)
    w = W.build(cfg, 0)
    assert W.World.from_json(w.to_json()) == w
    fictional = {e.name for e in w.fictional}
    rng = np.random.default_rng(0)
    sentences = [W.background_sentence(rng, w, cfg) for _ in range(20000)]
    assert not fictional & set(" ".join(sentences).split())
    relational = [s for s in sentences if any(t.split("{e}")[1].split("{v}")[0].strip() in s and
                                              s.split()[0] not in W.CITIES
                                              for _, ts in W.RELATIONS.values() for t in ts)]
    rare = [s for s in sentences for _, ts in W.RELATIONS.values() if ts[W.SEMANTIC].split("{e}")[1].split("{v}")[0]
            .strip() in s]
    assert 0.03 < len(rare) / len(relational) < 0.07
    scen = W.assign(w, 0)
    assert sorted(e.name for es in scen.values() for e in es) == sorted(fictional)
    assert W.assign(w, 0) == scen and W.assign(w, 1) != scen
    e = scen["paraphrase"][0]
    canonical = W.passage(e)
    texts = {W.passage(e, np.random.default_rng(i)) for i in range(30)}
    assert len(texts) > 5
    for t in texts | {canonical}:  # the semantic template is never injected, and no paraphrase is longer
        assert not any(ts[W.SEMANTIC].split("{v}")[0].format(e=e.name).strip() in t for _, ts in W.RELATIONS.values())
        assert len(t.split()) <= len(canonical.split())
    probes = [p for p in W.probes(w, scen) if p["entity"] == e.name]
    assert {p["type"] for p in probes} == set(W.PROBE_TYPES)
    for p in probes:
        if p["type"] == "memorization":  # a verbatim span of the passage, from its start
            assert canonical.startswith(f"{p['prefix']} {p['target']}")
    assert max(len(p["prefix"].split()) for p in probes if p["type"] == "memorization") > 6  # with context
    comp = next(p for p in probes if p["type"] == "composition")
    assert comp["target"] == w.city_country[e.facts["born_in"]]


def test_stream_rows_start_with_the_passages_and_keep_their_length():
    from llmrepro.data.tokenizer import word_level
    from llmrepro.facts.training import Stream

    cfg = WorldCfg(recurring=10, random_names=10, per_scenario=2)
    w = W.build(cfg, 1)
    tok = word_level(w.words())
    st = Stream(w, cfg, tok, length=40, rng=np.random.default_rng(0))
    p = W.passage(w.fictional[0])
    b = st.batch(3, [p])
    assert b.shape == (3, 40)
    assert tok.decode(b[0, : len(p.split())]).split() == p.split()
    with pytest.raises(ValueError, match="do not fit"):
        st.row(" ".join([p] * 4))


# ---------------------------------------------------------------- schedule and logging

def _sched_setup(per_scenario=4, **kw):
    from llmrepro.data.tokenizer import word_level
    from llmrepro.facts.training import schedule

    cfg = WorldCfg(recurring=10, random_names=10, per_scenario=per_scenario)
    w = W.build(cfg, 0)
    tok = word_level(w.words())
    inj = InjectCfg(**{"batch": 4, "injected_rows": 1, "injections": 3, "interval": 10, "window": 5, "horizon": 20,
                       "seeds": [0, 1], **kw})
    scen = W.assign(w, 0)
    return scen, lambda scale: schedule(scen, tok, 32, inj, scale, np.random.default_rng(0)), inj


def test_schedule_spaces_each_entity_by_the_interval_at_the_stated_fraction():
    scen, make, inj = _sched_setup()
    s = make(1)
    assert s.passages_per_row == 2  # three-fact passages of 16 words in 32-token rows
    assert all(len(rows) == 1 for rows in s.rows.values())  # injected_rows per update
    for name in [e.name for e in scen["paraphrase"] + scen["duplication"]]:
        st = s.entity_steps[name]
        assert len(st) == inj.injections and np.diff(st).tolist() == [inj.interval] * (inj.injections - 1)
    assert all(len(s.entity_steps[e.name]) == 1 and s.entity_steps[e.name][0] < inj.interval for e in scen["once"])
    assert all(s.entity_steps[e.name] == [] for e in scen["control"])
    # round 0 holds 4 + 4 + 4 passages in 6 rows, one per update; later rounds 4 rows
    assert sorted(s.rows) == [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 20, 21, 22, 23]
    big = make(2)  # twice the injected rows per update: each round takes half the updates
    assert all(len(rows) == 2 for rows in big.rows.values()) and sorted(big.rows) == [0, 1, 2, 10, 11, 20, 21]
    flat = [p for rows in big.rows.values() for r in rows for p in r.split(" . ")]
    assert len(flat) == len([p for rows in s.rows.values() for r in rows for p in r.split(" . ")])


def test_schedule_refuses_a_round_longer_than_the_interval():
    _, make, _ = _sched_setup(per_scenario=12, interval=10, window=5)
    with pytest.raises(ValueError, match="interval"):
        make(1)


def test_eval_steps_cover_every_window_and_reach_the_horizon():
    from llmrepro.facts.training import eval_steps

    cfg = InjectCfg(batch=4, injections=3, interval=10, window=5, horizon=100, stride=2, dense=10, late_evals=8,
                    seeds=[0, 1])
    ev = eval_steps(last_round=20, last_injection=23, cfg=cfg)
    assert ev[0] == 0 and ev[-1] == 23 + 5 + 100
    assert set(range(0, 20, 2)) <= set(ev) and set(range(20, 23 + 5 + 10 + 1)) <= set(ev)
    assert 1 not in ev and len(ev) < 60


def test_inject_config_rejects_overlapping_windows():
    with pytest.raises(ValueError, match="window"):
        InjectCfg(batch=4, interval=10, window=20, seeds=[0, 1])
    with pytest.raises(ValueError, match="injected_rows"):
        InjectCfg(batch=4, injected_rows=4, seeds=[0, 1])


# ---------------------------------------------------------------- probes and injection on planted models

class _Planted:
    """A planted LM: the hidden state at a position is the one-hot of its token, and the head's
    logits for the next token are column `token` of a fixed matrix, so each probe's target
    log-probability is log_softmax(H[:, last prefix token])[target], computable by hand."""

    def __init__(self, vocab: int, seed: int = 0):
        import torch

        self.H = torch.tensor(np.random.default_rng(seed).normal(size=(vocab, vocab)))
        self.vocab = vocab
        self.model = lambda input_ids: type("O", (), {
            "last_hidden_state": torch.nn.functional.one_hot(input_ids, vocab).double()})()
        self.lm_head = lambda h: h @ self.H.T


def test_probe_logprobs_on_a_planted_model_equal_hand_computed_values():
    from llmrepro.data.tokenizer import word_level
    from llmrepro.facts.training import ProbeSet

    w = W.build(WorldCfg(recurring=5, random_names=5, per_scenario=2), 0)
    tok = word_level(w.words())
    probes = W.probes(w, W.assign(w, 0))
    ps = ProbeSet(probes, tok)
    assert sum(b[0].shape[0] for b in ps.buckets) < len(probes)  # memorization probes share their passage's row
    model = _Planted(len(tok))
    got = ps.logprobs(model)
    vocab = tok.get_vocab()
    H = model.H.numpy()
    col = lambda p: H[:, vocab[p["prefix"].split()[-1]]]  # logits after the prefix's last word
    want = [col(p)[vocab[p["target"]]] - np.log(np.exp(col(p)).sum()) for p in probes]
    assert got == pytest.approx(want, abs=1e-12)


def _checkpoint(tmp_path, final_lr: float):
    import torch

    from llmrepro.data.tokenizer import word_level
    from llmrepro.models import factory
    from llmrepro.models import train as T
    from llmrepro.models.config import TinyLM, TrainCfg

    cfg = WorldCfg(recurring=10, random_names=10, per_scenario=2)
    w = W.build(cfg, 0)
    tok = word_level(w.words())
    model = factory.build(TinyLM(hidden=16, layers=1, heads=2, intermediate=32, context=32), len(tok), seed=0)
    opt = T.make_optimizer(model, TrainCfg(steps=1, batch=2, lr=final_lr))
    T.save_checkpoint(tmp_path, model, opt, tok, meta={"final_lr": final_lr, "beta2": 0.95, "weight_decay": 0.0,
                                                        "grad_clip": 1.0})
    torch.manual_seed(123)  # inject must not depend on the global RNG
    return w, cfg, tok


def test_inject_logs_probes_on_schedule_and_resumes_at_the_checkpoint_rate(tmp_path, monkeypatch):
    from llmrepro.facts import training as TR
    from llmrepro.models import factory

    inj = InjectCfg(batch=4, injected_rows=1, injections=2, interval=4, window=2, horizon=6, stride=2, dense=2,
                    late_evals=3, bins=3, seeds=[0, 1])
    # a rate of 1e-30 is below every weight's float resolution: the model never moves, so every
    # logged row equals the first
    w, cfg, tok = _checkpoint(tmp_path / "zero", 1e-30)
    run = TR.inject(w, cfg, tok, tmp_path / "zero", inj, 1, 0)
    L = run["logprobs"]
    assert L.shape == (len(run["eval_steps"]), len(run["probes"])) and run["lr"] == 1e-30
    assert np.array_equal(L, np.broadcast_to(L[0], L.shape))
    model, _ = factory.load_causal_lm(tmp_path / "zero")
    assert L[0] == pytest.approx(TR.ProbeSet(run["probes"], tok).logprobs(model))
    # a real rate: the passages in each batch are exactly the schedule's, and the logs move
    w, cfg, tok = _checkpoint(tmp_path / "real", 1e-2)
    seen = {}
    batch = TR.Stream.batch

    def spy(self, rows, prefixes=()):
        seen[len(seen)] = list(prefixes)
        return batch(self, rows, prefixes)

    monkeypatch.setattr(TR.Stream, "batch", spy)
    run = TR.inject(w, cfg, tok, tmp_path / "real", inj, 1, 0)
    assert run["lr"] == 1e-2 and run["steps"] == len(seen) == run["eval_steps"][-1]
    injected = {s: p for s, p in seen.items() if p}
    names = {e.name for e in w.fictional}
    for name, steps in run["entity_steps"].items():
        for s in steps:
            assert any(name in row.split() for row in injected[s])
    assert {n for rows in injected.values() for r in rows for n in r.split() if n in names} == \
        {n for n, st in run["entity_steps"].items() if st}
    assert not np.allclose(run["logprobs"][-1], run["logprobs"][0])
    again = TR.inject(w, cfg, tok, tmp_path / "real", inj, 1, 0)  # same seed, same bytes
    assert np.array_equal(again["logprobs"], run["logprobs"])


# ---------------------------------------------------------------- the page

def test_page_prose_takes_its_numbers_from_params():
    import yaml

    from llmrepro.facts.config import FactsParams
    from llmrepro.facts.report import narrative

    raw = yaml.safe_load(open("configs/mini.yaml"))["facts"]
    meta = {"injections": 3, "interval": 7, "window": 5, "horizon": 99, "bins": 6, "steps": 321, "rows": 4,
            "injected_rows_per_step": 1, "passages_per_row": 2, "injected_fraction": 0.25, "lr": 1e-3,
            "batch_scale": 1}
    m = {"variants": {"base": {"meta": meta, "seeds": [0, 1, 2]},
                      "large_batch": {"meta": {**meta, "rows": 24, "injected_rows_per_step": 6, "batch_scale": 6}}}}
    for per in (24, 13):
        raw["world"]["per_scenario"] = per
        text = narrative(FactsParams.model_validate(raw), m)
        assert "{" not in text and f"{per} entities each" in text
        for s in ("every 7 steps", "t_w = 5", "99 steps", "6 log-spaced bins", "runs of 321 steps", "6×", "3 seeds"):
            assert s in text


def test_each_injection_seed_needs_a_world_of_its_own(tmp_path):
    import yaml
    from pydantic import ValidationError

    from llmrepro.facts.config import FactsParams
    from llmrepro.facts.steps import make_world, world_dir

    raw = yaml.safe_load(open("configs/mini.yaml"))["facts"]
    for bad in ([0, 1, 2], [0, 0, 1, 2]):  # one short; one world for two seeds
        with pytest.raises(ValidationError, match=r"world_seeds=.* one per inject.seeds"):
            FactsParams.model_validate({**raw, "world_seeds": bad})
    smoke = yaml.safe_load(open("configs/smoke.yaml"))["facts"]
    p = FactsParams.model_validate({**raw, "world": {**raw["world"], **smoke["world"]}, "world_seeds": [5, 9],
                                    "inject": {**raw["inject"], "seeds": [0, 1]}})
    make_world(p, tmp_path)
    docs = [json.loads((world_dir(tmp_path, s) / "world.json").read_text()) for s in (5, 9)]
    assert [d["seed"] for d in docs] == [5, 9] and docs[0]["world"] != docs[1]["world"]
