"""Fused linear combinations (numba, parallel over rows): one pass over memory per level side.

``combine(src, bp, bq, kq, ptr, ind, val, out)`` forms, for every target t,
``out[t] = sum_j val[j] * block(ind[j])`` where block b of ``src`` is
``src[(b // kq) * bp : ..., (b % kq) * bq : ...]``.  Rows are processed together: for each row of the
blocks every source row is read once from memory while the target rows are written once, instead of
one read-read-write pass per binary addition.  Used for float32/float64 where measured faster
(``benchmarks/execute.py``); the numpy path runs the straight-line programs with in-place ufuncs.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
    from numba import njit, prange
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None


if numba is not None:
    @njit(parallel=True, cache=True, fastmath=False)
    def _combine(src, bp, bq, kq, ptr, ind, val, out):  # pragma: no cover - compiled
        nt = ptr.shape[0] - 1
        for r in prange(bp):
            for t in range(nt):
                o = out[t, r]
                j0 = ptr[t]
                b = ind[j0]
                v = val[j0]
                row = src[(b // kq) * bp + r, (b % kq) * bq:(b % kq) * bq + bq]
                if v == 1:
                    for c in range(bq):
                        o[c] = row[c]
                elif v == -1:
                    for c in range(bq):
                        o[c] = -row[c]
                else:
                    for c in range(bq):
                        o[c] = v * row[c]
                for j in range(j0 + 1, ptr[t + 1]):
                    b = ind[j]
                    v = val[j]
                    row = src[(b // kq) * bp + r, (b % kq) * bq:(b % kq) * bq + bq]
                    if v == 1:
                        for c in range(bq):
                            o[c] += row[c]
                    elif v == -1:
                        for c in range(bq):
                            o[c] -= row[c]
                    else:
                        for c in range(bq):
                            o[c] += v * row[c]

    @njit(parallel=True, cache=True, fastmath=False)
    def _combine_into(P, bp, bs, nq, ptr, ind, val, C):  # pragma: no cover - compiled
        nt = ptr.shape[0] - 1
        for r in prange(bp):
            for t in range(nt):
                i0 = (t // nq) * bp + r
                c0 = (t % nq) * bs
                o = C[i0, c0:c0 + bs]
                if ptr[t + 1] == ptr[t]:
                    for c in range(bs):
                        o[c] = 0
                    continue
                j0 = ptr[t]
                v = val[j0]
                row = P[ind[j0], r]
                if v == 1:
                    for c in range(bs):
                        o[c] = row[c]
                elif v == -1:
                    for c in range(bs):
                        o[c] = -row[c]
                else:
                    for c in range(bs):
                        o[c] = v * row[c]
                for j in range(j0 + 1, ptr[t + 1]):
                    v = val[j]
                    row = P[ind[j], r]
                    if v == 1:
                        for c in range(bs):
                            o[c] += row[c]
                    elif v == -1:
                        for c in range(bs):
                            o[c] -= row[c]
                    else:
                        for c in range(bs):
                            o[c] += v * row[c]


def available() -> bool:
    return numba is not None


def csr(W, rows, dtype):
    """CSR arrays (ptr, ind, val) of the given rows of an exact matrix, values in ``dtype``."""
    from fractions import Fraction
    ptr, ind, val = [0], [], []
    for t in rows:
        for j, c in enumerate(W[t].tolist()):
            if c != 0:
                ind.append(j)
                val.append(float(Fraction(c)))
        ptr.append(len(ind))
    return (np.asarray(ptr, dtype=np.int64), np.asarray(ind, dtype=np.int64), np.asarray(val, dtype=dtype))


def combine(src, bp, bq, kq, ptr, ind, val, out):
    _combine(src, bp, bq, kq, ptr, ind, val, out)


def combine_into(P, bp, bs, nq, ptr, ind, val, C):
    _combine_into(P, bp, bs, nq, ptr, ind, val, C)
