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


def features(Qm, Km, degree: int, coeffs: np.ndarray):
    """U, V with (U V^T)_ij = P(<Q_i, K_j> / d): symmetric monomial features.

    <q,k>^k / d^k = sum over multisets m of size k of k!/prod(m!) prod q^m prod k^m / d^k,
    so a monomial gets weight c_k k!/(prod(m!) d^k), split as sqrt over both sides
    (the sign of a negative c_k goes to U).
    """
    n, d = Qm.shape
    like = {"dtype": Qm.dtype, "device": Qm.device}
    w0 = coeffs[0]
    pq, pk = torch.ones(n, 1, **like), torch.ones(Km.shape[0], 1, **like)
    us, vs = [pq * math.copysign(math.sqrt(abs(w0)), w0)], [pk * math.sqrt(abs(w0))]
    for k, (parent, last, inv_fact) in enumerate(_monomials(d, degree), start=1):
        pq = pq[:, parent] * Qm[:, last]
        pk = pk[:, parent] * Km[:, last]
        w = coeffs[k] * math.factorial(k) * inv_fact / d**k
        sw = torch.as_tensor(np.sqrt(np.abs(w)), **like)
        us.append(pq * (sw * torch.as_tensor(np.sign(w), **like)))
        vs.append(pk * sw)
    return torch.cat(us, dim=1), torch.cat(vs, dim=1)


def exponent_radius(Q, K) -> float:
    """A bound on |<q_i, k_j>| / d over all pairs: max ||q_i||_2 max ||k_j||_2 / d (Cauchy-Schwarz)."""
    return float(Q.norm(dim=1).max() * K.norm(dim=1).max()) / Q.shape[1]


def fast_grad(X, A1, A2, A3, Y, E, degree: int, poly: str = "taylor", radius: float | None = None):
    """dL/dX through a rank-C(d+g, g) factorisation; O(n k d^2), no n x n matrix.

    A polynomial that is not positive on the exponents can give a row normaliser
    sum_j P(s_ij) <= 0; the softmax it stands for then does not exist, and the
    result is all NaN (rel_err reads it as an infinite error), never a silent
    division by a tiny or negative number."""
    n, d = A1.shape
    Q = A1 @ X
    if radius is None:
        radius = exponent_radius(Q, A2)
    U, V = features(Q, A2, degree, poly_coeffs(degree, poly, radius))
    h = A3 @ Y
    den = U @ V.sum(dim=0)
    if not bool((den > 0).all()):
        return torch.full((d, d), math.nan, dtype=A1.dtype, device=A1.device)
    U1 = U / den.unsqueeze(1)  # f ~ U1 V^T: the row normalisation folded into U
    M = V.T @ h  # k x d
    c = U1 @ M - E
    r = ((U1 @ M) * c).sum(dim=1)  # r_j = <f_j, q_j> = U1_j (V^T h) c_j^T
    # A1^T (f o q) A2 = sum_{a,b} (A1^T (U1_a o c_b)) ((V_a o h_b)^T A2): contract the
    # row-wise Kronecker products over rows, through n x d^2 intermediates.
    W1 = (A1.unsqueeze(2) * c.unsqueeze(1)).reshape(n, d * d)  # (x, b)
    W2 = (A2.unsqueeze(2) * h.unsqueeze(1)).reshape(n, d * d)  # (y, b)
    T1 = (W1.T @ U1).reshape(d, d, -1)  # x, b, a
    T2 = (W2.T @ V).reshape(d, d, -1)  # y, b, a
    term1 = torch.einsum("xba,yba->xy", T1, T2)
    term2 = (A1.T @ (r.unsqueeze(1) * U1)) @ (V.T @ A2)
    return (term1 - term2) / d


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
