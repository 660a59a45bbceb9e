"""The exact gradient against autograd; the fast gradient against the exact one."""

from __future__ import annotations

import math

import pytest
import torch

from llmrepro.attngrad import gradient as G
from llmrepro.attngrad.instances import make


def _inst(n=48, d=4, B=0.6, family="gaussian", seed=0):
    return make(family, n, d, B, seed)


def test_exact_gradient_matches_autograd():
    inst = _inst()
    X = (inst.X + 0.3 * torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    Xg = X.clone().requires_grad_()
    G.loss(Xg, inst.A1, inst.A2, inst.A3, inst.Y, inst.E).backward()
    for block in (7, 2048):  # the row blocking must not change the result
        g = G.exact_grad(X, inst.A1, inst.A2, inst.A3, inst.Y, inst.E, block=block)
        assert torch.allclose(g, Xg.grad, atol=1e-13, rtol=1e-10)


def test_features_reproduce_the_polynomial_entrywise():
    inst = _inst(n=10, d=3)
    for poly in ("taylor", "chebyshev"):
        coeffs = G.poly_coeffs(5, poly, radius=0.5)
        U, V = G.features(inst.A1, inst.A2, 5, coeffs)
        assert U.shape == (10, G.rank(3, 5)) == (10, math.comb(8, 5))
        s = inst.A1 @ inst.A2.T / 3
        P = sum(c * s**k for k, c in enumerate(coeffs))
        assert torch.allclose(U @ V.T, P, atol=1e-14)


def test_chebyshev_interpolant_beats_taylor_at_the_interval_edge():
    import numpy as np

    s = np.linspace(-2, 2, 401)
    err = {p: np.abs(np.polyval(G.poly_coeffs(6, p, 2.0)[::-1], s) - np.exp(s)).max() for p in ("taylor", "chebyshev")}
    assert err["chebyshev"] < err["taylor"] / 10
    with pytest.raises(ValueError, match="poly 'pade' is not one of"):
        G.poly_coeffs(3, "pade")


@pytest.mark.parametrize("family", ["hard", "gaussian"])
def test_fast_gradient_converges_to_the_exact_one(family):
    inst = _inst(n=200, d=4, B=0.7, family=family)
    exact = G.exact_grad(*inst.args())
    errs = [G.rel_err(G.fast_grad(*inst.args(), g), exact) for g in (2, 4, 8, 12)]
    assert errs == sorted(errs, reverse=True)
    assert errs[-1] < 1e-9


def test_fast_gradient_with_nonidentity_X_and_Y():
    inst = _inst(n=64, d=3, B=0.5)
    gen = torch.Generator().manual_seed(2)
    X = torch.eye(3, dtype=torch.float64) + 0.2 * torch.randn(3, 3, dtype=torch.float64, generator=gen)
    Y = torch.randn(3, 3, dtype=torch.float64, generator=gen)
    exact = G.exact_grad(X, inst.A1, inst.A2, inst.A3, Y, inst.E)
    assert G.rel_err(G.fast_grad(X, inst.A1, inst.A2, inst.A3, Y, inst.E, 12), exact) < 1e-9


@pytest.mark.parametrize("block_rows", [1, 7, 64, 200])
def test_streaming_rows_in_blocks_gives_the_same_gradient(block_rows):
    inst = _inst(n=200, d=4, B=0.7, family="gaussian")
    whole = G.fast_grad(*inst.args(), 4)
    assert torch.allclose(G.fast_grad(*inst.args(), 4, block_rows=block_rows), whole, rtol=1e-12, atol=0)


def test_taylor_degree_from_the_remainder_bound():
    # g=2: e^0.25 0.25^3/3! = 3.3e-3 > 1e-3; g=3: e^0.25 0.25^4/4! = 2.1e-4
    assert G.taylor_degree(0.25, 1e-3) == 3
    assert G.taylor_degree(0.0, 1e-3) == 0
    with pytest.raises(ValueError, match="entries are too large"):
        G.taylor_degree(50.0, 1e-9)


def test_uniform_instances_have_no_sqrt_n_rank_structure():
    # d = log2(n)/2 as in (b2): +-B entries allow only 2^d = sqrt(n) distinct rows, so exp(S)
    # has rank <= sqrt(n) whatever B; uniform entries give n distinct rows and a rank above sqrt(n)
    n, d = 256, 4
    B = math.sqrt(1.0 * math.log(n))  # c = 1
    ranks = {}
    for family in ("uniform", "hard"):
        inst = make(family, n, d, B, seed=0)
        rows = len({tuple(r) for r in inst.A1.tolist()})
        S = inst.A1 @ inst.A2.T / d
        ranks[family] = (rows, int(torch.linalg.matrix_rank(torch.exp(S), rtol=1e-10)))
    assert ranks["hard"][0] <= 16 and ranks["hard"][1] <= 16
    assert ranks["uniform"][0] == n and ranks["uniform"][1] > 16
    inst = make("uniform", n, d, B, seed=0)
    assert inst.A1.abs().max() <= B and (inst.A1 @ inst.A2.T / d).abs().max() <= B**2


def test_chebyshev_radius_is_the_cauchy_schwarz_bound():
    inst = _inst(n=40, d=3, B=1.3, family="uniform")
    r = G.exponent_radius(inst.A1, inst.A2)
    assert r == pytest.approx(float(inst.A1.norm(dim=1).max() * inst.A2.norm(dim=1).max()) / 3)
    assert (inst.A1 @ inst.A2.T / 3).abs().max() <= r + 1e-12
    assert r <= float(inst.A1.abs().max() * inst.A2.abs().max())  # tighter than the entrywise bound


def test_non_positive_row_normaliser_gives_an_infinite_error_not_garbage():
    # degree 1: P(s) = 1 + s, negative for every exponent below -1; a row of such exponents
    # has no softmax to stand for
    inst = _inst(n=8, d=2, B=1.0)
    A1 = torch.full((8, 2), 3.0, dtype=torch.float64)
    A2 = -A1  # every s = <a, b>/2 = -9
    exact = G.exact_grad(inst.X, A1, A2, inst.A3, inst.Y, inst.E)
    fast = G.fast_grad(inst.X, A1, A2, inst.A3, inst.Y, inst.E, 1)
    assert torch.isnan(fast).all()
    assert G.rel_err(fast, exact) == math.inf
    assert math.isfinite(G.rel_err(G.fast_grad(inst.X, A1, A2, inst.A3, inst.Y, inst.E, 30), exact))


def test_hard_instances_plant_exponents_at_b_squared():
    n, d, B = 64, 6, 1.5
    inst = make("hard", n, d, B, seed=3)
    assert set(inst.A1.unique().tolist()) == {-B, B}
    s = inst.A1 @ inst.A2.T / d
    assert torch.isclose(s.max(), torch.tensor(B**2, dtype=torch.float64))
    assert (s.abs() <= B**2 + 1e-12).all()
    with pytest.raises(ValueError, match="instance family 'x' is not one of: uniform, hard, gaussian"):
        make("x", 4, 2, 1.0, 0)
