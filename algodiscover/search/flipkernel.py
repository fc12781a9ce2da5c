"""The indexed flip-graph kernel: GF(2) walks at about ten million flips per second per thread.

The scheme is the bit-packed ``F`` of :mod:`.gf2` (``F[s, t]``: the factor of product t in slot
s = 0 (A), 1 (B), 2 (C), one uint64 mask each).  Beside it the kernel keeps, for each of the three
slots, an *index* from factor value to the products that carry it:

- a hash table with open addressing (linear probing, backward-shift deletion; key 0 = empty,
  because a factor of a product in a scheme is never zero) from value to a *group* id;
- per group its members (``gmem``, ``gsz``) and, per product, its group and place in it
  (``pg``, ``mpos``), so that moving a product between groups is O(1);
- the list of groups with two or more members (``flist``, ``fpos``): the flippable values.

A flip is drawn by choosing a flippable (slot, value) group uniformly among all of them, then an
ordered pair of distinct members uniformly within the group (the order decides which member
changes in the next slot and which in the previous one): for the usual groups of two, every
flippable pair is equally likely.  No scan of the r products is needed: every attempt with a
flippable group is a flip.  After each flip the two changed (product, slot) entries are checked
for *reductions* through the same index (a member of the new group that also shares one of the
two other factors is merged; merges cascade), so the walk never holds a reducible pair.  Plus
transitions (rank + 1) after ``plateau`` flips without a reduction follow Arai, Ichikawa &
Hukushima (2024), as in :mod:`.gf2`.

Walk versions (``version`` of :func:`walk`; the engine records it as the option ``kernel``):
version 1 spends an attempt on a scheme where no two products share a factor (it waits out the
plateau, one attempt at a time: on <4,4,4> near rank 49 most attempts went there); version 2 makes
the plus transition at once, so every attempt is a flip or a plus transition, and
looks for a reduction partner only where a changed factor's new value is shared.  Both share the
index code; version 1's sequence of moves is unchanged, so results found with it still replay.
Version 3 is version 2 ending each call at the last best-level scheme it visited; version 4 is version
2 where a scheme with no flippable pair (a rigid one: on <4,4,4> every rank-49 scheme the walk reaches
from the standard algorithm is such a Strassen square) is left by plus transitions up to ``max_rank`` in
one attempt, because a single plus transition there is undone by the next flip and reduction.  Versions
1-3 make exactly the moves they made before version 4 existed.  The engine's default is by shape
(:func:`.flip.default_kernel`: 1 below m*k*n = 100, else 2); ``LATEST`` is only the default argument
of :func:`walk` here.

The index is rebuilt from ``F`` at the start of every :func:`walk` call (O(r)), so a call's result
depends on ``F``, the RNG state and the counters only.  :func:`check_index` compares a maintained
index with a rebuild (the tests call it after many random steps).

Independent work with the same design idea: flip-cpd (Khoruzhii et al., C++, value -> position
blocks per component); nothing here is derived from its code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_MUL = np.uint64(2685821657736338717)

#: counters layout (int64 array of length >= 6)
FLIPS, REMOVED, PLUS, SINCE, ATTEMPTS, NOFLIP = range(6)
N_COUNTERS = 8


def new_counters() -> np.ndarray:
    return np.zeros(N_COUNTERS, dtype=np.int64)


def make_index(cap: int):
    """Arrays for the index of a scheme with at most ``cap`` products (allocated once per walker):
    ``(hk, gval, I, gmem)``.  ``hk`` (3 x H, uint64): hash keys; ``gval`` (3 x cap, uint64): each
    group's value; ``I`` (3 x W, int32) holds per slot, one after the other: the group of each hash
    slot (H), group sizes, the free-group stack, the flippable list, each group's place in it, each
    product's group, each product's place in its group (cap each), then the free count and the
    flippable count, then each group's hash slot (cap); ``gmem`` (3 x cap x cap, int32): the members
    of each group."""
    H = 16
    while H < 4 * cap:
        H *= 2
    hk = np.zeros((3, H), dtype=np.uint64)
    gval = np.zeros((3, cap), dtype=np.uint64)
    I = np.zeros((3, H + 7 * cap + 2), dtype=np.int32)
    gmem = np.zeros((3, cap, cap), dtype=np.int32)
    return (hk, gval, I, gmem)


# offsets into a row of I (H = hk.shape[1], c = cap = gval.shape[1])
# Inlining: the accessors, the random draws, the hash probes and the per-flip _set/_partner are inlined at numba's
# level (inline="always"); the larger index edits (_add, _add_at, _del, _hdelete) and the plus-transition
# helpers are plain calls, which LLVM inlines where it pays.  Inlining those too made the cold compile about 3x
# longer (29 s against 9 s) for no speed: paired 5-s walks from the standard algorithm ran 1.006x (<4,4,4>) and
# 1.045x (<5,5,5>) as many flips per CPU second without it (benchmarks/results/flip-kernel-inline.md).
@njit(cache=True, inline="always")
def _o_gsz(H, c):
    return H


@njit(cache=True, inline="always")
def _o_gfree(H, c):
    return H + c


@njit(cache=True, inline="always")
def _o_flist(H, c):
    return H + 2 * c


@njit(cache=True, inline="always")
def _o_fpos(H, c):
    return H + 3 * c


@njit(cache=True, inline="always")
def _o_pg(H, c):
    return H + 4 * c


@njit(cache=True, inline="always")
def _o_mpos(H, c):
    return H + 5 * c


@njit(cache=True, inline="always")
def _o_nfree(H, c):
    return H + 6 * c


@njit(cache=True, inline="always")
def _o_nflip(H, c):
    return H + 6 * c + 1


@njit(cache=True, inline="always")
def _o_gslot(H, c):
    return H + 6 * c + 2


# ---------------------------------------------------------------- random numbers
@njit(cache=True, inline="always")
def _next(state):
    # xorshift64*: fast, reproducible, one uint64 of state (the same generator as gf2)
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * _MUL


@njit(cache=True, inline="always")
def _step(x):
    """One xorshift64 step on a state held in a local (the output is ``_step(x) * _MUL``, as in :func:`_next`)."""
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x


@njit(cache=True, inline="always")
def _range(x32, n):
    """Map 32 random bits to [0, n) by multiply-shift (no division)."""
    return np.int64((x32 * np.uint64(n)) >> np.uint64(32))


# ---------------------------------------------------------------- the hash table
@njit(cache=True, inline="always")
def _home(v, mask):
    return np.int64(((v * _GOLD) >> np.uint64(40)) & np.uint64(mask))


@njit(cache=True, inline="always")
def _find(hk, s, v, mask):
    """The slot holding key v, or the empty slot where it would go."""
    i = _home(v, mask)
    while True:
        k = hk[s, i]
        if k == v or k == np.uint64(0):
            return i
        i = (i + 1) & mask


@njit(cache=True)
def _hdelete(hk, I, s, i, mask, gs):
    """Delete the key in slot i (backward-shift deletion keeps every probe chain unbroken); ``gs``:
    the offset of the groups' hash slots in I, kept up to date for every key that moves."""
    hk[s, i] = 0
    j = i
    while True:
        j = (j + 1) & mask
        k = hk[s, j]
        if k == np.uint64(0):
            return
        h = _home(k, mask)
        # may the key at j move to the hole at i? yes unless its home lies cyclically in (i, j]
        if i <= j:
            stay = i < h <= j
        else:
            stay = h > i or h <= j
        if not stay:
            hk[s, i] = k
            g = I[s, j]
            I[s, i] = g
            I[s, gs + g] = i
            hk[s, j] = 0
            i = j


# ---------------------------------------------------------------- group membership
@njit(cache=True)
def _add(hk, gval, I, gmem, s, t, v):
    """Enter product t with value v (nonzero) into slot s's index."""
    _add_at(hk, gval, I, gmem, s, t, v, _find(hk, s, v, hk.shape[1] - 1))


@njit(cache=True)
def _add_at(hk, gval, I, gmem, s, t, v, i):
    """:func:`_add` with i = the hash slot of v (or the empty slot where v goes) already found."""
    H = hk.shape[1]
    c = gval.shape[1]
    if hk[s, i] == v:
        g = I[s, i]
    else:
        nf = I[s, H + 6 * c] - 1
        I[s, H + 6 * c] = nf
        g = I[s, H + c + nf]
        hk[s, i] = v
        I[s, i] = g
        I[s, H + 6 * c + 2 + g] = i
        gval[s, g] = v
        I[s, H + g] = 0
    l = I[s, H + g]
    gmem[s, g, l] = t
    I[s, H + 5 * c + t] = l
    I[s, H + 4 * c + t] = g
    I[s, H + g] = l + 1
    if l == 1:  # becomes flippable
        nl = I[s, H + 6 * c + 1]
        I[s, H + 3 * c + g] = nl
        I[s, H + 2 * c + nl] = g
        I[s, H + 6 * c + 1] = nl + 1


@njit(cache=True)
def _del(hk, gval, I, gmem, s, t):
    """Take product t out of slot s's index."""
    H = hk.shape[1]
    c = gval.shape[1]
    g = I[s, H + 4 * c + t]
    l = I[s, H + g] - 1
    p = I[s, H + 5 * c + t]
    last = gmem[s, g, l]
    gmem[s, g, p] = last
    I[s, H + 5 * c + last] = p
    I[s, H + g] = l
    if l == 1:  # no longer flippable
        q = I[s, H + 3 * c + g]
        nl = I[s, H + 6 * c + 1] - 1
        I[s, H + 6 * c + 1] = nl
        h = I[s, H + 2 * c + nl]
        I[s, H + 2 * c + q] = h
        I[s, H + 3 * c + h] = q
    elif l == 0:
        gs = H + 6 * c + 2
        _hdelete(hk, I, s, I[s, gs + g], H - 1, gs)
        nf = I[s, H + 6 * c]
        I[s, H + c + nf] = g
        I[s, H + 6 * c] = nf + 1


@njit(cache=True, inline="always")
def _set(hk, gval, I, gmem, F, s, t, v):
    """Change product t's factor in slot s to v (nonzero), index kept; returns the size of t's new
    group (1: nobody else has v, so t has no reduction partner in slot s)."""
    H = hk.shape[1]
    c = gval.shape[1]
    g = I[s, H + 4 * c + t]
    mask = H - 1
    i = _find(hk, s, v, mask)
    if I[s, H + g] == 1:
        if hk[s, i] == np.uint64(0):
            # the common case: t alone leaves its value for a value nobody has: re-key its group
            # (enter v first, then delete the old key: the deletion's shifts keep the group's slot)
            gs = H + 6 * c + 2
            j = I[s, gs + g]
            hk[s, i] = v
            I[s, i] = g
            I[s, gs + g] = i
            gval[s, g] = v
            F[s, t] = v
            _hdelete(hk, I, s, j, mask, gs)
            return 1
        # t's group empties: its key is deleted, which may shift v's slot
        _del(hk, gval, I, gmem, s, t)
        F[s, t] = v
        _add(hk, gval, I, gmem, s, t, v)
        return I[s, H + I[s, H + 4 * c + t]]
    _del(hk, gval, I, gmem, s, t)  # the old group keeps a member: no key moves, slot i stays right
    F[s, t] = v
    _add_at(hk, gval, I, gmem, s, t, v, i)
    return I[s, H + I[s, H + 4 * c + t]]


@njit(cache=True)
def _build(hk, gval, I, gmem, F, r):
    H = hk.shape[1]
    c = gval.shape[1]
    for s in range(3):
        hk[s, :] = 0
        for g in range(c):
            I[s, H + c + g] = c - 1 - g
        I[s, H + 6 * c] = c
        I[s, H + 6 * c + 1] = 0
    for t in range(r):
        for s in range(3):
            _add(hk, gval, I, gmem, s, t, F[s, t])


def build_index(ix, F, r):
    """(Re)build the index of the first r products of F from scratch (products with a zero factor
    must have been removed first: see :func:`drop_zero_products`)."""
    hk, gval, I, gmem = ix
    _build(hk, gval, I, gmem, F, r)


@njit(cache=True)
def drop_zero_products(F, r):
    """Remove products with a zero factor (they contribute nothing); returns the new rank."""
    t = 0
    while t < r:
        if F[0, t] == np.uint64(0) or F[1, t] == np.uint64(0) or F[2, t] == np.uint64(0):
            r -= 1
            F[0, t] = F[0, r]
            F[1, t] = F[1, r]
            F[2, t] = F[2, r]
        else:
            t += 1
    return r


@njit(cache=True)
def _remove(hk, gval, I, gmem, F, r, p, pend_t, npend):
    """Delete product p (the last product moves into its place); fixes the index and the pending list."""
    H = hk.shape[1]
    c = gval.shape[1]
    for s in range(3):
        _del(hk, gval, I, gmem, s, p)
    last = r - 1
    for q in range(npend):
        if pend_t[q] == p:
            pend_t[q] = -1
    if last != p:
        for s in range(3):
            F[s, p] = F[s, last]
            g = I[s, H + 4 * c + last]
            m = I[s, H + 5 * c + last]
            gmem[s, g, m] = p
            I[s, H + 4 * c + p] = g
            I[s, H + 5 * c + p] = m
        for q in range(npend):
            if pend_t[q] == last:
                pend_t[q] = p
    return last


@njit(cache=True, inline="always")
def _partner(hk, gval, I, gmem, F, t, u):
    """A product sharing slot u's factor and one more factor with product t: (k, z) with z the slot
    where they differ, or (-1, -1)."""
    H = hk.shape[1]
    c = gval.shape[1]
    g = I[u, H + 4 * c + t]
    l = I[u, H + g]
    if l < 2:
        return -1, -1
    u1 = u + 1 if u < 2 else 0
    u2 = u1 + 1 if u1 < 2 else 0
    a1 = F[u1, t]
    a2 = F[u2, t]
    for q in range(l):
        k = gmem[u, g, q]
        if k == t:
            continue
        if F[u1, k] == a1:
            return k, u2
        if F[u2, k] == a2:
            return k, u1
    return -1, -1


@njit(cache=True)
def _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, npend, counters):
    """Apply every reduction reachable from the pending (product, changed slot) entries."""
    while npend > 0:
        npend -= 1
        t = pend_t[npend]
        u = pend_s[npend]
        if t < 0 or t >= r:
            continue
        k, z = _partner(hk, gval, I, gmem, F, t, u)
        if k < 0:
            continue
        # t and k share two factors: merge t into k (k's factor in slot z becomes the sum)
        nv = F[z, k] ^ F[z, t]
        last = r - 1
        r = _remove(hk, gval, I, gmem, F, r, t, pend_t, npend)
        if k == last:
            k = t
        counters[REMOVED] += 1
        if nv == np.uint64(0):
            r = _remove(hk, gval, I, gmem, F, r, k, pend_t, npend)
            counters[REMOVED] += 1
        else:
            _set(hk, gval, I, gmem, F, z, k, nv)
            if npend < pend_t.shape[0]:
                pend_t[npend] = k
                pend_s[npend] = z
                npend += 1
    return r


@njit(cache=True)
def _every_entry(r):
    """A pending list of every (product, slot) entry of r products, with room for the merges it causes:
    (pend_t, pend_s, count)."""
    n = 3 * r + 64
    pend_t = np.empty(n, dtype=np.int64)
    pend_s = np.empty(n, dtype=np.int64)
    npend = 0
    for t in range(r):
        for s in range(3):
            pend_t[npend] = t
            pend_s[npend] = s
            npend += 1
    return pend_t, pend_s, npend


@njit(cache=True)
def _reduce_all(hk, gval, I, gmem, F, r, counters):
    r = drop_zero_products(F, r)
    _build(hk, gval, I, gmem, F, r)
    pend_t, pend_s, npend = _every_entry(r)
    return _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, npend, counters)


def reduce_all(ix, F, r, counters=None):
    """Build the index and apply every available reduction; returns the new rank."""
    hk, gval, I, gmem = ix
    return _reduce_all(hk, gval, I, gmem, F, r, new_counters() if counters is None else counters)


@njit(cache=True)
def _plus_draw(state, r):
    """A plus transition's random choices: two distinct products i, j of r and an order of the slots
    (p0 and p2 change, p1 stays); the GF(3) kernel draws them the same way."""
    x = _next(state)
    i = _range(x >> np.uint64(32), r)
    j = _range(x & np.uint64(0xFFFFFFFF), r - 1)
    if j >= i:
        j += 1
    y = _next(state)
    p0 = np.int64(_range(y >> np.uint64(32), 3))
    if y & np.uint64(1):
        p1 = (p0 + 1) % 3
        p2 = (p0 + 2) % 3
    else:
        p1 = (p0 + 2) % 3
        p2 = (p0 + 1) % 3
    return i, j, p0, p1, p2


@njit(cache=True)
def _plus_pending(pend_t, pend_s, i, p0, j, p2, r):
    """The entries a plus transition changed (i in slot p0, j in slot p2, every slot of the new product
    r), written to the pending list; returns their count."""
    pend_t[0] = i
    pend_s[0] = p0
    pend_t[1] = j
    pend_s[1] = p2
    for s in range(3):
        pend_t[2 + s] = r
        pend_s[2 + s] = s
    return 5


@njit(cache=True)
def _plus(hk, gval, I, gmem, F, r, state, pend_t, pend_s):
    """One plus transition (rank + 1), index kept; returns (new rank, pending count)."""
    if r < 2 or r >= F.shape[1]:
        return r, 0
    for _ in range(64):
        i, j, p0, p1, p2 = _plus_draw(state, r)
        if F[p0, i] == F[p0, j] or F[p1, i] == F[p1, j] or F[p2, i] == F[p2, j]:
            continue
        # (a_i,b_i,c_i) + (a_j,b_j,c_j) = (a_i+a_j, b_i, c_i) + (a_j, b_j, c_j+c_i) + (a_j, b_i+b_j, c_i)
        F[p0, r] = F[p0, j]
        F[p1, r] = F[p1, i] ^ F[p1, j]
        F[p2, r] = F[p2, i]
        for s in range(3):
            _add(hk, gval, I, gmem, s, r, F[s, r])
        _set(hk, gval, I, gmem, F, p0, i, F[p0, i] ^ F[p0, j])
        _set(hk, gval, I, gmem, F, p2, j, F[p2, j] ^ F[p2, i])
        return r + 1, _plus_pending(pend_t, pend_s, i, p0, j, p2, r)
    return r, 0


@njit(cache=True)
def _walk_ix(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters):
    H = hk.shape[1]
    c = gval.shape[1]
    onl = H + 6 * c + 1
    pend_t = np.empty(64, dtype=np.int64)
    pend_s = np.empty(64, dtype=np.int64)
    since = counters[SINCE]
    flips = counters[FLIPS]
    attempts = counters[ATTEMPTS]
    for _ in range(max_iters):
        if r <= target:
            break
        attempts += 1
        if since >= plateau:
            since = 0
            if r < max_rank:
                r2, npend = _plus(hk, gval, I, gmem, F, r, state, pend_t, pend_s)
                if r2 > r:
                    counters[PLUS] += 1
                    r = _reduce(hk, gval, I, gmem, F, r2, pend_t, pend_s, npend, counters)
        n0 = I[0, onl]
        n1 = I[1, onl]
        tot = n0 + n1 + I[2, onl]
        x = _next(state)
        if tot == 0:  # no two products share a factor: only a plus transition leaves this scheme
            counters[NOFLIP] += 1
            since += 1
            continue
        q = _range(x >> np.uint64(32), tot)
        if q < n0:
            s = 0
        elif q < n0 + n1:
            s = 1
            q -= n0
        else:
            s = 2
            q -= n0 + n1
        g = I[s, H + 2 * c + q]
        l = I[s, H + g]
        lo = x & np.uint64(0xFFFFFFFF)
        if l == 2:
            a = np.int64(lo & np.uint64(1))
            b = 1 - a
        else:
            a = _range(lo, l)
            b = _range(_next(state) >> np.uint64(32), l - 1)
            if b >= a:
                b += 1
        i = np.int64(gmem[s, g, a])
        j = np.int64(gmem[s, g, b])
        tn = s + 1 if s < 2 else 0
        tp = tn + 1 if tn < 2 else 0
        vi = F[tn, i] ^ F[tn, j]
        vj = F[tp, j] ^ F[tp, i]
        flips += 1
        since += 1
        if vi == np.uint64(0) or vj == np.uint64(0):
            # i and j share two factors (only in a scheme that was never reduced): reduce instead
            pend_t[0] = i
            pend_s[0] = s
            r = _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, 1, counters)
            since = 0
            continue
        _set(hk, gval, I, gmem, F, tn, i, vi)
        _set(hk, gval, I, gmem, F, tp, j, vj)
        # the reduction check: only the two changed entries can have created a reducible pair
        k1, z1 = _partner(hk, gval, I, gmem, F, i, tn)
        k2, z2 = _partner(hk, gval, I, gmem, F, j, tp)
        if k1 >= 0 or k2 >= 0:
            pend_t[0] = i
            pend_s[0] = tn
            pend_t[1] = j
            pend_s[1] = tp
            r = _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, 2, counters)
            since = 0
    counters[SINCE] = since
    counters[FLIPS] = flips
    counters[ATTEMPTS] = attempts
    return r


@njit(cache=True)
def _walk_ix2(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters, keep, kick=False):
    """Kernel version 2: every attempt is a move.  An attempt is a flip (uniform among flippable
    pairs, as in version 1) or, after ``plateau`` flips without a reduction *or at once when no two
    products share a factor*, a plus transition; only a scheme with no flippable pair at
    ``max_rank`` (nothing to do) spends the call's remaining attempts at once (counted in NOFLIP).
    After a flip, a changed entry is looked at for a reduction partner only when its new value is
    shared (the group it joined has two or more members).

    ``keep`` (version 3): a call that ends above rank target + 1 (the walker's best level) after
    visiting that level ends at the last scheme of that level it visited (index rebuilt), so the
    walker sees best-level schemes at call ends (pools, goal schemes) as often as version 1 did."""
    H = hk.shape[1]
    c = gval.shape[1]
    onl = H + 6 * c + 1
    ofl = H + 2 * c
    pend_t = np.empty(64, dtype=np.int64)
    pend_s = np.empty(64, dtype=np.int64)
    since = counters[SINCE]
    flips = counters[FLIPS]
    attempts = counters[ATTEMPTS]
    xs = state[0]  # the generator's state in a local (written back before _plus and at the end)
    lvl = target + 1
    snap = np.empty((3, F.shape[1]), dtype=np.uint64)
    have = False
    if keep and r == lvl:
        snap[:, :r] = F[:, :r]
        have = True
    for it in range(max_iters):
        if r <= target:
            break
        attempts += 1
        n0 = I[0, onl]
        n1 = I[1, onl]
        tot = n0 + n1 + I[2, onl]
        if since >= plateau or tot == 0:
            since = 0
            if r < max_rank:
                state[0] = xs
                r2, npend = _plus(hk, gval, I, gmem, F, r, state, pend_t, pend_s)
                xs = state[0]
                if r2 > r:
                    counters[PLUS] += 1
                    r = _reduce(hk, gval, I, gmem, F, r2, pend_t, pend_s, npend, counters)
                    if keep and r == lvl:
                        snap[:, :r] = F[:, :r]
                        have = True
                    if kick and tot == 0:
                        # version 4: a scheme with no flippable pair (a rigid one, such as the Strassen
                        # square of <4,4,4>:49) is left by plus transitions up to max_rank at once, in the
                        # same attempt; one plus transition alone is undone by the next flip and reduction
                        while r < max_rank:
                            state[0] = xs
                            r2, npend = _plus(hk, gval, I, gmem, F, r, state, pend_t, pend_s)
                            xs = state[0]
                            if r2 <= r:
                                break
                            counters[PLUS] += 1
                            r = _reduce(hk, gval, I, gmem, F, r2, pend_t, pend_s, npend, counters)
                    continue
            if tot == 0:
                # no flip and no plus transition: this scheme is a dead end until the walker restarts
                rest = max_iters - it
                counters[NOFLIP] += rest
                attempts += rest - 1
                break
        xs = _step(xs)
        x = xs * _MUL
        q = _range(x >> np.uint64(32), tot)
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
        lo = x & np.uint64(0xFFFFFFFF)
        if l == 2:
            a = np.int64(lo & np.uint64(1))
            b = 1 - a
        else:
            a = _range(lo, l)
            xs = _step(xs)
            b = _range((xs * _MUL) >> np.uint64(32), l - 1)
            if b >= a:
                b += 1
        i = np.int64(gmem[s, g, a])
        j = np.int64(gmem[s, g, b])
        tn = s + 1 if s < 2 else 0
        tp = tn + 1 if tn < 2 else 0
        vi = F[tn, i] ^ F[tn, j]
        vj = F[tp, j] ^ F[tp, i]
        flips += 1
        since += 1
        if vi == np.uint64(0) or vj == np.uint64(0):
            # i and j share two factors (only in a scheme that was never reduced): reduce instead
            pend_t[0] = i
            pend_s[0] = s
            r = _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, 1, counters)
            since = 0
            continue
        li = _set(hk, gval, I, gmem, F, tn, i, vi)
        lj = _set(hk, gval, I, gmem, F, tp, j, vj)
        # the reduction check: only the two changed entries can have created a reducible pair, and
        # only where the new value is shared
        k1 = -1
        k2 = -1
        if li > 1:
            k1, z1 = _partner(hk, gval, I, gmem, F, i, tn)
        if lj > 1:
            k2, z2 = _partner(hk, gval, I, gmem, F, j, tp)
        if k1 >= 0 or k2 >= 0:
            pend_t[0] = i
            pend_s[0] = tn
            pend_t[1] = j
            pend_s[1] = tp
            r = _reduce(hk, gval, I, gmem, F, r, pend_t, pend_s, 2, counters)
            since = 0
            if keep and r == lvl:
                snap[:, :r] = F[:, :r]
                have = True
    if keep and have and r > lvl:
        F[:, :lvl] = snap[:, :lvl]
        F[:, lvl:] = 0
        r = lvl
        since = 0
        _build(hk, gval, I, gmem, F, r)
    state[0] = xs
    counters[SINCE] = since
    counters[FLIPS] = flips
    counters[ATTEMPTS] = attempts
    return r


#: the kernel versions: 1 = the walk of the first indexed kernel (kept so that results found with it
#: replay), 2 = every attempt a move, 3 = 2 and a call ends at the last best-level scheme it visited
#: (walk()'s default argument; the engine chooses by shape, flip.default_kernel), 4 = 2 and a scheme with no flippable pair is left by plus transitions up to max_rank
#: in one attempt (the walker's best level + climb; with climb 1 the same moves as version 2)
VERSIONS = (1, 2, 3, 4)
LATEST = 3


def _check_version(version):
    if version not in VERSIONS:
        raise ValueError(f"flip kernel version must be one of {VERSIONS}, got {version!r}")


def walk_ix(ix, F, r, target, max_iters, plateau, max_rank, state, counters, version=LATEST):
    """The walk on an index already built for F (see :func:`walk`)."""
    _check_version(version)
    hk, gval, I, gmem = ix
    if version == 1:
        return _walk_ix(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters)
    return _walk_ix2(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters, version == 3,
                     version == 4)


@njit(cache=True)
def _walk(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters):
    r = _reduce_all(hk, gval, I, gmem, F, r, counters)
    return _walk_ix(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters)


@njit(cache=True)
def _walk2(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters, keep, kick=False):
    r = _reduce_all(hk, gval, I, gmem, F, r, counters)
    return _walk_ix2(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters, keep, kick)


def walk(ix, F, r, target, max_iters, plateau, max_rank, state, counters, version=LATEST):
    """A random walk of flips with reductions, until rank <= target or ``max_iters`` attempts.

    Builds the index from F (removing products with a zero factor and applying every reduction
    first), then walks.  ``plateau``: after this many flips without a reduction, one plus
    transition (only while r < max_rank).  ``counters`` (int64, see ``FLIPS`` ...) accumulates
    flips, products removed by reductions, plus transitions, flips since the last reduction,
    attempts and attempts without any flippable pair.  ``version`` (see :data:`VERSIONS`): 1 spends
    an attempt on a scheme with no flippable pair (waiting out the plateau), 2 makes a plus
    transition at once, so every attempt is a flip or a plus transition.  Returns the new rank;
    F[:, :r] is the scheme.
    """
    _check_version(version)
    hk, gval, I, gmem = ix
    if version == 1:
        return _walk(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters)
    return _walk2(hk, gval, I, gmem, F, r, target, max_iters, plateau, max_rank, state, counters, version == 3,
                  version == 4)


@njit(cache=True)
def _check(hk, gval, I, gmem, F, r):
    H = hk.shape[1]
    c = gval.shape[1]
    mask = H - 1
    for s in range(3):
        for t in range(r):
            v = F[s, t]
            if v == np.uint64(0):
                return 1
            i = _find(hk, s, v, mask)
            if hk[s, i] != v:
                return 2
            g = I[s, i]
            if I[s, H + 4 * c + t] != g or gval[s, g] != v:
                return 3
            if gmem[s, g, I[s, H + 5 * c + t]] != t:
                return 4
        nkeys = 0
        members = 0
        nflippable = 0
        for i in range(H):
            v = hk[s, i]
            if v == np.uint64(0):
                continue
            nkeys += 1
            g = I[s, i]
            if I[s, H + 6 * c + 2 + g] != i:
                return 9
            l = I[s, H + g]
            if l < 1:
                return 5
            members += l
            for q in range(l):
                t = gmem[s, g, q]
                if t < 0 or t >= r or F[s, t] != v or I[s, H + 5 * c + t] != q:
                    return 6
            if l >= 2:
                nflippable += 1
                if I[s, H + 2 * c + I[s, H + 3 * c + g]] != g:
                    return 7
        if members != r or nflippable != I[s, H + 6 * c + 1] or nkeys + I[s, H + 6 * c] != c:
            return 8
    return 0


def check_index(ix, F, r):
    """0 when the maintained index describes F[:, :r] exactly (every product in the group of its
    value, group sizes, the flippable list and the hash table all consistent), else an error code."""
    hk, gval, I, gmem = ix
    return _check(hk, gval, I, gmem, F, r)


def index_groups(ix, F, r) -> list[dict]:
    """The index as plain data: per slot, {value: sorted members} (to compare with a rebuild)."""
    hk, gval, I, gmem = ix
    H, c = hk.shape[1], gval.shape[1]
    out = []
    for s in range(3):
        d = {}
        for i in range(H):
            v = int(hk[s, i])
            if v:
                g = int(I[s, i])
                d[v] = sorted(int(t) for t in gmem[s, g, :int(I[s, H + g])])
        out.append(d)
    return out


def flippable_count(ix) -> int:
    hk, gval, I, gmem = ix
    H, c = hk.shape[1], gval.shape[1]
    return int(sum(I[s, H + 6 * c + 1] for s in range(3)))


@njit(cache=True)
def has_reducible_pair(F, r):
    """True when two products share two factors (a brute-force O(r^2) check, for tests)."""
    for i in range(r):
        for j in range(i + 1, r):
            same = 0
            for s in range(3):
                if F[s, i] == F[s, j]:
                    same += 1
            if same >= 2:
                return True
    return False


def warm_up() -> float:
    """Compile (or load from cache) the kernel; returns the seconds it took."""
    import time

    from ..core.shape import Shape
    from .gf2 import standard_bits
    t0 = time.perf_counter()
    F, r = standard_bits(Shape(2, 2, 2), cap=12)
    ix = make_index(12)
    state = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
    counters = new_counters()
    walk(ix, F, r, 0, 10, 5, r + 1, state, counters)
    check_index(ix, F, r)
    return time.perf_counter() - t0
