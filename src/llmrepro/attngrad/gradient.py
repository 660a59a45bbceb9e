"""The attention-optimisation gradient of Alman & Song (Def. 1.2), exact and fast.

    L(X) = 1/2 || D^-1 exp(A1 X A2^T / d) A3 Y - E ||_F^2,   D = diag(exp(.) 1_n)

    dL/dX = (1/d) A1^T p A2,   p = f o q - diag(r) f          (Lemma C.7)

with f the row-softmax of S = A1 X A2^T / d, h = A3 Y, c = f h - E, q = c h^T
and r_j = <f_j, q_j>. The exact gradient costs O(n^2 d); the fast one replaces
exp(S) by a rank-k factorisation U V^T from a polynomial in S (Taylor, or a
Chebyshev interpolant on [-r, r], r = max||q|| max||k|| / d) and never forms an n x n matrix:
O(n k d^2) time.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations_with_replacement

import numpy as np
import torch


def loss(X, A1, A2, A3, Y, E):
    """L(X), for torch.autograd as the reference."""
    d = A1.shape[1]
    f = torch.softmax(A1 @ X @ A2.T / d, dim=1)
    return 0.5 * ((f @ A3 @ Y - E) ** 2).sum()


def exact_grad(X, A1, A2, A3, Y, E, block: int = 2048):
    """dL/dX in O(n^2 d) time, in row blocks of S so memory stays O(block * n)."""
    n, d = A1.shape
    Q = A1 @ X
    h = A3 @ Y
    out = torch.zeros(d, d, dtype=A1.dtype, device=A1.device)
    for i in range(0, n, block):
        f = torch.softmax(Q[i:i + block] @ A2.T / d, dim=1)
        c = f @ h - E[i:i + block]
        q = c @ h.T
        p = f * q
        p -= (p.sum(dim=1, keepdim=True)) * f  # r_j = <f_j, q_j> = sum_k f_jk q_jk
        out += A1[i:i + block].T @ (p @ A2)
        del f, q, p
    return out / d


@lru_cache(maxsize=64)
def _monomials(d: int, degree: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """Per degree k >= 1: for each multiset of k coordinates (sorted), the index of
    its parent multiset (last element dropped) in degree k-1, its last coordinate,
    and 1/prod(multiplicity!)."""
    levels = []
    prev = {(): 0}
    for k in range(1, degree + 1):
        cur = {}
        parent, last, inv_fact = [], [], []
        for m in combinations_with_replacement(range(d), k):
            cur[m] = len(cur)
            parent.append(prev[m[:-1]])
            last.append(m[-1])
            inv_fact.append(1.0 / math.prod(math.factorial(m.count(i)) for i in set(m)))
        levels.append((np.array(parent), np.array(last), np.array(inv_fact)))
        prev = cur
    return tuple(levels)


def rank(d: int, degree: int) -> int:
    return math.comb(d + degree, degree)


def poly_coeffs(degree: int, poly: str = "taylor", radius: float = 1.0) -> np.ndarray:
    """Coefficients c_k of P(s) = sum_k c_k s^k approximating exp(s).
    taylor: 1/k!; chebyshev: the interpolant at Chebyshev nodes on [-radius, radius]."""
    if poly == "taylor":
        return np.array([1.0 / math.factorial(k) for k in range(degree + 1)])
    if poly == "chebyshev":
        from numpy.polynomial import chebyshev as C

        cheb = C.Chebyshev.interpolate(np.exp, degree, domain=[-radius, radius])
        return cheb.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef
    raise ValueError(f"poly {poly!r} is not one of: taylor, chebyshev")


def monomial_features(M, degree: int, coeffs: np.ndarray, signed: bool):
    """One side of the factorisation (U V^T)_ij = P(<Q_i, K_j> / d): symmetric monomial features.

    <q,k>^k / d^k = sum over multisets m of size k of k!/prod(m!) prod q^m prod k^m / d^k,
    so a monomial gets weight c_k k!/(prod(m!) d^k), split as sqrt over both sides
    (the sign of a negative c_k goes to the `signed` side, U).
    """
    n, d = M.shape
    like = {"dtype": M.dtype, "device": M.device}
    w0 = coeffs[0]
    p = torch.ones(n, 1, **like)
    out = [p * (math.copysign(math.sqrt(abs(w0)), w0) if signed else math.sqrt(abs(w0)))]
    for k, (parent, last, inv_fact) in enumerate(_monomials(d, degree), start=1):
        p = p[:, parent] * M[:, last]
        w = coeffs[k] * math.factorial(k) * inv_fact / d**k
        sw = torch.as_tensor(np.sqrt(np.abs(w)), **like)
        out.append(p * (sw * torch.as_tensor(np.sign(w), **like)) if signed else p * sw)
    return torch.cat(out, dim=1)


def features(Qm, Km, degree: int, coeffs: np.ndarray):
    """U, V with (U V^T)_ij = P(<Q_i, K_j> / d)."""
    return monomial_features(Qm, degree, coeffs, True), monomial_features(Km, degree, coeffs, False)


def exponent_radius(Q, K) -> float:
    """A bound on |<q_i, k_j>| / d over all pairs: max ||q_i||_2 max ||k_j||_2 / d (Cauchy-Schwarz)."""
    return float(Q.norm(dim=1).max() * K.norm(dim=1).max()) / Q.shape[1]


def fast_grad(X, A1, A2, A3, Y, E, degree: int, poly: str = "taylor", radius: float | None = None,
              block_rows: int | None = None):
    """dL/dX through a rank-C(d+g, g) factorisation; O(n k d^2), no n x n matrix.

    Rows are streamed in blocks of `block_rows` (all at once when None): every n x k and
    n x d^2 intermediate then stays block-sized, so on a CPU the cost per row does not change
    with n as the working set outgrows the caches. The K side is reduced first (sum of V,
    V^T h, W2^T V, V^T A2), then the Q side against it.

    A polynomial that is not positive on the exponents can give a row normaliser
    sum_j P(s_ij) <= 0; the softmax it stands for then does not exist, and the
    result is all NaN (rel_err reads it as an infinite error), never a silent
    division by a tiny or negative number."""
    n, d = A1.shape
    Q = A1 @ X
    if radius is None:
        radius = exponent_radius(Q, A2)
    coeffs = poly_coeffs(degree, poly, radius)
    blocks = [slice(i, i + (block_rows or n)) for i in range(0, n, block_rows or n)]
    k = rank(d, degree)
    zeros = lambda *shape: torch.zeros(*shape, dtype=A1.dtype, device=A1.device)  # noqa: E731
    v_sum, M, T2, VA2 = zeros(k), zeros(k, d), zeros(d * d, k), zeros(k, A2.shape[1])
    for b in blocks:
        V = monomial_features(A2[b], degree, coeffs, signed=False)
        h = A3[b] @ Y
        v_sum += V.sum(dim=0)
        M += V.T @ h  # k x d
        T2 += (A2[b].unsqueeze(2) * h.unsqueeze(1)).reshape(-1, d * d).T @ V  # (y, b), a
        VA2 += V.T @ A2[b]
    T1, S = zeros(d * d, k), zeros(d, k)
    for b in blocks:
        U = monomial_features(Q[b], degree, coeffs, signed=True)
        den = U @ v_sum
        if not bool((den > 0).all()):
            return torch.full((d, d), math.nan, dtype=A1.dtype, device=A1.device)
        U1 = U / den.unsqueeze(1)  # f ~ U1 V^T: the row normalisation folded into U
        fq = U1 @ M
        c = fq - E[b]
        r = (fq * c).sum(dim=1)  # r_j = <f_j, q_j> = U1_j (V^T h) c_j^T
        # A1^T (f o q) A2 = sum_{a,b} (A1^T (U1_a o c_b)) ((V_a o h_b)^T A2): contract the
        # row-wise Kronecker products over rows, through block x d^2 intermediates.
        T1 += (A1[b].unsqueeze(2) * c.unsqueeze(1)).reshape(-1, d * d).T @ U1  # (x, b), a
        S += A1[b].T @ (r.unsqueeze(1) * U1)
    term1 = torch.einsum("xba,yba->xy", T1.reshape(d, d, -1), T2.reshape(d, d, -1))
    return (term1 - S @ VA2) / d


def rel_err(approx, exact) -> float:
    """max |g~ - g| / max |g|: the theorem's infinity-norm error, made scale-free;
    infinite when the approximation is not finite (see fast_grad)."""
    err = float((approx - exact).abs().max() / exact.abs().max())
    return err if math.isfinite(err) else math.inf


def taylor_degree(bound: float, eps: float, max_degree: int = 16) -> int:
    """Smallest g whose Taylor remainder e^b b^(g+1)/(g+1)! is below eps for |s| <= b:
    the degree is fixed a priori from the entry bound, never from a measured error."""
    for g in range(max_degree + 1):
        if math.exp(bound) * bound ** (g + 1) / math.factorial(g + 1) <= eps:
            return g
    raise ValueError(f"no Taylor degree <= {max_degree} reaches error {eps} for exponents up to {bound:.3g}: "
                     "the entries are too large for the polynomial method (lower B)")
