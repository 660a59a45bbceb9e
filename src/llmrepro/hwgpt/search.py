"""Multi-objective search on the surrogate benchmark: perplexity against one device's latency.

The benchmark scores every architecture of the (enumerated) space once with the surrogates, so a
query is a table look-up and the true Pareto front, hence hypervolume regret, is known. Objectives
are min-max normalised with bounds from that exhaustive sweep, and hypervolume uses a fixed
reference point: both fixed before any method runs, as HV rankings depend on them.

Methods: random search (RS), local search (LS: mutate one gene of a random member of the current
non-dominated set, as the paper's LS), NSGA-II and MOEA/D (pymoo), and ParEGO (a GP on a random
augmented-Chebyshev scalarisation per step, expected improvement over a random pool of unseen
architectures). Every method starts with `init` random evaluations, and every proposal counts as
one evaluation, so all methods get the same budget.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from llmrepro.hwgpt.space import Space


def nondominated(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of F (minimisation)."""
    from pymoo.util.nds.non_dominated_sorting import find_non_dominated

    return np.sort(find_non_dominated(np.asarray(F, float)))


def hypervolume(F: np.ndarray, ref) -> float:
    from pymoo.indicators.hv import HV

    F = np.asarray(F, float).reshape(-1, len(ref))
    F = F[np.all(F < np.asarray(ref), axis=1)]
    return float(HV(ref_point=np.asarray(ref, float))(F)) if len(F) else 0.0


class Benchmark:
    def __init__(self, space: Space, objectives: np.ndarray, ref_point):
        """`objectives`: (space size, 2) raw values, rows in `space.all` order."""
        self.space = space
        self.raw = np.asarray(objectives, float)
        self.lo, self.hi = self.raw.min(0), self.raw.max(0)
        self.F = (self.raw - self.lo) / np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        self.ref = np.asarray(ref_point, float)
        self.front = nondominated(self.F)
        self.hv_true = hypervolume(self.F[self.front], self.ref)

    def index(self, genotype) -> int:
        return self.space.index[self.space.decode(genotype)]

    def hv_trace(self, evaluated: list[int]) -> list[float]:
        """Hypervolume of the evaluated set after each evaluation."""
        out, front = [], np.empty((0, 2))
        for i in evaluated:
            front = np.vstack([front, self.F[i]])
            front = front[nondominated(front)]
            out.append(hypervolume(front, self.ref))
        return out


def _random_genotypes(space: Space, n: int, rng) -> np.ndarray:
    ub = space.gene_bounds
    return np.column_stack([rng.integers(0, u + 1, n) for u in ub])


def random_search(bench: Benchmark, budget: int, init: int, seed: int, **_) -> list[int]:
    rng = np.random.default_rng(seed)
    return [bench.index(g) for g in _random_genotypes(bench.space, budget, rng)]


def local_search(bench: Benchmark, budget: int, init: int, seed: int, **_) -> list[int]:
    rng = np.random.default_rng(seed)
    space, ub = bench.space, bench.space.gene_bounds
    genos = list(_random_genotypes(space, init, rng))
    evaluated = [bench.index(g) for g in genos]
    while len(evaluated) < budget:
        F = bench.F[evaluated]
        parent = genos[rng.choice(nondominated(F))].copy()
        # mutate one gene that matters for this parent (genes past its layer count are inert)
        L = space.layers[parent[1]]
        live = [0, 1, *range(2, 2 + L), *range(2 + space.max_layers, 2 + space.max_layers + L)]
        j = live[rng.integers(len(live))]
        parent[j] = rng.choice([v for v in range(ub[j] + 1) if v != parent[j]])
        genos.append(parent)
        evaluated.append(bench.index(parent))
    return evaluated


def _pymoo(bench: Benchmark, algorithm, budget: int, seed: int) -> list[int]:
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    evaluated: list[int] = []

    class Look(Problem):
        def __init__(self):
            ub = bench.space.gene_bounds
            super().__init__(n_var=len(ub), n_obj=2, xl=np.zeros(len(ub)), xu=ub, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            idx = [bench.index(np.round(x).astype(int)) for x in X]
            evaluated.extend(idx)
            out["F"] = bench.F[idx]

    # With duplicates eliminated, a converged population in a small space (smoke) can fail to mate any new
    # genotype and pymoo stops short of the budget; restart it (a fresh copy, a derived seed) for the rest.
    # Mini's space never triggered this, so its results are those of one uninterrupted run.
    for restart in range(_MAX_RESTARTS):
        left = budget - len(evaluated)
        if left <= 0:
            break
        minimize(Look(), copy.deepcopy(algorithm), ("n_eval", left), seed=seed + 7919 * restart, verbose=False)
    return evaluated[:budget]


_MAX_RESTARTS = 20


def _operators():
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling

    return dict(sampling=IntegerRandomSampling(), crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                mutation=PM(eta=20, vtype=float, repair=RoundingRepair()))


def nsga2(bench: Benchmark, budget: int, init: int, seed: int, pop_size: int, **_) -> list[int]:
    from pymoo.algorithms.moo.nsga2 import NSGA2

    return _pymoo(bench, NSGA2(pop_size=pop_size, eliminate_duplicates=True, **_operators()), budget, seed)


def moead(bench: Benchmark, budget: int, init: int, seed: int, pop_size: int, **_) -> list[int]:
    from pymoo.algorithms.moo.moead import MOEAD
    from pymoo.util.ref_dirs import get_reference_directions

    dirs = get_reference_directions("uniform", 2, n_partitions=pop_size - 1)
    return _pymoo(bench, MOEAD(dirs, n_neighbors=min(5, pop_size), prob_neighbor_mating=0.7, **_operators()),
                  budget, seed)


def parego(bench: Benchmark, budget: int, init: int, seed: int, pool: int, refit_every: int,
           features: np.ndarray, **_) -> list[int]:
    """ParEGO (Knowles 2006): each step a random weight vector on the simplex, the augmented
    Chebyshev scalarisation of the normalised objectives, a GP on it, and expected improvement."""
    from scipy.stats import norm
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    rng = np.random.default_rng(seed)
    evaluated = [bench.index(g) for g in _random_genotypes(bench.space, init, rng)]
    n_all = len(bench.F)
    kernel = ConstantKernel(1.0) * Matern(length_scale=np.ones(features.shape[1]), nu=2.5) + WhiteKernel(1e-3)
    step = 0
    while len(evaluated) < budget:
        w = rng.dirichlet(np.ones(2))
        F = bench.F[evaluated]
        s = np.max(w * F, axis=1) + 0.05 * (w * F).sum(axis=1)
        refit = step % refit_every == 0
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, optimizer="fmin_l_bfgs_b" if refit else None,
                                      random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(features[evaluated], s)
        kernel = gp.kernel_  # reused, fixed, until the next refit
        seen = set(evaluated)
        cand = rng.choice(n_all, size=min(pool, n_all), replace=False)
        cand = np.array([c for c in cand if c not in seen]) if len(seen) < n_all else cand
        mu, sd = gp.predict(features[cand], return_std=True)
        sd = np.maximum(sd, 1e-12)
        z = (s.min() - mu) / sd
        ei = (s.min() - mu) * norm.cdf(z) + sd * norm.pdf(z)
        evaluated.append(int(cand[int(np.argmax(ei))]))
        step += 1
    return evaluated


METHODS = {"rs": random_search, "ls": local_search, "nsga2": nsga2, "moead": moead, "parego": parego}


def run(bench: Benchmark, method: str, seed: int, cfg, features: np.ndarray) -> list[int]:
    out = METHODS[method](bench, budget=cfg.budget, init=cfg.init, seed=seed, pop_size=cfg.pop_size,
                          pool=cfg.parego_pool, refit_every=cfg.parego_refit_every, features=features)
    if len(out) < cfg.budget:
        raise RuntimeError(f"{method} (seed {seed}) stopped after {len(out)} of {cfg.budget} evaluations")
    return out[:cfg.budget]
