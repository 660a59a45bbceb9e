"""hwgpt: hypervolume against a brute-force reference, non-dominated sorting, and the search
methods' budget and determinism on a tiny enumerated space."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from llmrepro.hwgpt import search as M
from llmrepro.hwgpt.space import Space


def brute_hv(F, ref, grid=400):
    """Area dominated by F and bounded by ref, by counting cell centres on a fine grid."""
    xs = (np.arange(grid) + 0.5) / grid * ref[0]
    ys = (np.arange(grid) + 0.5) / grid * ref[1]
    X, Y = np.meshgrid(xs, ys)
    dom = np.zeros_like(X, bool)
    for f in F:
        dom |= (X >= f[0]) & (Y >= f[1])
    return dom.mean() * ref[0] * ref[1]


def test_hypervolume_of_a_tiny_front_by_hand_and_by_brute_force():
    ref = [1.1, 1.1]
    F = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    # staircase by hand: (1.1-0.1)(1.1-0.9) + (1.1-0.5)(0.9-0.5) + (1.1-0.9)(0.5-0.1)
    assert M.hypervolume(F, ref) == pytest.approx(1.0 * 0.2 + 0.6 * 0.4 + 0.2 * 0.4)
    rng = np.random.default_rng(0)
    for _ in range(5):
        P = rng.random((7, 2))
        assert M.hypervolume(P, ref) == pytest.approx(brute_hv(P, ref), abs=0.01)
    # dominated points and points beyond the reference add nothing; an empty set has none
    assert M.hypervolume(np.vstack([F, [[0.95, 0.95], [2.0, 0.0]]]), ref) == pytest.approx(M.hypervolume(F, ref))
    assert M.hypervolume(np.empty((0, 2)), ref) == 0.0


def test_nondominated_matches_brute_force():
    rng = np.random.default_rng(1)
    F = rng.integers(0, 6, (40, 2)).astype(float)  # ties included
    want = [i for i in range(len(F)) if not any((F[j] <= F[i]).all() and (F[j] < F[i]).any() for j in range(len(F)))]
    assert M.nondominated(F).tolist() == want


@pytest.fixture(scope="module")
def bench():
    space = Space([8, 16], [1, 2], [1, 2], [1, 2], 4, 8, 50)
    rng = np.random.default_rng(0)
    # a conflicting pair: "perplexity" falls with size, "latency" grows with it, plus noise
    size = np.array([space.params(a) for a in space.all], float)
    obj = np.column_stack([1 / size + rng.normal(0, 1e-5, len(size)), size + rng.normal(0, 50, len(size))])
    return M.Benchmark(space, obj, [1.1, 1.1])


def test_benchmark_normalises_and_knows_its_true_front(bench):
    assert bench.F.min() == 0.0 and bench.F.max() == 1.0
    all_hv = M.hypervolume(bench.F, bench.ref)
    assert bench.hv_true == pytest.approx(all_hv)
    trace = bench.hv_trace(list(range(len(bench.F))))
    assert np.all(np.diff(trace) >= -1e-12) and trace[-1] == pytest.approx(bench.hv_true)


@pytest.mark.parametrize("method", list(M.METHODS))
def test_every_method_spends_exactly_the_budget_and_is_seeded(bench, method):
    cfg = SimpleNamespace(budget=14, init=4, pop_size=4, parego_pool=20, parego_refit_every=3)
    feats = bench.space.features(bench.space.all)
    a = M.run(bench, method, 0, cfg, feats)
    assert len(a) == 14 and all(0 <= i < len(bench.F) for i in a)
    assert M.run(bench, method, 0, cfg, feats) == a
    if method != "rs":
        # at least one of a few other seeds proposes a different sequence (the seed is used)
        assert any(M.run(bench, method, s, cfg, feats) != a for s in (1, 2, 3))


def test_local_search_mutates_one_live_gene():
    space = Space([8, 16], [1, 2], [1, 2], [1, 2], 4, 8, 50)
    obj = np.column_stack([np.arange(space.size()), -np.arange(space.size())]).astype(float)
    b = M.Benchmark(space, obj, [1.1, 1.1])
    ev = M.local_search(b, 30, 3, 0)
    archs = [space.all[i] for i in ev]
    # every proposal after the start is one gene edit away from an earlier architecture (a layer-count
    # edit also changes the padding of the dropped or added layer: at most 3 encoded genes)
    def dist(x, y):
        gx, gy = space.encode(x), space.encode(y)
        return int((gx != gy).sum())
    assert all(any(dist(archs[k], archs[j]) <= 3 for j in range(k)) for k in range(3, 30))
    assert len(list(itertools.islice(ev, 30))) == 30


def test_nsga2_restarts_when_a_small_space_stops_it_short(bench, monkeypatch):
    # A converged population in a small space mates no new genotype and pymoo stops early; the smoke
    # DAG's search hit this (7 of 10 evaluations). Without restarts some seeds fall short here.
    method = "nsga2"
    cfg = SimpleNamespace(budget=len(bench.F) // 2, init=4, pop_size=4, parego_pool=20, parego_refit_every=3)
    feats = bench.space.features(bench.space.all)
    for seed in range(12):
        assert len(M.run(bench, method, seed, cfg, feats)) == cfg.budget
    monkeypatch.setattr(M, "_MAX_RESTARTS", 1)
    short = []
    for seed in range(12):
        try:
            M.run(bench, method, seed, cfg, feats)
        except RuntimeError as e:
            short.append(str(e))
    assert short and "evaluations" in short[0]
