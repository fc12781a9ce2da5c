"""Flip-graph walks over GF(3), then 3-adic Hensel lifting and exact proof.

GF(2) walks can only find schemes whose coefficients are integers mod 2; a scheme that needs 1/2
has no reduction mod 2 but has one mod 3.  This module walks the flip graph over GF(3)
(Kauers & Moosbauer's moves with scalars): a factor is a vector in GF(3)^N (N = m*k, k*n or m*n
<= 64) stored as two bit planes (``P``: entries equal to 1, ``Q``: entries equal to 2 = -1), so
negation swaps the planes and addition is a few word operations.

Moves, all exact over GF(3), with two products i, j whose factors in slot s agree up to a sign
(j's slot s = lambda * i's, lambda = +-1; the sign is moved into j's next slot first, which leaves
the product unchanged):

- *flip*: (u, v, w) + (u, v', w') = (u, v + mu v', w) + (u, v', w' - mu w), mu in {1, 2};
- *reduction*: (u, v, w) + (l1 u, l2 v, w') = (u, v, w + l1 l2 w'); a zero factor removes a product;
- *plus transition*: (a, b, c) + (a', b', c') = (a + a', b, c) + (a', b', c' - c) + (a', b' - b, c).

A scheme at the goal rank is lifted 3-adically (:func:`.lift.hensel_lift` with p = 3) and its
coefficients reconstructed as rationals with denominators prime to 3 (1/2 among them); whatever
comes out is proven with ``verify``.  With ``ring="Z3"`` the modular scheme itself (coefficients
-1, 0, 1) is reported, labelled Z3 by ``verify`` (valid modulo 3 only) unless it holds over Z.
A lifted scheme is also rescaled product by product (:func:`normalise_products`: two factors primitive
integer vectors, the third absorbing the scalars, which leaves every term unchanged); the nicer of the two
(ZT, Z, Q, then smaller denominators and entries) is reported, with ``"normalised"`` in its provenance.

``checkpoint=DIR`` / ``resume=DIR`` (``--checkpoint`` / ``--resume``): the layout of :mod:`.flip`'s
checkpoints (``DIR/checkpoint.json`` with ``options.field == 3``, ``DIR/schemes/*.json`` for every proven
scheme when found) with one state per walker ``DIR/walkers/walker-00w.json`` (``"format":
"algodiscover.gf3-walker/1"``: the current scheme ``P``/``Q`` as hex, kernel and numpy generator states,
counters, pools, rank levels, digests of the goal schemes already tried, walking seconds), written
atomically every ``checkpoint_every`` seconds (5) and when the search ends.  A resumed search first yields
the schemes already proven, then walks on from the saved state; its seconds and rank levels continue.

``workers``: independent walkers, one process each (:mod:`._parallel`; default all cores from m*k*n = 24
on, as the other engines): walker w walks with ``walker_seed(seed, w)`` (walker 0 with the seed itself, so
one walker is the walk it always was) from the same start; provenance records ``walker`` and
``worker_seed``, and :func:`replay_gf3` re-runs that walker.  A missed target reports the best scheme above
it and the best modular one over all walkers.

Measured (benchmarks/results/gf3-first-reduction.md, flip-targets.md "GF(3) <2,4,5>:32"): reductions
are far rarer in the GF(3) flip graph than in the GF(2) one, so from the standard algorithm the plain walk
gets far on small shapes only (2x2x2:7 within a second; 3x3x3: 24 after 6 s in one probe) and stays at the start
rank of <2,4,5> for many minutes.

*Weight rules* (``max_weight`` / ``--max-weight``, ``weight_bias`` / ``--weight-bias``; off by default, so the
walks recorded before them replay): a flip adds +-1 times one factor to another, and over GF(3) repeated flips
fill the factors with nonzero entries (over GF(2) a second flip of the same pair undoes the first), so two
factors rarely coincide and reductions become rare.  ``max_weight`` W refuses a flip that would give one of the
two factors it changes more than W nonzero entries; ``weight_bias`` B accepts a flip that adds d > 0 nonzero
entries with probability exp(-B d) only.  Sparse factors coincide far more often: on <2,3,4> the plain walk
found no reduction within 3,000,000 flips for any of eight seeds, with W = 3 each reduced within 400,000 flips
(benchmarks/results/gf3-first-reduction.md; on the small <2,2,3> the cap is slower), and on <2,4,5> the walk
reached 34-35 in 60 s where it stayed at 40 without (benchmarks/results/gf3-weight.md).  Reductions themselves
are never refused, so a merged factor may exceed W.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from numba import njit

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.tensor import matmul_tensor
from ..core.verify import verify
from ..errors import RankError
from . import Budget, Progress

ENGINE = "flip"
CHUNK = 1 << 16
DEFAULTS = {"plateau": 2_000, "restart_after": 4_000_000, "pool_size": 16, "climb": 2}
#: the weight rules of :func:`walk3` (``--max-weight``, ``--weight-bias``); off by default
WEIGHT_DEFAULTS = {"max_weight": 0, "weight_bias": 0.0}
#: ``kernel`` (``--kernel`` with ``--field 3``): 1 = the scan walk :func:`walk3`, 2 = the indexed walk of
#: :mod:`.gf3kernel` (factors of at most 32 entries; the default where it applies, see :func:`default_kernel`).
#: Checkpoints written before kernel 2 existed have no such option: they resume with kernel 1.
KERNELS = (1, 2)
OLD_KERNEL = 1
CHECKPOINT_EVERY = 5.0
WALKER_FORMAT = "algodiscover.gf3-walker/1"


# ---------------------------------------------------------------- conversions
def to_planes(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of an integer matrix (r x w, w <= 64) reduced mod 3 -> (P, Q) uint64 per row."""
    from .gf2 import pack_rows
    R = np.asarray(M, dtype=np.int64) % 3
    return pack_rows((R == 1).astype(np.int64)), pack_rows((R == 2).astype(np.int64))


def from_planes(P: np.ndarray, Q: np.ndarray, width: int) -> np.ndarray:
    """(P, Q) -> balanced integer matrix (entries -1, 0, 1)."""
    from .gf2 import unpack_rows
    return unpack_rows(P, width) - unpack_rows(Q, width)


def standard_planes(shape: Shape, cap: int):
    from .gf2 import standard_bits
    F, r = standard_bits(shape, cap)
    return F.copy(), np.zeros_like(F), r


def strassen_block_planes(shape: Shape, cap: int):
    """Strassen (with its signs) on 2x2x2 blocks, the schoolbook products elsewhere, as GF(3) planes."""
    from ..examples import strassen
    st = strassen()
    sa, sb, sc = (np.asarray(st.W_a, dtype=np.int64), np.asarray(st.W_b, dtype=np.int64),
                  np.asarray(st.W_c, dtype=np.int64).T)
    m, k, n = shape

    def parts(d):
        return [list(range(x, min(x + 2, d))) for x in range(0, d, 2)]
    rows_a, rows_b, rows_c = [], [], []
    for I in parts(m):
        for J in parts(k):
            for L in parts(n):
                if len(I) == len(J) == len(L) == 2:
                    for t in range(7):
                        a = np.zeros(m * k, dtype=np.int64)
                        b = np.zeros(k * n, dtype=np.int64)
                        c = np.zeros(m * n, dtype=np.int64)
                        for i in range(2):
                            for j in range(2):
                                a[I[i] * k + J[j]] = sa[t, i * 2 + j]
                                b[J[i] * n + L[j]] = sb[t, i * 2 + j]
                                c[I[i] * n + L[j]] = sc[t, i * 2 + j]
                        rows_a.append(a)
                        rows_b.append(b)
                        rows_c.append(c)
                else:
                    for i in I:
                        for l in L:
                            for j in J:
                                a = np.zeros(m * k, dtype=np.int64)
                                b = np.zeros(k * n, dtype=np.int64)
                                c = np.zeros(m * n, dtype=np.int64)
                                a[i * k + j] = b[j * n + l] = c[i * n + l] = 1
                                rows_a.append(a)
                                rows_b.append(b)
                                rows_c.append(c)
    r = len(rows_a)
    P = np.zeros((3, max(cap, r)), dtype=np.uint64)
    Q = np.zeros_like(P)
    for slot, rows in enumerate((rows_a, rows_b, rows_c)):
        P[slot, :r], Q[slot, :r] = to_planes(np.array(rows))
    return P, Q, r


def factors(shape: Shape, P, Q, r):
    """The balanced factor matrices a (r x mk), b (r x kn), c (r x mn)."""
    return (from_planes(P[0, :r], Q[0, :r], shape.a_size), from_planes(P[1, :r], Q[1, :r], shape.b_size),
            from_planes(P[2, :r], Q[2, :r], shape.c_size))


def is_valid_mod3(shape: Shape, P, Q, r) -> bool:
    a, b, c = factors(shape, P, Q, r)
    kr = (a[:, :, None] * b[:, None, :]).reshape(r, -1)
    R = (c.T @ kr) % 3
    T = matmul_tensor(shape).transpose(2, 0, 1).reshape(shape.c_size, -1)
    return bool(np.array_equal(R, T % 3))


# ---------------------------------------------------------------- compiled kernels
@njit(cache=True, inline="always")
def _next(state):
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@njit(cache=True, inline="always")
def _add(xp, xn, yp, yn):
    """x + y over GF(3), bit-sliced (planes of 1s and of 2s)."""
    zx = ~(xp | xn)
    zy = ~(yp | yn)
    return (xp & zy) | (zx & yp) | (xn & yn), (xn & zy) | (zx & yn) | (xp & yp)


@njit(cache=True, inline="always")
def _rel(P, Q, s, i, j):
    """1 if slot s of j equals that of i, -1 if it is its negative (and nonzero), 0 otherwise."""
    if P[s, i] == P[s, j] and Q[s, i] == Q[s, j]:
        return 1
    if P[s, i] == Q[s, j] and Q[s, i] == P[s, j]:
        return -1
    return 0


@njit(cache=True, inline="always")
def _neg(P, Q, s, i):
    t = P[s, i]
    P[s, i] = Q[s, i]
    Q[s, i] = t


@njit(cache=True)
def _remove(P, Q, r, p, pend_idx, npend):
    last = r - 1
    for q in range(npend):
        if pend_idx[q] == p:
            pend_idx[q] = -1
    if last != p:
        for s in range(3):
            P[s, p] = P[s, last]
            Q[s, p] = Q[s, last]
        for q in range(npend):
            if pend_idx[q] == last:
                pend_idx[q] = p
    return last


@njit(cache=True)
def _reduce(P, Q, r, pend_idx, pend_slot, npend, counters):
    while npend > 0:
        npend -= 1
        p = pend_idx[npend]
        u = pend_slot[npend]
        if p < 0 or p >= r:
            continue
        if P[u, p] == np.uint64(0) and Q[u, p] == np.uint64(0):
            r = _remove(P, Q, r, p, pend_idx, npend)
            counters[1] += 1
            continue
        u1 = (u + 1) % 3
        u2 = (u + 2) % 3
        for k in range(r):
            if k == p:
                continue
            l0 = _rel(P, Q, u, p, k)
            if l0 == 0:
                continue
            z = -1
            lam = 0
            l1 = _rel(P, Q, u1, p, k)
            if l1 != 0:
                z = u2
                lam = l0 * l1
            else:
                l2 = _rel(P, Q, u2, p, k)
                if l2 != 0:
                    z = u1
                    lam = l0 * l2
            if z < 0:
                continue
            # k = (l0 p_u, l1 p_u1, k_z): p + k = p_u (x) p_u1 (x) (p_z + l0 l1 k_z); keep it in k
            if lam == 1:
                np_, nq = _add(P[z, p], Q[z, p], P[z, k], Q[z, k])
            else:
                np_, nq = _add(P[z, p], Q[z, p], Q[z, k], P[z, k])
            for s in range(3):
                if s != z:
                    P[s, k] = P[s, p]
                    Q[s, k] = Q[s, p]
            P[z, k] = np_
            Q[z, k] = nq
            last = r - 1
            r = _remove(P, Q, r, p, pend_idx, npend)
            if k == last:
                k = p
            counters[1] += 1
            if P[z, k] == np.uint64(0) and Q[z, k] == np.uint64(0):
                r = _remove(P, Q, r, k, pend_idx, npend)
                counters[1] += 1
            elif npend < pend_idx.shape[0]:
                pend_idx[npend] = k
                pend_slot[npend] = z
                npend += 1
            break
    return r


@njit(cache=True)
def _plus(P, Q, r, state):
    if r < 2 or r >= P.shape[1]:
        return r
    for _ in range(64):
        i = np.int64((_next(state) >> np.uint64(32)) % np.uint64(r))
        j = np.int64((_next(state) >> np.uint64(32)) % np.uint64(r - 1))
        if j >= i:
            j += 1
        x = _next(state)
        p0 = np.int64((x >> np.uint64(8)) % np.uint64(3))
        if x & np.uint64(1):
            p1 = (p0 + 1) % 3
            p2 = (p0 + 2) % 3
        else:
            p1 = (p0 + 2) % 3
            p2 = (p0 + 1) % 3
        if _rel(P, Q, p0, i, j) != 0 or _rel(P, Q, p1, i, j) != 0 or _rel(P, Q, p2, i, j) != 0:
            continue
        # new = (a_j, b_j - b_i, c_i); i = (a_i + a_j, b_i, c_i); j = (a_j, b_j, c_j - c_i)
        P[p0, r] = P[p0, j]
        Q[p0, r] = Q[p0, j]
        P[p1, r], Q[p1, r] = _add(P[p1, j], Q[p1, j], Q[p1, i], P[p1, i])
        P[p2, r] = P[p2, i]
        Q[p2, r] = Q[p2, i]
        P[p0, i], Q[p0, i] = _add(P[p0, i], Q[p0, i], P[p0, j], Q[p0, j])
        P[p2, j], Q[p2, j] = _add(P[p2, j], Q[p2, j], Q[p2, i], P[p2, i])
        return r + 1
    return r


@njit(cache=True, inline="always")
def _weight(p, q):
    """Nonzero entries of a GF(3) factor (popcount of p | q)."""
    x = p | q
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True)
def walk3(P, Q, r, target, max_iters, plateau, max_rank, state, counters, max_weight=0, weight_bias=0.0):
    """GF(3) flips with reductions until r <= target or max_iters attempts; counters as in gf2.walk
    (counters[4], when present, counts the flips refused by the weight rules).

    ``max_weight`` > 0 refuses a flip that would give one of the two changed factors more than that many
    nonzero entries; ``weight_bias`` > 0 accepts a flip that adds d > 0 nonzero entries to the two changed
    factors with probability exp(-weight_bias * d) only.  A refused flip changes nothing and counts as an
    attempt.  Both off (0, the default): the moves of the walk before these rules existed."""
    pend_idx = np.empty(32, dtype=np.int64)
    pend_slot = np.empty(32, dtype=np.int64)
    since = counters[3]
    fails = 0
    weigh = max_weight > 0 or weight_bias > 0.0
    for _ in range(max_iters):
        if r <= target:
            break
        if since >= plateau:
            since = 0
            if r < max_rank:
                r2 = _plus(P, Q, r, state)
                if r2 > r:
                    counters[2] += 1
                    r = r2
                    pend_idx[0] = r - 1
                    pend_slot[0] = 0
                    r = _reduce(P, Q, r, pend_idx, pend_slot, 1, counters)
        x = _next(state)
        i = np.int64((x >> np.uint64(32)) % np.uint64(r))
        s = np.int64((x >> np.uint64(8)) % np.uint64(3))
        off = np.int64((x >> np.uint64(16)) & np.uint64(0xFFFF)) % r
        j = -1
        lam = 0
        for q in range(r):
            k = q + off
            if k >= r:
                k -= r
            if k != i:
                lam = _rel(P, Q, s, i, k)
                if lam != 0:
                    j = k
                    break
        if j < 0:
            fails += 1
            if fails > 4 * r:
                since += 1
                fails = 0
            continue
        fails = 0
        if x & np.uint64(1):
            t1 = (s + 1) % 3
            t2 = (s + 2) % 3
        else:
            t1 = (s + 2) % 3
            t2 = (s + 1) % 3
        if lam == -1:  # j = (-u, v', w'): write it as (u, -v', w') (the same product)
            _neg(P, Q, s, j)
            _neg(P, Q, t1, j)
        if x & np.uint64(2):  # mu = 1: i_t1 += j_t1, j_t2 -= i_t2
            p1, q1 = _add(P[t1, i], Q[t1, i], P[t1, j], Q[t1, j])
            p2, q2 = _add(P[t2, j], Q[t2, j], Q[t2, i], P[t2, i])
        else:  # mu = 2 = -1: i_t1 -= j_t1, j_t2 += i_t2
            p1, q1 = _add(P[t1, i], Q[t1, i], Q[t1, j], P[t1, j])
            p2, q2 = _add(P[t2, j], Q[t2, j], P[t2, i], Q[t2, i])
        if weigh:
            w1 = _weight(p1, q1)
            w2 = _weight(p2, q2)
            refuse = max_weight > 0 and (w1 > max_weight or w2 > max_weight)
            if not refuse and weight_bias > 0.0:
                d = w1 + w2 - _weight(P[t1, i], Q[t1, i]) - _weight(P[t2, j], Q[t2, j])
                if d > 0:
                    u = np.float64(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                    refuse = u >= np.exp(-weight_bias * d)
            if refuse:
                if counters.shape[0] > 4:
                    counters[4] += 1
                continue
        since += 1
        P[t1, i] = p1
        Q[t1, i] = q1
        P[t2, j] = p2
        Q[t2, j] = q2
        counters[0] += 1
        before = counters[1]
        pend_idx[0] = i
        pend_slot[0] = t1
        pend_idx[1] = j
        pend_slot[1] = t2
        r = _reduce(P, Q, r, pend_idx, pend_slot, 2, counters)
        if counters[1] != before:
            since = 0
    counters[3] = since
    return r


def warm_up() -> float:
    t0 = time.perf_counter()
    P, Q, r = standard_planes(Shape(2, 2, 2), 12)
    walk3(P, Q, r, 0, 10, 5, r + 1, np.array([7], dtype=np.uint64), np.zeros(5, dtype=np.int64), 3, 0.5)
    return time.perf_counter() - t0


def _key(P, Q, r) -> bytes:
    cols = np.concatenate([P[:, :r], Q[:, :r]], axis=0).T
    return cols[np.lexsort(cols.T[::-1])].tobytes()


def _canonical_signs(P, Q, r):
    """Per product, the sign making the first nonzero entries of slots 0 and 1 equal to 1 (for the key)."""
    P, Q = P[:, :r].copy(), Q[:, :r].copy()
    for t in range(r):
        for s in (0, 1):
            p, q = int(P[s, t]), int(Q[s, t])
            if q and (not p or (q & -q) < (p & -p)):
                P[s, t], Q[s, t] = q, p
                P[2, t], Q[2, t] = Q[2, t], P[2, t]
    return P, Q


def mod3_rows(W) -> np.ndarray:
    """An exact matrix (integers or Fractions whose denominators 3 does not divide) reduced mod 3, as
    integers 0..2; raises SchemeError for a denominator divisible by 3."""
    from fractions import Fraction
    from ..errors import SchemeError
    W = np.asarray(W)
    out = np.zeros(W.shape, dtype=np.int64)
    for idx, x in np.ndenumerate(W):
        if isinstance(x, Fraction):
            if x.denominator % 3 == 0:
                raise SchemeError(f"the start scheme has the coefficient {x}, whose denominator 3 divides: "
                                  f"it has no reduction modulo 3")
            out[idx] = (x.numerator * pow(x.denominator, -1, 3)) % 3
        else:
            out[idx] = int(x) % 3
    return out


def _start_planes(start, s: Shape, ternary: bool = False, move: str | None = None):
    """``--start FILE|catalog[:ID]`` (or a Scheme) for a GF(3) walk: the start is resolved as for the
    GF(2) walk (same file, catalogue and neighbouring-shape rules, search.flip._resolve_start), must be
    valid over Z or Q (a mod-2-only scheme says nothing modulo 3), and is reduced mod 3; products that
    vanish mod 3 are dropped.  Returns ((P, Q, r), start_record)."""
    from ..errors import SchemeError
    from .flip import _resolve_start
    scheme, srec = _resolve_start(start, s, move)
    v = verify(scheme, symbolic=False)
    if not v.ok:
        raise SchemeError(f"the start scheme is valid modulo 2 only ({v.ring}): a GF(3) walk needs a scheme "
                          f"valid over Z or Q")
    if ternary and v.ring != "ZT":
        raise SchemeError(f"--ternary needs a start with coefficients -1, 0, 1 (ring ZT); this one is {v.ring}")
    a = mod3_rows(scheme.W_a)
    b = mod3_rows(scheme.W_b)
    c = mod3_rows(np.asarray(scheme.W_c).T)
    live = [t for t in range(scheme.rank) if a[t].any() and b[t].any() and c[t].any()]
    r = len(live)
    P = np.zeros((3, r), dtype=np.uint64)
    Q = np.zeros_like(P)
    for slot, M in enumerate((a, b, c)):
        P[slot], Q[slot] = to_planes(M[live])
    if not is_valid_mod3(s, P, Q, r):  # pragma: no cover - a valid scheme stays valid mod 3
        raise SchemeError("the start scheme reduced modulo 3 is not a valid scheme modulo 3")
    if r != scheme.rank:
        srec = {**srec, "dropped_mod3": scheme.rank - r}
    return (P, Q, r), srec


# ---------------------------------------------------------------- the search
def default_kernel(shape: Shape) -> int:
    """2 (indexed, :mod:`.gf3kernel`) when every factor fits its packed form (m*k, k*n, m*n <= 32), else 1.
    Measured in benchmarks/results/gf3-kernel.md against the scan walk."""
    from .gf3kernel import MAX_WIDTH
    return 2 if max(shape.m * shape.k, shape.k * shape.n, shape.m * shape.n) <= MAX_WIDTH else 1


def search_gf3(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None, ring: str | None = None,
               on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
               init: str | None = None, device: str = "cpu", workers: int | None = None,
               **options) -> Iterator[Scheme]:
    """Yield verified schemes of rank <= ``rank`` found by a GF(3) flip-graph walk from the standard algorithm
    (``init``), or from ``start`` (a scheme file, ``catalog[:ID]`` or a Scheme valid over Z or Q, of this
    shape or a neighbouring one, reduced mod 3: :func:`_start_planes`).

    ``ring``: "Z" (default; 3-adic lifting, rational reconstruction, exact proof over ZT/Z/Q) or "Z3"
    (the modular scheme, labelled Z3).  Options ``plateau``, ``restart_after``, ``pool_size``, ``climb``, the
    weight rules of :func:`walk3`: ``max_weight`` (0: none) and ``weight_bias`` (0: none), and ``kernel`` (1: the
    scan walk :func:`walk3`; 2: the indexed walk of :mod:`.gf3kernel`; default :func:`default_kernel`).
    """
    from ..provenance import result_record, search_record, start_record
    from .flip import FlipOptionError
    from .gf2 import check_shape
    from .lift import hensel_lift
    s = parse_shape(shape)
    check_shape(s)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    if device is not None and str(device).strip().lower() != "cpu":
        from ..errors import DeviceError
        raise DeviceError(f"the flip engine runs on the CPU only; got device {device!r} (use --device cpu)")
    init = "standard" if init in (None, "mixed") else str(init)
    if init not in ("standard", "strassen"):
        raise FlipOptionError(f"the GF(3) walk starts from the standard algorithm or Strassen on 2x2x2 blocks "
                              f"(--init standard|strassen), not {init!r}")
    options = {k: v for k, v in options.items() if v is not None}
    ck_dir = options.pop("checkpoint", None)
    resume_dir = options.pop("resume", None)
    every = float(options.pop("checkpoint_every", None) or CHECKPOINT_EVERY)
    if options.pop("symmetry", "none") != "none":
        raise FlipOptionError("--field 3 does not support --symmetry yet (use --field 2)")
    options.pop("field", None)
    start = options.pop("start", None)
    start_move = options.pop("_start_move", None)  # a replay or a resume: the moves its start record names
    walker = int(options.pop("_walker", 0))  # a worker process of a parallel run (.__parallel.run_walkers)
    child = bool(options.pop("_child", False))
    attempts_to = options.pop("_attempts_to", None)  # a cluster segment: walk until this many kernel attempts
    unknown = set(options) - set(DEFAULTS) - set(WEIGHT_DEFAULTS) - {"kernel", "ternary"}
    if unknown:
        raise FlipOptionError(f"unknown option(s) for the GF(3) flip walk: {', '.join(sorted(unknown))}")
    goal = "Z" if ring is None else str(ring).upper()
    if goal not in ("Z", "Z3"):
        raise FlipOptionError(f"ring must be Z or Z3 for the flip engine with --field 3, got {ring!r}")
    manifest = None
    if ck_dir is not None and resume_dir is not None and Path(ck_dir) != Path(resume_dir):
        raise FlipOptionError("give --checkpoint DIR to start a run or --resume DIR to continue one, not both")
    if resume_dir is not None:
        from .flip import _read_manifest
        manifest = _read_manifest(Path(resume_dir), s, int(rank))
        if manifest.get("options", {}).get("field") != 3:
            raise FlipOptionError(f"the checkpoint in {resume_dir} is not a GF(3) walk; resume it without --field 3")
        ck_dir = str(resume_dir)
        seed = int(manifest["seed"])
        mo = manifest["options"]
        goal, init = mo["ring"], mo["init"]
        options = {k: mo[k] for k in (*DEFAULTS, *WEIGHT_DEFAULTS) if k in mo}
        options["kernel"] = mo.get("kernel", OLD_KERNEL)  # a checkpoint from before kernel 2: the scan walk
        options["ternary"] = bool(mo.get("ternary", False))
        srec0 = manifest.get("start") or {}
        start = srec0.get("source") if srec0.get("kind") in ("file", "catalog") else None
        start_move = srec0.get("move") if start is not None else None
        workers = int((manifest.get("flip") or {}).get("walkers", 1))  # the walkers it was started with
    from ._parallel import resolve_walkers, walker_seed
    n_workers = resolve_walkers(workers, s, child)
    params = dict(DEFAULTS)
    for k in DEFAULTS:
        if k in options:
            v = options[k]
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise FlipOptionError(f"{k} must be an integer >= 1, got {v!r}")
            params[k] = int(v)
    mw = options.get("max_weight", WEIGHT_DEFAULTS["max_weight"])
    if isinstance(mw, bool) or not isinstance(mw, (int, np.integer)) or not 0 <= mw <= 64:
        raise FlipOptionError(f"--max-weight must be an integer from 0 (no limit) to 64, got {mw!r}")
    wb = options.get("weight_bias", WEIGHT_DEFAULTS["weight_bias"])
    if isinstance(wb, bool) or not isinstance(wb, (int, float, np.integer, np.floating)) or not (
            math.isfinite(wb) and wb >= 0):
        raise FlipOptionError(f"--weight-bias must be a number >= 0 (0: off), got {wb!r}")
    params["max_weight"], params["weight_bias"] = int(mw), float(wb)
    kern = options.get("kernel")
    if kern is None:
        kern = default_kernel(s)
    if isinstance(kern, bool) or kern not in KERNELS:
        raise FlipOptionError(f"--kernel with --field 3 must be 1 (scan walk) or 2 (indexed walk), got {kern!r}")
    if kern == 2 and default_kernel(s) != 2:
        raise FlipOptionError(f"--kernel 2 with --field 3 needs factors of at most 32 entries; {s} has "
                              f"{max(s.m * s.k, s.k * s.n, s.m * s.n)} (use --kernel 1)")
    params["kernel"] = int(kern)
    zt = options.get("ternary", False)
    if not isinstance(zt, bool):
        raise FlipOptionError(f"ternary must be True or False, got {zt!r}")
    if zt and kern != 2:
        raise FlipOptionError("--ternary needs the indexed GF(3) kernel (--kernel 2)")
    if zt and goal != "Z":
        raise FlipOptionError("--ternary walks schemes valid over Z: use --ring Z (the default), not --ring Z3")
    params["ternary"] = zt
    from functools import partial
    from .gf3kernel import walk3ix, warm_up as warm_up_ix
    walk_fn = partial(walk3ix, ternary=zt) if kern == 2 else walk3
    budget = budget or Budget()
    stop = stop or (lambda: False)
    if seed is None:
        import secrets
        seed = secrets.randbits(62)
    rank = int(rank)
    compile_s = warm_up()
    if kern == 2:
        t_ix = time.perf_counter()
        warm_up_ix()
        compile_s += time.perf_counter() - t_ix
    resolved = {"field": 3, "ring": goal, "init": init, "workers": n_workers, "symmetry": "none", **params}
    start_planes = None
    if start is not None:
        start_planes, srec = _start_planes(start, s, ternary=zt, move=start_move)
    else:
        srec = start_record(init)
    rec = search_record(ENGINE, strategy="gf3", options=resolved, seed=int(seed), workers=n_workers, device="cpu",
                        start=srec)
    if n_workers > 1 and not child:
        yield from _search_parallel(s, rank, seed=int(seed), budget=budget, goal=goal, init=init, params=params,
                                    zt=zt, start=start, srec=srec, rec=rec, resolved=resolved, n_workers=n_workers,
                                    on_progress=on_progress, stop=stop, ck_dir=ck_dir, manifest=manifest,
                                    every=every)
        return
    walk_seed = walker_seed(int(seed), walker)  # walker 0 walks with the run's seed itself
    if n_workers > 1:
        rec = {**rec, "walker": walker, "worker_seed": walk_seed}
    t0 = budget.started
    r0 = s.m * s.k * s.n
    cap = max(r0, start_planes[2] if start_planes else 0) + params["climb"] + 32
    if start_planes is not None:
        P = np.zeros((3, cap), dtype=np.uint64)
        Q = np.zeros_like(P)
        r = start_planes[2]
        P[:, :r], Q[:, :r] = start_planes[0], start_planes[1]
    else:
        P, Q, r = standard_planes(s, cap) if init == "standard" else strassen_block_planes(s, cap)
    if not is_valid_mod3(s, P, Q, r):  # pragma: no cover - a wrong start is a bug
        raise AssertionError("the GF(3) start scheme is not valid mod 3")
    rng = np.random.default_rng(walk_seed)
    state = np.array([rng.integers(1, 2**63 - 1)], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    best = r
    pools = {r: [(P[:, :r].copy(), Q[:, :r].copy())]}
    levels = {r: 0.0}
    tried = _Digests()
    flips_at_best = attempts = attempts_at_best = restarts = proven = lifts_failed = unlifted = 0
    before_s = 0.0  # walking seconds of the runs this one resumes
    t_report, flips_report = 0.0, 0
    stats = {"restarts_done": 0, "restarts_proven": 0, "proven": 0}
    search_gf3.stats = stats
    search_gf3.best_above_target = None
    search_gf3.best_modular = None
    ck = Path(ck_dir) if ck_dir is not None else None
    resumed: list[Scheme] = []
    if ck is not None:
        from .flip import _checkpoint_schemes, _hex_rows as _hex, _write_json, _write_manifest
        (ck / "walkers").mkdir(parents=True, exist_ok=True)
        (ck / "schemes").mkdir(exist_ok=True)
        wf = ck / "walkers" / f"walker-{walker:03d}.json"
        if manifest is not None and wf.exists():
            st = _read_walker(wf, s, cap)
            r, best, before_s = st["r"], st["best"], st["seconds"]
            P[:] = 0
            Q[:] = 0
            P[:, :r], Q[:, :r] = st["P"], st["Q"]
            state[0] = np.uint64(st["kstate"])
            saved = [int(x) for x in st["counters"]][:counters.shape[0]]  # walkers before the weight rules: 4
            counters[:len(saved)] = saved
            rng.bit_generator.state = st["rng"]
            pools, levels, tried = st["pools"], st["levels"], st["tried"]
            (flips_at_best, attempts, attempts_at_best, restarts, proven, lifts_failed,
             unlifted) = (st[k] for k in ("flips_at_best", "attempts", "attempts_at_best", "restarts", "proven",
                                          "lifts_failed", "unlifted"))
        if not child:  # a parallel run's parent yields the kept schemes and writes the manifest
            if manifest is not None:
                resumed = _checkpoint_schemes(ck, rank, "Z3" if goal == "Z3" else None)
            _write_manifest(ck, manifest, shape=list(s), rank=rank, seed=int(seed), options=resolved, start=srec,
                            version=rec.get("version"), commit=rec.get("commit"),
                            flip={"walkers": 1, "walker_format": WALKER_FORMAT})

    def walked() -> float:
        return before_s + time.monotonic() - t0

    def save_state():
        if ck is None:
            return
        _write_json(wf, {
            "format": WALKER_FORMAT, "shape": list(s), "rank": rank, "goal": goal, "params": params,
            "seed": int(seed), "walker": walker, "worker_seed": walk_seed, "r": int(r), "P": _hex(P[:, :r]),
            "Q": _hex(Q[:, :r]), "kstate": int(state[0]),
            "counters": [int(x) for x in counters], "rng": rng.bit_generator.state, "best": int(best),
            "pools": {str(lv): [[_hex(a), _hex(b)] for a, b in pl] for lv, pl in pools.items()},
            "levels": {str(k): v for k, v in levels.items()}, "tried": sorted(tried),
            "flips_at_best": int(flips_at_best), "attempts": int(attempts), "attempts_at_best": int(attempts_at_best),
            "restarts": int(restarts), "proven": int(proven), "lifts_failed": int(lifts_failed),
            "unlifted": int(unlifted), "seconds": round(walked(), 3)})

    def keep(sch: Scheme):
        if ck is not None:
            from .flip import _keep_scheme
            _keep_scheme(ck, sch)

    def load(snap):
        nonlocal r
        P[:] = 0
        Q[:] = 0
        r = snap[0].shape[1]
        P[:, :r], Q[:, :r] = snap
        counters[3] = 0

    def report():
        nonlocal t_report, flips_report
        now = time.monotonic()
        dt = now - t_report if t_report else now - t0
        fl = int(counters[0])
        rate = (fl - flips_report) / max(dt, 1e-9)  # the progress line: since the last report
        t_report, flips_report = now, fl
        # the final message (and a parallel run's sum): this run's flips per second overall, as the symmetric walk
        stats.update({"best_rank": best, "levels": dict(sorted(levels.items(), reverse=True)), "flips": fl,
                      "flips_per_s": (fl - flips0) / max(now - t0, 1e-9), "field": 3, "walk": "ZT" if zt else "GF(3)"})
        if on_progress is not None:
            on_progress(Progress(engine=ENGINE, restarts_done=restarts, unit="walks", proven=proven,
                                 elapsed=budget.elapsed(), best_rank=best,
                                 extra={"rank": best, "current": r, "flips/s": f"{rate:.3g}", "field": 3,
                                        "unlifted": lifts_failed}))

    flips0 = flips_report = int(counters[0])  # a resumed walk's rates count this run's flips only
    t_saved = time.monotonic()
    try:
        for sch in resumed:
            stats["proven"] = stats["restarts_proven"] = proven
            yield sch
        while not (stop() or budget.time_up() or (budget.restarts is not None and restarts >= budget.restarts)
                   or (attempts_to is not None and attempts >= attempts_to)):
            if r <= rank:
                cp, cq = _canonical_signs(P, Q, r)
                key = _key(cp, cq, r)
                if key not in tried:
                    tried.add(key)
                    a, b, c = factors(s, P, Q, r)
                    if goal == "Z3" or zt:  # Z3: the modular scheme; ZT walk: already an integer scheme
                        sch, completed = Scheme(s, a, b, c.T.copy()), ["flip"]
                    else:
                        res = hensel_lift(s, a, b, c, p=3)
                        sch, completed = (Scheme(s, *res), ["flip", "lift"]) if res is not None else (None, None)
                    v = verify(sch, symbolic=False) if sch is not None else None
                    normalised = False
                    if goal != "Z3" and v is not None and v.ok and v.ring not in ("ZT",):
                        alt = Scheme(s, *normalise_products(sch.W_a, sch.W_b, sch.W_c))
                        va = verify(alt, symbolic=False)
                        if va.ok and niceness(alt, va.ring) < niceness(sch, v.ring):
                            sch, v, normalised = alt, va, True
                    if v is not None and (v.ok or (goal == "Z3" and v.ring == "Z3")):
                        prov = result_record(rec, completed_by=completed, seconds=round(walked(), 3),
                                             flips=int(counters[0]), restart=restarts,
                                             rank_levels={str(k): v for k, v in sorted(levels.items(), reverse=True)},
                                             compile_seconds=round(compile_s, 3), normalised=normalised)
                        proven += 1
                        stats["proven"] = stats["restarts_proven"] = proven
                        out = Scheme(s, sch.W_a, sch.W_b, sch.W_c, provenance=prov)
                        keep(out)
                        save_state()
                        yield out
                    else:
                        lifts_failed += 1
                        unlifted += 1
                    flips_at_best = int(counters[0])
                    attempts_at_best = attempts
            r_before = r
            r = walk_fn(P, Q, r, best - 1, CHUNK, params["plateau"], best + params["climb"], state, counters,
                        params["max_weight"], params["weight_bias"])
            attempts += CHUNK
            if r < best:
                best = r
                pools[r] = [(P[:, :r].copy(), Q[:, :r].copy())]
                levels[r] = round(walked(), 3)
                flips_at_best = int(counters[0])
                attempts_at_best = attempts
                report()
            elif r == best and r_before != best:
                pool = pools[best]
                snap = (P[:, :r].copy(), Q[:, :r].copy())
                if len(pool) < params["pool_size"]:
                    pool.append(snap)
                else:
                    pool[int(rng.integers(len(pool)))] = snap
            if (int(counters[0]) - flips_at_best >= params["restart_after"]
                    or attempts - attempts_at_best >= 20 * params["restart_after"] or unlifted >= 4):
                up = int(rng.integers(1, 3)) if unlifted >= 4 else int(rng.integers(0, 2))
                level = min((lv for lv in pools if lv >= best + up), default=best)
                src = pools[level]
                load(src[int(rng.integers(len(src)))])
                unlifted = 0
                flips_at_best = int(counters[0])
                attempts_at_best = attempts
                restarts += 1
                stats["restarts_done"] = restarts
            if time.monotonic() - t_report >= 0.5:
                report()
            if ck is not None and time.monotonic() - t_saved >= every:
                save_state()
                t_saved = time.monotonic()
    finally:
        save_state()
        search_gf3.last = {"best_rank": best, "levels": dict(levels), "flips": int(counters[0]),
                           "plus": int(counters[2]), "seconds": walked()}
        report()
        # (the first level is the start: not a result; a cluster segment is not the end of the walk)
        if proven == 0 and rank < best < max(levels) and attempts_to is None:
            _finish(s, rank, goal, zt, rec, pools, levels, best, walked(), int(counters[0]), compile_s)


def _search_parallel(s: Shape, rank: int, *, seed: int, budget: Budget, goal: str, init: str, params: dict,
                     zt: bool, start, srec: dict, rec: dict, resolved: dict, n_workers: int, on_progress, stop, ck_dir,
                     manifest, every: float) -> Iterator[Scheme]:
    """``workers`` > 1: that many independent walkers (:func:`._parallel.run_walkers`); walker w walks as a
    one-walker run with seed ``walker_seed(seed, w)`` from the same start (re-made from the moves its record
    names).  A missed target: the best scheme above it and the best modular one over all walkers (each
    walker lifts its own at its end; they get the time that takes)."""
    from ._parallel import run_walkers
    stats = {"restarts_done": 0, "restarts_proven": 0, "proven": 0, "walks": n_workers, "seed": seed, "field": 3,
             "walk": "ZT" if zt else "GF(3)"}
    search_gf3.stats = stats
    search_gf3.best_above_target = None
    search_gf3.best_modular = None
    kwargs = {"shape": tuple(s), "rank": rank, "seed": seed, "ring": goal, "init": init, "checkpoint_every": every,
              **{k: params[k] for k in (*DEFAULTS, *WEIGHT_DEFAULTS)}, "kernel": params["kernel"], "ternary": zt}
    if start is not None and manifest is None:  # a resuming walker reads its start from the manifest
        kwargs["start"] = start
        if srec.get("move"):
            kwargs["_start_move"] = srec["move"]
    fields = {"shape": list(s), "rank": rank, "seed": seed, "options": resolved, "start": srec,
              "version": rec.get("version"), "commit": rec.get("commit"),
              "flip": {"walkers": n_workers, "walker_format": WALKER_FORMAT}}

    def on_end(result):
        search_gf3.last = result["last"]
        if stats["proven"] == 0:
            search_gf3.best_above_target = result["best_above_target"]
            search_gf3.best_modular = result["best_modular"]
    grace = 10.0 + max(FINISH_LIFT_SECONDS, 0.1 * (budget.time_limit or 0.0))
    yield from run_walkers(search_gf3, kwargs, n_workers, rank=rank, budget=budget, stop=stop,
                           goal_ok=lambda v: v.ok or (goal == "Z3" and v.ring == "Z3"),
                           modular="Z3" if goal == "Z3" else None, on_progress=on_progress, stats=stats,
                           ck=Path(ck_dir) if ck_dir is not None else None, manifest=manifest,
                           manifest_fields=fields, label={"field": 3}, on_end=on_end, grace=grace)


def replay_gf3(provenance: dict, shape=None, rank=None) -> Iterator[Scheme]:
    """Re-run the GF(3) (or ZT) walk that produced a scheme with this provenance: the walk is a function of the
    seed, the options and the start alone (kernel calls of whole chunks, restarts counted, never the clock), so
    the same with a budget of ``restart + 1`` restarts reaches the recorded scheme again (a start two moves
    away is re-made from the moves its record names).  Yields what that walk proves (the recorded scheme
    among them).  Raises ReplayError when it cannot."""
    from ..errors import ReplayError
    p = provenance or {}
    opts = dict(p.get("options") or {})
    for key in ("seed", "restart"):
        if p.get(key) is None:
            raise ReplayError(f"the provenance has no {key!r}: the GF(3) walk cannot be re-run")
    if p.get("above_target"):
        raise ReplayError("a best-effort result above the target rank (found after the budget ended) is not replayed")
    shape = shape if shape is not None else p.get("shape")
    rank = rank if rank is not None else (p.get("rank_asked") or p.get("target_rank"))
    if shape is None or rank is None:
        raise ReplayError("the shape and the rank of the scheme are needed to replay a GF(3) walk")
    srec = p.get("start") or {}
    kw = {k: opts[k] for k in (*DEFAULTS, *WEIGHT_DEFAULTS, "kernel", "ternary") if k in opts}
    kw.setdefault("kernel", OLD_KERNEL)  # recorded before kernel 2: the scan walk
    if srec.get("kind") in ("file", "catalog"):
        src = srec.get("source")
        if srec.get("kind") == "catalog" or not src or src == "scheme" or not Path(src).exists():
            raise ReplayError(f"the walk started from {src!r}, which is not available here")
        kw["start"] = src
        if srec.get("move"):
            kw["_start_move"] = srec["move"]
    budget = Budget(restarts=int(p["restart"]) + 1, count=None)
    # walker w of a parallel run walked as a one-walker run with its own seed (._parallel.walker_seed)
    seed = int(p["worker_seed"]) if p.get("worker_seed") is not None else int(p["seed"])
    yield from search_gf3(tuple(shape), int(rank), seed=seed, budget=budget, ring=opts.get("ring"),
                          init=opts.get("init"), workers=1, **kw)


#: the end-of-run lift of a missed target (GF(3) walk with --ring Z) may take this many seconds, or a tenth
#: of the run if that is longer (as the GF(2) engine's)
FINISH_LIFT_SECONDS = 30.0


def _finish(s: Shape, rank: int, goal: str, zt: bool, rec: dict, pools: dict, levels: dict, best: int,
            seconds: float, flips: int, compile_s: float) -> None:
    """A missed target (issue point 7): ``search_gf3.best_modular`` is the best level's scheme mod 3 (labelled
    Z3 by ``verify`` unless it holds over Z), and ``search_gf3.best_above_target`` the best proven scheme above
    the rank asked.  The ZT walk's schemes are integer schemes already; the GF(3) walk's are lifted 3-adically,
    level by level from the best, within FINISH_LIFT_SECONDS (or a tenth of the run).  Nothing is taken from
    the first level (the start scheme or the standard algorithm): it is not a result of the run."""
    from .lift import hensel_lift
    from ..provenance import result_record
    common = {"seconds": round(seconds, 3), "flips": flips, "compile_seconds": round(compile_s, 3),
              "rank_levels": {str(k): v for k, v in sorted(levels.items(), reverse=True)}, "target_rank": rank,
              "above_target": True}
    bp, bq = pools[best][0]
    a, b, c = factors(s, bp, bq, bp.shape[1])
    if not zt:
        search_gf3.best_modular = Scheme(s, a, b, c.T.copy(),
                                         provenance=result_record(rec, completed_by=["flip"], **common))
    deadline = time.monotonic() + max(FINISH_LIFT_SECONDS, 0.1 * seconds)
    for lv in sorted(pools):
        if lv >= max(levels):
            return
        for bp, bq in pools[lv]:
            if time.monotonic() > deadline:
                search_gf3.stats["finish_lift_cut"] = True
                return
            a, b, c = factors(s, bp, bq, bp.shape[1])
            if zt:
                res, parts = (a, b, c.T.copy()), ["flip"]
            elif goal == "Z":
                res, parts = hensel_lift(s, a, b, c, p=3), ["flip", "lift"]
            else:
                return  # --ring Z3: the modular scheme is the result asked for
            if res is None:
                continue
            sch = Scheme(s, *res, provenance=result_record(rec, completed_by=parts, **common))
            if verify(sch, symbolic=False).ok:
                search_gf3.best_above_target = sch
                return


def _content(v) -> Fraction:
    """The rational c with v = c * w, w a primitive integer vector whose first nonzero entry is positive."""
    fr = [Fraction(x) for x in v]
    den = 1
    for f in fr:
        den = math.lcm(den, f.denominator)
    ints = [int(f * den) for f in fr]
    g = 0
    for x in ints:
        g = math.gcd(g, abs(x))
    if g == 0:
        return Fraction(1)
    first = next(x for x in ints if x)
    return Fraction(g if first > 0 else -g, den)


def normalise_products(W_a, W_b, W_c):
    """Rescale every product t without changing its term a_t (x) b_t (x) c_t: two of its three factors are
    made primitive integer vectors (first nonzero entry positive) and the third absorbs the scalars, e.g.
    (a_t / alpha, b_t / beta, alpha beta c_t); of the three choices the one whose absorbing factor has the
    smallest denominators (then entries) is kept.  A 3-adic lift lands on one representative of this
    rescaling freedom (often with denominators such as 4 or 8); the rescaled one is often integral.
    Returns (W_a, W_b, W_c) as int64 arrays when every entry is an integer, else object arrays of Fractions."""
    Wa = np.array(W_a, dtype=object)
    Wb = np.array(W_b, dtype=object)
    Wc = np.array(W_c, dtype=object).T.copy()  # rows: products
    mats = [Wa, Wb, Wc]
    for t in range(Wa.shape[0]):
        vecs = [[Fraction(x) for x in M[t]] for M in mats]
        cont = [_content(v) for v in vecs]
        best = None
        for absorb in (2, 0, 1):
            new = []
            for u in range(3):
                if u == absorb:
                    scale = cont[(u + 1) % 3] * cont[(u + 2) % 3]
                    new.append([f * scale for f in vecs[u]])
                else:
                    new.append([f / cont[u] for f in vecs[u]])
            key = (max(f.denominator for f in new[absorb]), max(abs(f) for f in new[absorb]))
            if best is None or key < best[0]:
                best = (key, new)
        for M, v in zip(mats, best[1]):
            M[t] = v
    out = []
    for W in (Wa, Wb, Wc.T):
        if all(Fraction(x).denominator == 1 for x in W.flat):
            out.append(np.array([[int(x) for x in row] for row in W], dtype=np.int64))
        else:
            out.append(np.array([[Fraction(x) for x in row] for row in W], dtype=object))
    return tuple(out)


def niceness(sch: Scheme, ring: str) -> tuple:
    """Sort key, smaller is nicer: ring (ZT, Z, Q), then the largest denominator, largest |coefficient|, nonzeros."""
    from .flip import _RING_ORDER
    vals = [Fraction(x) for W in (sch.W_a, sch.W_b, sch.W_c) for x in np.asarray(W).flat]
    return (_RING_ORDER.get(ring, 3), max(f.denominator for f in vals), max(abs(f) for f in vals),
            sum(1 for f in vals if f))


def _digest(key: bytes) -> str:
    return hashlib.sha1(key).hexdigest()


class _Digests(set):
    """The set of goal schemes already tried, as read back from a checkpoint (digests of their keys)."""

    def __contains__(self, key) -> bool:
        return super().__contains__(_digest(key) if isinstance(key, bytes) else key)

    def add(self, key) -> None:
        super().add(_digest(key) if isinstance(key, bytes) else key)


def _read_walker(f: Path, s: Shape, cap: int) -> dict:
    from .flip import FlipOptionError
    try:
        st = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        raise FlipOptionError(f"cannot read the GF(3) walker state {f}: {e}") from None
    return _parse_walker(st, s, cap, str(f))


def _parse_walker(st, s: Shape, cap: int, where: str) -> dict:
    """A GF(3) walker state (the JSON object of DIR/walkers/walker-NNN.json) with its arrays decoded."""
    from .flip import FlipOptionError, _unhex_rows as _unhex
    if not isinstance(st, dict) or st.get("format") != WALKER_FORMAT or tuple(st.get("shape", ())) != tuple(s):
        raise FlipOptionError(f"{where} is not a GF(3) walker state for {tuple(s)}")
    st["P"], st["Q"] = _unhex(st["P"]), _unhex(st["Q"])
    if st["P"].shape[1] != st["r"] or st["r"] > cap:
        raise FlipOptionError(f"{where}: walker state inconsistent (rank {st['r']})")
    st["pools"] = {int(lv): [(_unhex(a), _unhex(b)) for a, b in pl] for lv, pl in st["pools"].items()}
    st["levels"] = {int(k): float(v) for k, v in st["levels"].items()}
    st["tried"] = _Digests(st["tried"])
    return st
