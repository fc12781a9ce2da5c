"""Schemes over GF(2) with bit-packed factors, and the compiled flip-graph kernels.

A scheme of rank r for <m,k,n> is a (3, cap) uint64 array ``F``: ``F[0, t]`` is the
bit mask of product t's linear form in A (bit x = entry x of vec(A), row-major),
``F[1, t]`` the one in B and ``F[2, t]`` the column t of W_c (bit z = entry z of vec(C),
the project's convention, not C^T).  Only the first r columns are used; the rest is room
for plus transitions.  Correct mod 2 iff sum_t a_t (x) b_t (x) c_t = T over GF(2).

Moves (Kauers & Moosbauer 2022; Arai, Ichikawa & Hukushima 2024), all exact over GF(2):

- *flip*: two products sharing a factor, (v, b_i, c_i) + (v, b_j, c_j)
  = (v, b_i + b_j, c_i) + (v, b_j, c_j + c_i), in any of the three slots;
- *reduction*: two products sharing two factors merge into one (their third factors
  add); a product with a zero factor disappears;
- *plus transition*: (a_i,b_i,c_i) + (a_j,b_j,c_j)
  = (a_i + a_j, b_i, c_i) + (a_j, b_j, c_i + c_j) + (a_j, b_i + b_j, c_i), rank + 1,
  to leave a plateau.

The kernels are compiled with numba (``cache=True``: the first call in a fresh
environment compiles, later processes load the cache).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..core.shape import Shape
from ..core.tensor import matmul_tensor
from ..errors import ShapeError

MAX_BITS = 64


def check_shape(shape: Shape) -> None:
    """Each factor must fit one 64-bit word: m*k, k*n and m*n at most 64."""
    worst = max(shape.a_size, shape.b_size, shape.c_size)
    if worst > MAX_BITS:
        raise ShapeError(f"the flip engine packs each factor in 64 bits, so m*k, k*n and m*n must be at most 64; "
                         f"{shape.angle()} needs {worst}")


# ---------------------------------------------------------------- conversions (numpy)
def pack_rows(M01: np.ndarray) -> np.ndarray:
    """Rows of a 0/1 matrix (r x w, w <= 64) -> one uint64 per row (bit x = column x)."""
    M = np.asarray(M01, dtype=np.uint64) & np.uint64(1)
    w = M.shape[1]
    weights = np.left_shift(np.uint64(1), np.arange(w, dtype=np.uint64))
    return (M * weights).sum(axis=1, dtype=np.uint64) if w else np.zeros(M.shape[0], np.uint64)


def unpack_rows(words: np.ndarray, width: int) -> np.ndarray:
    """uint64 per row -> 0/1 int64 matrix (rows x width)."""
    w = np.asarray(words, dtype=np.uint64)
    bits = (w[:, None] >> np.arange(width, dtype=np.uint64)[None, :]) & np.uint64(1)
    return bits.astype(np.int64)


def mod2(W: np.ndarray) -> np.ndarray:
    """An exact coefficient array reduced mod 2 (0/1 int64); Fractions need odd denominators."""
    from fractions import Fraction
    if W.dtype != object:
        return (W.astype(np.int64) % 2).astype(np.int64)
    out = np.zeros(W.shape, dtype=np.int64)
    for idx, x in np.ndenumerate(W):
        f = Fraction(x)
        if f.denominator % 2 == 0:
            raise ValueError("a coefficient has an even denominator, so the scheme has no reduction mod 2")
        out[idx] = f.numerator % 2
    return out


def scheme_to_bits(scheme, cap: int | None = None) -> tuple[np.ndarray, int]:
    """A Scheme -> (F, r) over GF(2) (coefficients reduced mod 2)."""
    s = scheme.shape
    check_shape(s)
    r = scheme.rank
    cap = max(cap or 0, r)
    F = np.zeros((3, cap), dtype=np.uint64)
    F[0, :r] = pack_rows(mod2(scheme.W_a))
    F[1, :r] = pack_rows(mod2(scheme.W_b))
    F[2, :r] = pack_rows(mod2(scheme.W_c).T)
    return F, r


def bits_to_factors(shape: Shape, F: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F, r) -> 0/1 factor matrices a (r x mk), b (r x kn), c (r x mn)."""
    return (unpack_rows(F[0, :r], shape.a_size), unpack_rows(F[1, :r], shape.b_size),
            unpack_rows(F[2, :r], shape.c_size))


def bits_to_scheme(shape: Shape, F: np.ndarray, r: int, provenance=None):
    """(F, r) -> a Scheme with 0/1 coefficients (valid at least mod 2 if F is)."""
    from ..core.scheme import Scheme
    a, b, c = bits_to_factors(shape, F, r)
    return Scheme(shape, a, b, c.T.copy(), provenance=provenance)


def standard_bits(shape: Shape, cap: int | None = None) -> tuple[np.ndarray, int]:
    """The schoolbook algorithm as (F, r)."""
    check_shape(shape)
    m, k, n = shape
    r = m * k * n
    F = np.zeros((3, max(cap or 0, r)), dtype=np.uint64)
    t = 0
    for i in range(m):
        for l in range(n):
            for j in range(k):
                F[0, t] = np.uint64(1) << np.uint64(i * k + j)
                F[1, t] = np.uint64(1) << np.uint64(j * n + l)
                F[2, t] = np.uint64(1) << np.uint64(i * n + l)
                t += 1
    return F, r


def is_valid_mod2(shape: Shape, F: np.ndarray, r: int) -> bool:
    """Exact check of the Brent equations over GF(2)."""
    a, b, c = bits_to_factors(shape, F, r)
    kr = (a[:, :, None] * b[:, None, :]).reshape(r, -1)
    P = (c.T @ kr) % 2
    T = matmul_tensor(shape).transpose(2, 0, 1).reshape(shape.c_size, -1)
    return bool(np.array_equal(P, T % 2))


# ---------------------------------------------------------------- compiled kernels
@njit(cache=True, inline="always")
def _next(state):
    # xorshift64*: fast, reproducible, one uint64 of state
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@njit(cache=True, inline="always")
def _below(state, n):
    """A random integer in [0, n)."""
    return np.int64((_next(state) >> np.uint64(32)) % np.uint64(n))


@njit(cache=True)
def _remove(F, r, p, pend_idx, pend_slot, npend):
    """Delete product p (the last one moves into its place); fix the pending list."""
    last = r - 1
    for q in range(npend):
        if pend_idx[q] == p:
            pend_idx[q] = -1
    if last != p:
        F[0, p] = F[0, last]
        F[1, p] = F[1, last]
        F[2, p] = F[2, last]
        for q in range(npend):
            if pend_idx[q] == last:
                pend_idx[q] = p
    return last


@njit(cache=True)
def _reduce(F, r, pend_idx, pend_slot, npend, counters):
    """Apply every reduction reachable from the pending (product, changed slot) pairs."""
    while npend > 0:
        npend -= 1
        p = pend_idx[npend]
        u = pend_slot[npend]
        if p < 0 or p >= r:
            continue
        if F[u, p] == np.uint64(0):
            r = _remove(F, r, p, pend_idx, pend_slot, npend)
            counters[1] += 1
            continue
        v = F[u, p]
        u1 = (u + 1) % 3
        u2 = (u + 2) % 3
        for k in range(r):
            if k == p or F[u, k] != v:
                continue
            z = -1
            if F[u1, k] == F[u1, p]:
                z = u2
            elif F[u2, k] == F[u2, p]:
                z = u1
            if z < 0:
                continue
            # p and k share two factors: merge p into k
            F[z, k] ^= F[z, p]
            last = r - 1
            r = _remove(F, r, p, pend_idx, pend_slot, npend)
            if k == last:
                k = p
            counters[1] += 1
            if F[z, k] == np.uint64(0):
                r = _remove(F, r, k, pend_idx, pend_slot, npend)
                counters[1] += 1
            elif npend < pend_idx.shape[0]:
                pend_idx[npend] = k
                pend_slot[npend] = z
                npend += 1
            break
    return r


@njit(cache=True)
def _plus(F, r, state):
    """One plus transition (rank + 1); returns the new rank (unchanged if none was found)."""
    if r < 2 or r >= F.shape[1]:
        return r
    for _ in range(64):
        i = _below(state, r)
        j = _below(state, r - 1)
        if j >= i:
            j += 1
        p0 = _below(state, 3)
        if _below(state, 2) == 0:
            p1 = (p0 + 1) % 3
            p2 = (p0 + 2) % 3
        else:
            p1 = (p0 + 2) % 3
            p2 = (p0 + 1) % 3
        if F[p0, i] == F[p0, j] or F[p1, i] == F[p1, j] or F[p2, i] == F[p2, j]:
            continue
        a_j = F[p0, j]
        c_i = F[p2, i]
        F[p0, r] = a_j
        F[p1, r] = F[p1, i] ^ F[p1, j]
        F[p2, r] = c_i
        F[p0, i] ^= a_j
        F[p2, j] ^= c_i
        return r + 1
    return r


@njit(cache=True)
def walk(F, r, target, max_iters, plateau, max_rank, state, counters):
    """A random walk of flips with reductions, until rank <= target or max_iters attempts.

    ``plateau``: after this many flips without a reduction, one plus transition (only
    while r < max_rank).  ``counters`` (int64[4]) accumulates flips, products removed by reductions, plus
    transitions and the flips since the last reduction.  Returns the new rank.
    """
    pend_idx = np.empty(32, dtype=np.int64)
    pend_slot = np.empty(32, dtype=np.int64)
    since = counters[3]
    fails = 0
    for _ in range(max_iters):
        if r <= target:
            break
        if since >= plateau:
            since = 0
            if r < max_rank:
                r2 = _plus(F, r, state)
                if r2 > r:
                    counters[2] += 1
                    r = r2
                    pend_idx[0] = r - 1
                    pend_slot[0] = 0
                    # the three touched products could (rarely) reduce at once
                    r = _reduce(F, r, pend_idx, pend_slot, 1, counters)
        x = _next(state)
        i = np.int64((x >> np.uint64(32)) % np.uint64(r))
        s = np.int64((x >> np.uint64(8)) % np.uint64(3))
        off = np.int64((x >> np.uint64(16)) & np.uint64(0xFFFF)) % r
        v = F[s, i]
        j = -1
        for q in range(r):
            k = q + off
            if k >= r:
                k -= r
            if k != i and F[s, k] == v:
                j = k
                break
        if j < 0:
            fails += 1
            if fails > 4 * r:  # no flip in sight: count it as a plateau step
                since += 1
                fails = 0
            continue
        fails = 0
        since += 1
        if x & np.uint64(1):
            t1 = (s + 1) % 3
            t2 = (s + 2) % 3
        else:
            t1 = (s + 2) % 3
            t2 = (s + 1) % 3
        F[t1, i] ^= F[t1, j]
        F[t2, j] ^= F[t2, i]
        counters[0] += 1
        before = counters[1]
        pend_idx[0] = i
        pend_slot[0] = t1
        pend_idx[1] = j
        pend_slot[1] = t2
        r = _reduce(F, r, pend_idx, pend_slot, 2, counters)
        if counters[1] != before:
            since = 0
    counters[3] = since
    return r


def warm_up() -> float:
    """Compile (or load from cache) the kernels; returns the seconds it took."""
    import time
    t0 = time.perf_counter()
    F, r = standard_bits(Shape(2, 2, 2), cap=12)
    state = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
    counters = np.zeros(4, dtype=np.int64)
    walk(F, r, 0, 10, 5, r + 1, state, counters)
    return time.perf_counter() - t0


@njit(cache=True)
def reduce_all(F, r):
    """Apply every available reduction (shared pairs of factors, zero factors); returns the new rank."""
    counters = np.zeros(4, dtype=np.int64)
    pend_idx = np.empty(3 * F.shape[1] + 32, dtype=np.int64)
    pend_slot = np.empty(3 * F.shape[1] + 32, dtype=np.int64)
    npend = 0
    for p in range(r):
        for u in range(3):
            pend_idx[npend] = p
            pend_slot[npend] = u
            npend += 1
    return _reduce(F, r, pend_idx, pend_slot, npend, counters)


# Strassen (1969) mod 2, local 2x2 entries (row, col): A-part, B-part, C entries that use the product
_STRASSEN_MOD2 = (
    (((0, 0), (1, 1)), ((0, 0), (1, 1)), ((0, 0), (1, 1))),
    (((1, 0), (1, 1)), ((0, 0),), ((1, 0), (1, 1))),
    (((0, 0),), ((0, 1), (1, 1)), ((0, 1), (1, 1))),
    (((1, 1),), ((1, 0), (0, 0)), ((0, 0), (1, 0))),
    (((0, 0), (0, 1)), ((1, 1),), ((0, 0), (0, 1))),
    (((1, 0), (0, 0)), ((0, 0), (0, 1)), ((1, 1),)),
    (((0, 1), (1, 1)), ((1, 0), (1, 1)), ((0, 0),)),
)


def strassen_block_bits(shape: Shape, cap: int | None = None) -> tuple[np.ndarray, int]:
    """A start below m*k*n: split every dimension into blocks of 2 (and one of 1 if odd);
    2x2x2 block products use Strassen, the others the schoolbook products.  Valid mod 2."""
    check_shape(shape)
    m, k, n = shape

    def parts(d):
        return [list(range(s, min(s + 2, d))) for s in range(0, d, 2)]

    cols = []
    for I in parts(m):
        for J in parts(k):
            for L in parts(n):
                if len(I) == len(J) == len(L) == 2:
                    for pa, pb, pc in _STRASSEN_MOD2:
                        a = sum(1 << (I[i] * k + J[j]) for i, j in pa)
                        b = sum(1 << (J[j] * n + L[l]) for j, l in pb)
                        c = sum(1 << (I[i] * n + L[l]) for i, l in pc)
                        cols.append((a, b, c))
                else:
                    for i in I:
                        for l in L:
                            for j in J:
                                cols.append((1 << (i * k + j), 1 << (j * n + l), 1 << (i * n + l)))
    r = len(cols)
    F = np.zeros((3, max(cap or 0, r)), dtype=np.uint64)
    for t, (a, b, c) in enumerate(cols):
        F[0, t], F[1, t], F[2, t] = np.uint64(a), np.uint64(b), np.uint64(c)
    return F, r
