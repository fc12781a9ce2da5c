"""The indexed GF(3) flip kernel: :mod:`.flipkernel`'s value index, over GF(3).

The scan walk of :mod:`.gf3` (``walk3``, kernel 1) draws a product and a slot and scans the r products
for a partner whose factor there agrees up to sign.  Far from a reduction most factors are shared by
nobody, so most attempts end in a failed scan.  This kernel (kernel 2 of ``--field 3``) keeps the index
of :mod:`.flipkernel` (hash table from factor value to the group of products carrying it, the list of
flippable groups) and so makes a flip at every attempt, drawn uniformly among the flippable pairs as the
GF(2) kernel does: on <2,4,5> 7.8x10^6 flips per second against the scan walk's 1.6x10^5
(benchmarks/results/gf3-kernel.md).

Representation.  A product is ``sg[t] * (F[0, t] (x) F[1, t] (x) F[2, t])``: each factor is stored in a
*sign-canonical* form (its first nonzero entry is 1), packed into one uint64 as ``p | q << 32`` (p: the
entries equal to 1, q: the entries equal to 2 = -1; so a factor has at most 32 entries: m*k, k*n and m*n
<= 32), and the product's scalar ``sg[t]`` (+1 or -1) carries the signs.  Two factors agree up to sign
exactly when their canonical forms are equal, so the GF(2) index (keys: nonzero uint64 values) works
unchanged on ``F``.

Moves (exact over GF(3); v the shared canonical factor of products i and j in slot s, b and c their
factors in the next two slots, alpha = +-1 drawn at random):

- *flip*: ``sg_i v b_i c_i + sg_j v b_j c_j = sg_i v (b_i + alpha b_j) c_i + sg_j v b_j (c_j - sg_i sg_j alpha c_i)``;
- *reduction*: products t, k agreeing in two slots: ``sg_t a b c_t + sg_k a b c_k = sg_k a b (c_k + sg_t sg_k c_t)``
  (a zero factor removes the product);
- *plus transition* (rank + 1, after ``plateau`` flips without a reduction, or at once when no two products
  share a factor): ``(a, b, C) + (a', b', C') = (a + a', b, C) + (a', b', C' - C) + (a', b' - b, C)`` with the
  scalars in C = sg c.

*The ZT walk* (``ternary``, ``--ternary``): the same moves, computed as if over the integers with entries
-1, 0, 1, and a move whose integer result would have an entry +-2 is not made (a refused flip counts like
one the weight rules refuse, a plus transition draws another pair, a reduction is left undone).  Started from
a scheme with coefficients -1, 0, 1 valid over Z (the standard algorithm, or a ZT result), every scheme
the walk visits is then, read with entries -1, 0, 1, a ZT scheme valid over Z: no Hensel lifting is needed,
and none can fail.  This is the integer ternary flip graph of Perminov's ternary meta flip graphs (2025),
written here on this kernel.

The weight rules of ``walk3`` (``max_weight``, ``weight_bias``) apply to the two factors a flip changes,
as there.  :func:`walk3ix` has ``walk3``'s arguments and meaning (planes in, planes out, counters
``[flips, removed, plus, since, refused]``) and converts at each call (O(r)); the moves it makes are
its own (a seed gives another walk than with kernel 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import flipkernel as fk
from .gf3 import _weight

#: the largest factor length (entries) the packed representation holds
MAX_WIDTH = 32
_LO = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


# ---------------------------------------------------------------- GF(3) on packed factors
@njit(cache=True, inline="always")
def _canon(p, q):
    """(canonical packed value, scalar) with p, q the planes of a nonzero factor: the first nonzero
    entry of the canonical form is 1; the factor equals scalar * canonical."""
    x = p | q
    low = x & (~x + np.uint64(1))
    if q & low:
        return q | (p << _S32), -1
    return p | (q << _S32), 1


@njit(cache=True, inline="always")
def _signed(w, beta):
    """The planes (entries 1, entries -1) of beta * w (w packed, beta = +-1)."""
    if beta == 1:
        return w & _LO, w >> _S32
    return w >> _S32, w & _LO


@njit(cache=True, inline="always")
def _lin(v, w, beta):
    """The planes (p, q) of v + beta * w over GF(3) (v, w packed, beta = +-1)."""
    xp, xn = _signed(v, 1)
    yp, yn = _signed(w, beta)
    zx = ~(xp | xn)
    zy = ~(yp | yn)
    return (xp & zy) | (zx & yp) | (xn & yn), (xn & zy) | (zx & yn) | (xp & yp)


@njit(cache=True, inline="always")
def _overflows(v, w, beta):
    """True when v + beta * w computed over the integers has an entry +-2 (v, w with entries -1, 0, 1)."""
    xp, xn = _signed(v, 1)
    yp, yn = _signed(w, beta)
    return ((xp & yp) | (xn & yn)) != np.uint64(0)


@njit(cache=True, inline="always")
def _wt(v):
    """Nonzero entries of a packed factor (the scan walk's weight of its two planes)."""
    return _weight(v & _LO, v >> _S32)


# ---------------------------------------------------------------- conversions
@njit(cache=True)
def _from_planes(P, Q, r, F, sg):
    """Planes -> canonical packed factors and product scalars; returns the rank without zero products."""
    t = 0
    n = 0
    while t < r:
        z = False
        sign = 1
        for s in range(3):
            if P[s, t] == np.uint64(0) and Q[s, t] == np.uint64(0):
                z = True
        if not z:
            for s in range(3):
                v, k = _canon(P[s, t], Q[s, t])
                F[s, n] = v
                sign *= k
            sg[n] = sign
            n += 1
        t += 1
    for t in range(n, F.shape[1]):
        for s in range(3):
            F[s, t] = 0
    return n


@njit(cache=True)
def _to_planes(F, sg, r, P, Q):
    """Canonical factors and scalars -> planes (the scalar goes into slot 2)."""
    for t in range(P.shape[1]):
        for s in range(3):
            if t < r:
                p = F[s, t] & _LO
                q = F[s, t] >> _S32
                if s == 2 and sg[t] < 0:
                    p, q = q, p
                P[s, t] = p
                Q[s, t] = q
            else:
                P[s, t] = 0
                Q[s, t] = 0


def to_packed(P, Q, r):
    """Planes (3 x cap) -> (F, sg, r) for this kernel (products with a zero factor dropped)."""
    cap = P.shape[1]
    F = np.zeros((3, cap), dtype=np.uint64)
    sg = np.ones(cap, dtype=np.int64)
    r = _from_planes(P, Q, int(r), F, sg)
    return F, sg, r


def to_planes(F, sg, r, cap=None):
    cap = F.shape[1] if cap is None else cap
    P = np.zeros((3, cap), dtype=np.uint64)
    Q = np.zeros_like(P)
    _to_planes(F, sg, int(r), P, Q)
    return P, Q


# ---------------------------------------------------------------- index moves with scalars
@njit(cache=True)
def _remove(hk, gval, I, gmem, F, sg, r, p, pend_t, npend):
    sg[p] = sg[r - 1]
    return fk._remove(hk, gval, I, gmem, F, r, p, pend_t, npend)


@njit(cache=True)
def _reduce(hk, gval, I, gmem, F, sg, r, pend_t, pend_s, npend, counters, zt):
    """Apply every reduction reachable from the pending (product, changed slot) entries (``zt``: except those
    whose merged factor would have an entry +-2 over the integers)."""
    while npend > 0:
        npend -= 1
        t = pend_t[npend]
        u = pend_s[npend]
        if t < 0 or t >= r:
            continue
        k, z = fk._partner(hk, gval, I, gmem, F, t, u)
        if k < 0:
            continue
        # t and k agree in two slots: k's factor in slot z becomes c_k + sg_t sg_k c_t, t goes
        if zt and _overflows(F[z, k], F[z, t], sg[t] * sg[k]):
            continue
        p, q = _lin(F[z, k], F[z, t], sg[t] * sg[k])
        last = r - 1
        r = _remove(hk, gval, I, gmem, F, sg, r, t, pend_t, npend)
        if k == last:
            k = t
        counters[1] += 1
        if p == np.uint64(0) and q == np.uint64(0):
            r = _remove(hk, gval, I, gmem, F, sg, r, k, pend_t, npend)
            counters[1] += 1
        else:
            v, kap = _canon(p, q)
            sg[k] *= kap
            fk._set(hk, gval, I, gmem, F, z, k, v)
            if npend < pend_t.shape[0]:
                pend_t[npend] = k
                pend_s[npend] = z
                npend += 1
    return r


@njit(cache=True)
def _reduce_all(hk, gval, I, gmem, F, sg, r, counters, zt):
    fk._build(hk, gval, I, gmem, F, r)
    pend_t, pend_s, npend = fk._every_entry(r)
    return _reduce(hk, gval, I, gmem, F, sg, r, pend_t, pend_s, npend, counters, zt)


@njit(cache=True)
def _plus(hk, gval, I, gmem, F, sg, r, state, pend_t, pend_s, zt):
    """One plus transition (rank + 1), index kept; returns (new rank, pending count)."""
    if r < 2 or r >= F.shape[1]:
        return r, 0
    for _ in range(64):
        i, j, p0, p1, p2 = fk._plus_draw(state, r)
        if F[p0, i] == F[p0, j] or F[p1, i] == F[p1, j] or F[p2, i] == F[p2, j]:
            continue
        if zt and (_overflows(F[p0, i], F[p0, j], 1) or _overflows(F[p2, j], F[p2, i], -sg[i] * sg[j])
                   or _overflows(F[p1, j], F[p1, i], -1)):
            continue
        # (a, b, C) + (a', b', C') = (a + a', b, C) + (a', b', C' - C) + (a', b' - b, C), C = sg c
        x0, y0 = _lin(F[p0, i], F[p0, j], 1)
        ai, ki = _canon(x0, y0)
        x2, y2 = _lin(F[p2, j], F[p2, i], -sg[i] * sg[j])
        cj, kj = _canon(x2, y2)
        x1, y1 = _lin(F[p1, j], F[p1, i], -1)
        bn, kn = _canon(x1, y1)
        F[p0, r] = F[p0, j]
        F[p1, r] = bn
        F[p2, r] = F[p2, i]
        sg[r] = sg[i] * kn
        for s in range(3):
            fk._add(hk, gval, I, gmem, s, r, F[s, r])
        sg[i] *= ki
        fk._set(hk, gval, I, gmem, F, p0, i, ai)
        sg[j] *= kj
        fk._set(hk, gval, I, gmem, F, p2, j, cj)
        return r + 1, fk._plus_pending(pend_t, pend_s, i, p0, j, p2, r)
    return r, 0


@njit(cache=True)
def _walk(hk, gval, I, gmem, F, sg, r, target, max_iters, plateau, max_rank, state, counters,
          max_weight, weight_bias, zt):
    """Every attempt is a move: a flip drawn uniformly among the flippable pairs, or a plus transition
    (after ``plateau`` flips or refused flips without a reduction, or at once when nothing is flippable); a
    flip refused by the weight rules changes nothing (counters[4]) but counts toward the plateau, unlike
    kernel 1, where a scheme whose every flip is refused never reaches its plus transition."""
    H = hk.shape[1]
    c = gval.shape[1]
    onl = H + 6 * c + 1
    ofl = H + 2 * c
    pend_t = np.empty(64, dtype=np.int64)
    pend_s = np.empty(64, dtype=np.int64)
    since = counters[3]
    weigh = max_weight > 0 or weight_bias > 0.0
    for _ in range(max_iters):
        if r <= target:
            break
        n0 = I[0, onl]
        n1 = I[1, onl]
        tot = n0 + n1 + I[2, onl]
        if since >= plateau or tot == 0:
            since = 0
            if r < max_rank:
                r2, npend = _plus(hk, gval, I, gmem, F, sg, r, state, pend_t, pend_s, zt)
                if r2 > r:
                    counters[2] += 1
                    r = _reduce(hk, gval, I, gmem, F, sg, r2, pend_t, pend_s, npend, counters, zt)
                    continue
            if tot == 0:
                break  # nothing to flip and no room to grow: a dead end until the walker restarts
        x = fk._next(state)
        q = fk._range(x >> np.uint64(32), tot)
        if q < n0:
            s = 0
        elif q < n0 + n1:
            s = 1
            q -= n0
        else:
            s = 2
            q -= n0 + n1
        g = I[s, ofl + q]
        l = I[s, H + g]
        lo = x & _LO
        if l == 2:
            a = np.int64(lo & np.uint64(1))
            b = 1 - a
        else:
            a = fk._range(lo, l)
            b = fk._range(fk._next(state) >> np.uint64(32), l - 1)
            if b >= a:
                b += 1
        i = np.int64(gmem[s, g, a])
        j = np.int64(gmem[s, g, b])
        alpha = 1 if (lo & np.uint64(2)) else -1
        tn = s + 1 if s < 2 else 0
        tp = tn + 1 if tn < 2 else 0
        # i: b_i + alpha b_j (slot tn); j: c_j - sg_i sg_j alpha c_i (slot tp)
        if zt and (_overflows(F[tn, i], F[tn, j], alpha) or _overflows(F[tp, j], F[tp, i], -sg[i] * sg[j] * alpha)):
            counters[4] += 1  # a 2 over the integers: refused like a flip the weight rules refuse
            since += 1
            continue
        pi, qi = _lin(F[tn, i], F[tn, j], alpha)
        pj, qj = _lin(F[tp, j], F[tp, i], -sg[i] * sg[j] * alpha)
        if (pi | qi) == np.uint64(0) or (pj | qj) == np.uint64(0):
            # i and j agree in two slots (only in a scheme that was never reduced): reduce instead
            pend_t[0] = i
            pend_s[0] = s
            r = _reduce(hk, gval, I, gmem, F, sg, r, pend_t, pend_s, 1, counters, zt)
            since = 0
            continue
        vi, ki = _canon(pi, qi)
        vj, kj = _canon(pj, qj)
        if weigh:
            w1 = _wt(vi)
            w2 = _wt(vj)
            refuse = max_weight > 0 and (w1 > max_weight or w2 > max_weight)
            if not refuse and weight_bias > 0.0:
                d = w1 + w2 - _wt(F[tn, i]) - _wt(F[tp, j])
                if d > 0:
                    u = np.float64(fk._next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                    refuse = u >= np.exp(-weight_bias * d)
            if refuse:
                counters[4] += 1
                since += 1  # toward the plateau too: a scheme whose flips are all refused still moves on
                continue
        counters[0] += 1
        since += 1
        sg[i] *= ki
        sg[j] *= kj
        li = fk._set(hk, gval, I, gmem, F, tn, i, vi)
        lj = fk._set(hk, gval, I, gmem, F, tp, j, vj)
        k1 = -1
        k2 = -1
        if li > 1:
            k1, _z = fk._partner(hk, gval, I, gmem, F, i, tn)
        if lj > 1:
            k2, _z = fk._partner(hk, gval, I, gmem, F, j, tp)
        if k1 >= 0 or k2 >= 0:
            pend_t[0] = i
            pend_s[0] = tn
            pend_t[1] = j
            pend_s[1] = tp
            r = _reduce(hk, gval, I, gmem, F, sg, r, pend_t, pend_s, 2, counters, zt)
            since = 0
    counters[3] = since
    return r


class Walker:
    """An indexed GF(3) walker kept across calls (the index is rebuilt when the scheme is replaced)."""

    def __init__(self, cap: int, ternary: bool = False):
        self.cap = cap
        self.zt = bool(ternary)
        self.ix = fk.make_index(cap)
        self.F = np.zeros((3, cap), dtype=np.uint64)
        self.sg = np.ones(cap, dtype=np.int64)
        self.r = 0

    def load(self, P, Q, r, counters=None):
        self.r = _from_planes(P, Q, int(r), self.F, self.sg)
        hk, gval, I, gmem = self.ix
        c = np.zeros(5, dtype=np.int64) if counters is None else counters
        self.r = _reduce_all(hk, gval, I, gmem, self.F, self.sg, self.r, c, self.zt)

    def walk(self, target, max_iters, plateau, max_rank, state, counters, max_weight=0, weight_bias=0.0):
        hk, gval, I, gmem = self.ix
        self.r = _walk(hk, gval, I, gmem, self.F, self.sg, self.r, int(target), int(max_iters), int(plateau),
                       int(max_rank), state, counters, int(max_weight), float(weight_bias), self.zt)
        return self.r

    def planes(self, P, Q):
        _to_planes(self.F, self.sg, self.r, P, Q)


def walk3ix(P, Q, r, target, max_iters, plateau, max_rank, state, counters, max_weight=0, weight_bias=0.0,
            ternary=False):
    """``gf3.walk3``'s call with this kernel: the planes are read, walked and written back; returns r.
    ``ternary``: the ZT walk (module doc)."""
    w = Walker(P.shape[1], ternary)
    w.load(P, Q, r, counters)
    r = w.walk(target, max_iters, plateau, max_rank, state, counters, max_weight, weight_bias)
    w.planes(P, Q)
    return r


def check(walker: Walker) -> int:
    """0 when the walker's index describes its scheme exactly (:func:`.flipkernel.check_index`)."""
    return fk.check_index(walker.ix, walker.F, walker.r)


def warm_up() -> None:
    from ..core.shape import Shape
    from .gf3 import standard_planes
    P, Q, r = standard_planes(Shape(2, 2, 2), 12)
    for zt in (False, True):
        walk3ix(P.copy(), Q.copy(), r, 0, 50, 5, r + 1, np.array([7], dtype=np.uint64), np.zeros(5, dtype=np.int64),
                3, 0.5, zt)
