"""facts: the paper's metrics on planted trajectories, and the world's guarantees."""

from __future__ import annotations

import numpy as np
import pytest

from llmrepro.facts import metrics as M
from llmrepro.facts import world as W


def test_window_gain_is_the_local_acquisition_maximum():
    L = np.array([[0.0], [1.0], [3.0], [2.0], [5.0]])
    gain, lam = M.window_gain(L, t_i=0, window=3)  # steps 1..3: max 3.0 at t=2
    assert gain.tolist() == [3.0] and lam.tolist() == [2]


def _planted(jump=0.5, noise=0.0, steps=60, interval=10, n_inj=3, seed=0):
    """Probes for each scenario/type that jump by `jump` right after each injection, and flat controls."""
    rng = np.random.default_rng(seed)
    probes, cols = [], []
    inj = [i * interval for i in range(n_inj)]
    for s in ("paraphrase", "duplication", "once", "control"):
        for t in ("memorization", "semantic", "composition"):
            for _ in range(4):
                probes.append({"scenario": s, "type": t})
                x = np.zeros(steps + 1)
                if s != "control":
                    for t_i in M.injections(s, inj):
                        x[t_i + 1:] += jump
                cols.append(x + noise * rng.standard_normal(steps + 1))
    return np.stack(cols, 1), probes, inj


def test_effectivity_recovers_a_planted_jump_and_subtracts_the_controls():
    L, P, inj = _planted(jump=0.5)
    eff = M.effectivity(L, P, inj, window=3)
    assert eff["duplication/memorization"]["raw"] == pytest.approx(0.5)
    assert eff["memorization"] == pytest.approx(0.5)
    L, P, inj = _planted(jump=0.0, noise=0.3)  # no learning: the raw window max is positive, adjusted is not
    eff = M.effectivity(L, P, inj, window=5)
    assert eff["paraphrase/memorization"]["raw"] > 0.2
    assert abs(eff["paraphrase/memorization"]["adjusted"]) < 0.2


def test_retainability_fit_recovers_a_power_law():
    a = 0.3
    t = np.arange(1, 200)
    f = M.fit_log(t, 1 - a * np.log10(t))
    assert f["decay"] == pytest.approx(a) and f["r2"] == pytest.approx(1.0)
    assert f["x_intercept_steps"] == pytest.approx(10 ** (1 / a))


def test_retainability_on_a_planted_decay():
    steps, inj = 120, [0, 10]
    P = [{"scenario": "duplication", "type": "memorization"}] * 3
    base = np.zeros(steps + 1)
    base[11] = 1.0  # the peak after the last injection (window 5 from step 10)
    for k in range(1, steps - 10):
        base[11 + k] = max(0.0, 1 - 0.4 * np.log10(k)) if 11 + k <= steps else 0
    L = np.stack([base] * 3, 1)
    r = M.retainability(L, P, inj, window=5, scenario="duplication", ptype="memorization")
    assert r["R"][0] == pytest.approx(1.0)  # t=1: R = (L[12] - L[0]) / (L[11] - L[0]) = 1 - 0.4*0
    assert r["fit"]["decay"] == pytest.approx(0.4, abs=0.05)


def test_iqr_filter_uses_factor_1_5():
    x = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 10.0])
    assert M.IQR_FACTOR == 1.5
    assert M.iqr_mean(x) == pytest.approx(np.mean([1.0, 1.1, 0.9, 1.0, 1.05]))


def test_world_keeps_fictional_entities_out_of_the_background_and_holds_out_the_semantic_template():
    cfg = W.WorldCfg(recurring=30, random_names=30, per_scenario=3)
    w = W.build(cfg, 0)
    fictional = {e.name for es in w.fictional.values() for e in es}
    rng = np.random.default_rng(0)
    background = " ".join(W.background_sentence(rng, w, cfg) for _ in range(3000)).split()
    assert not fictional & set(background)
    e = w.fictional["paraphrase"][0]
    texts = {W.passage(e, np.random.default_rng(i)) for i in range(20)} | {W.passage(e)}
    assert len(texts) > 5  # paraphrases differ; duplication repeats the canonical text
    held_out = [t[2].split("{v}")[0].format(e=e.name).strip() for _, t in W.RELATIONS.values()]
    assert not any(h in t for h in held_out for t in texts)
    probes = W.probes(w)
    assert {p["type"] for p in probes} == set(W.PROBE_TYPES)
    comp = next(p for p in probes if p["entity"] == e.name and p["type"] == "composition")
    assert comp["target"] == w.city_country[e.facts["born_in"]]


def test_stream_rows_start_with_the_passages_and_keep_their_length():
    from llmrepro.data.tokenizer import word_level
    from llmrepro.facts.training import Stream, pack

    cfg = W.WorldCfg(recurring=10, random_names=10, per_scenario=2)
    w = W.build(cfg, 1)
    tok = word_level(w.words())
    st = Stream(w, cfg, tok, length=40, seed=0)
    p = W.passage(w.fictional["once"][0])
    b = st.batch(3, [p])
    assert b.shape == (3, 40)
    assert tok.decode(b[0, : len(p.split())]).split() == p.split()
    rows = pack([p] * 5, tok, 40)  # a passage is 23 words: one per 40-token row
    assert len(rows) == 5 and all(r == p for r in rows)


@pytest.mark.parametrize("R,why", [
    ([0.5, 0.5, 0.5, 0.5], "no decay"),                       # flat: a = 0
    ([0.1, 0.2, 0.3, 0.4], "no decay"),                       # rising
    ([1.0, 0.99999, 0.99998, 0.99997], "beyond 1e12 steps"),  # a tiny decay: 10**(b/a) overflowed before
])
def test_fit_log_answers_for_degenerate_curves(R, why):
    from llmrepro.facts.metrics import fit_log

    f = fit_log(np.array([1, 10, 100, 1000]), np.array(R))
    assert f["x_intercept_steps"] is None and why in f["why"]


def test_fit_log_of_too_few_points():
    from llmrepro.facts.metrics import fit_log

    f = fit_log(np.array([5]), np.array([0.3]))
    assert f["decay"] is None and "a line needs 2" in f["why"]
