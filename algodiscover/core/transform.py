"""Re-index a scheme for a permuted shape: <m,k,n> -> any order of (m,k,n).

Two generators: transposition (AB)^T = B^T A^T maps <m,k,n> to <n,k,m>, and the cyclic
symmetry of tr(A B C^T) maps <m,k,n> to <k,n,m>.  Both preserve rank, coefficients and
validity; callers verify anyway.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import ShapeError
from .scheme import Scheme
from .shape import Shape, parse_shape


def _perm_matrix_rows(W: np.ndarray, order: list[int]) -> np.ndarray:
    return W[:, order] if W.ndim == 2 else W


def transpose(scheme: Scheme) -> Scheme:
    """<m,k,n> -> <n,k,m> via C^T = B^T A^T."""
    m, k, n = scheme.shape
    # new A' = B^T (n x k): A'[l, j] = B[j, l]  -> column l*k + j of W_a' is column j*n + l of W_b
    a_cols = [j * n + l for l in range(n) for j in range(k)]
    # new B' = A^T (k x m): B'[j, i] = A[i, j]
    b_cols = [i * k + j for j in range(k) for i in range(m)]
    # new C' = C^T (n x m): C'[l, i] = C[i, l]
    c_rows = [i * n + l for l in range(n) for i in range(m)]
    return Scheme(Shape(n, k, m), scheme.W_b[:, a_cols], scheme.W_a[:, b_cols], scheme.W_c[c_rows, :],
                  provenance=scheme.provenance)


def cycle(scheme: Scheme) -> Scheme:
    """<m,k,n> -> <k,n,m> via tr(A B C^T) = tr(B C^T A)."""
    m, k, n = scheme.shape
    # A' = B (k x n), B' = C^T (n x m), C' = A^T (k x m)
    Wa2 = scheme.W_b
    Wb2 = scheme.W_c[[i * n + l for l in range(n) for i in range(m)], :].T  # B'[l,i] = C[i,l]
    Wc2 = scheme.W_a[:, [i * k + j for j in range(k) for i in range(m)]].T  # C'[j,i] = A[i,j]
    return Scheme(Shape(k, n, m), Wa2, Wb2, Wc2, provenance=scheme.provenance)


def to_shape(scheme: Scheme, target) -> Scheme:
    """Re-index the scheme for ``target``, which must be a permutation of its shape."""
    t = parse_shape(target)
    if sorted(t) != sorted(scheme.shape):
        raise ShapeError(f"cannot re-index a {scheme.shape} scheme as {t}: not a permutation")
    frontier = [scheme]
    seen = {tuple(scheme.shape)}
    for cur in itertools.chain(frontier):
        if cur.shape == t:
            return cur
        for nxt in (transpose(cur), cycle(cur)):
            if tuple(nxt.shape) not in seen:
                seen.add(tuple(nxt.shape))
                frontier.append(nxt)
    raise AssertionError("unreachable: the transposition and the cycle generate all 6 orders")
