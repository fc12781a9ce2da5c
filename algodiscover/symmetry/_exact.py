"""Small exact linear algebra over Q, on top of sympy's DomainMatrix (no floats anywhere)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from sympy import QQ
from sympy.polys.matrices import DomainMatrix


def qq(x) -> object:
    if type(x) is int:
        return QQ(x)
    f = Fraction(x)
    return QQ(f.numerator, f.denominator)


def to_fraction(x) -> Fraction | int:
    f = Fraction(int(x.numerator), int(x.denominator))
    return int(f) if f.denominator == 1 else f


def dm(rows, shape: tuple[int, int] | None = None) -> DomainMatrix:
    """A DomainMatrix over QQ from nested rows or a 2-D array of ints/Fractions."""
    rows = rows.tolist() if isinstance(rows, np.ndarray) else [list(r) for r in rows]
    if shape is None:
        shape = (len(rows), len(rows[0]) if rows else 0)
    return DomainMatrix([[qq(x) for x in r] for r in rows], shape, QQ)


def to_array(M: DomainMatrix) -> np.ndarray:
    """An object array of ints/Fractions."""
    out = np.empty(M.shape, dtype=object)
    for i, row in enumerate(M.to_list()):
        for j, x in enumerate(row):
            out[i, j] = to_fraction(x)
    return out


def eye(n: int) -> DomainMatrix:
    return DomainMatrix.eye(n, QQ)


def null_cols(M: DomainMatrix) -> DomainMatrix:
    """A basis of the right null space of M as the columns of a (ncols x d) matrix."""
    n = M.shape[1]
    if M.shape[0] == 0:
        return eye(n)
    basis = M.nullspace()  # rows are basis vectors
    if basis.shape[0] == 0:
        return DomainMatrix.zeros((n, 0), QQ)
    return basis.transpose()


def kron(A: DomainMatrix, B: DomainMatrix) -> DomainMatrix:
    (p, q), (r, s) = A.shape, B.shape
    a, b = A.to_list(), B.to_list()
    rows = [[a[i][j] * b[k][l] for j in range(q) for l in range(s)] for i in range(p) for k in range(r)]
    return DomainMatrix(rows, (p * r, q * s), QQ)


def reshape(v: DomainMatrix, p: int, q: int) -> DomainMatrix:
    """A column vector of length p*q (row-major) as a p x q matrix."""
    flat = [row[0] for row in v.to_list()]
    return DomainMatrix([flat[i * q:(i + 1) * q] for i in range(p)], (p, q), QQ)


def primitive(M: DomainMatrix) -> DomainMatrix:
    """M scaled so that its entries are coprime integers with the first nonzero entry positive."""
    import math
    vals = [x for row in M.to_list() for x in row]
    nz = [Fraction(int(x.numerator), int(x.denominator)) for x in vals if x != 0]
    if not nz:
        return M
    den = 1
    for f in nz:
        den = math.lcm(den, f.denominator)
    g = 0
    for f in nz:
        g = math.gcd(g, int(f * den))
    scale = Fraction(den, g) * (1 if nz[0] > 0 else -1)
    return M * qq(scale)


def rref_key(rows) -> tuple:
    """The row space of a small matrix (nested rows of ints/Fractions) as a canonical hashable value:
    its reduced row echelon form without zero rows (so its length is the rank)."""
    A = {}
    for i, r in enumerate(rows):
        d = {j: qq(x) for j, x in enumerate(r) if x != 0}
        if d:
            A[i] = d
    if not A:
        return ()
    try:
        from sympy.polys.matrices.sdm import sdm_irref  # sparse kernel of DomainMatrix.rref, less overhead
    except ImportError:  # pragma: no cover - older/newer sympy layouts
        ncols = max(len(r) for r in rows)
        R, piv = dm(rows, (len(rows), ncols)).rref()
        return tuple(tuple(to_fraction(x) for x in row) for row in R.to_list()[:len(piv)])
    R, pivots, _ = sdm_irref(A)
    ncols = len(rows[0])
    return tuple(tuple(to_fraction(R[p].get(j, 0)) if j in R[p] else 0 for j in range(ncols)) for p in sorted(R))
