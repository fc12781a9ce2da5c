"""Symmetric flip-graph search: GF(2) schemes for <n,n,n> invariant under a group of order 3 or 6, and for
<m,k,m> under a twisted transposition (order 2).

Moosbauer & Poole ("Flip graphs with symmetry and new matrix multiplication schemes", 2025) walk
the flip graph restricted to schemes that are invariant under the cyclic symmetry of the matrix
multiplication tensor; this module does the same in the project's convention (W_c indexes C, not
C^T).  A product is ``p = (A, B, C)`` with A, B, C n x n matrices (C indexed like the result C).

The group elements (all map correct schemes to correct schemes, :mod:`algodiscover.symmetry.group`):

- ``g``  (the cycle of :func:`algodiscover.core.transform.cycle` on square shapes):
  ``(A, B, C) -> (B, C^T, A^T)``, order 3;
- ``tau`` (the transposition (AB)^T = B^T A^T): ``(A, B, C) -> (B^T, A^T, C^T)``;
- ``rho`` (the basis change X = Y = Z = P, P the n x n reversal permutation):
  ``(A, B, C) -> (P A P, P B P, P C P)``.

``symmetry``:

- ``"c3"``: the cyclic group <g> (order 3);
- ``"s3"``: <g, tau rho>, the order-6 group with (twisted) transposition, isomorphic to S3.
  The plain <g, tau> admits no walk of this kind: every orbit of standard products with a repeated
  index has a stabiliser of even order, and over GF(2) such an orbit sum is no sum of free orbits,
  so no seed exists; composing the transposition with the reversal P frees those orbits for even n
  (for odd n the middle index is fixed, and ``s3`` is refused);
- ``"z6"``: <g, rho> (cyclic x reversal), the 6-way symmetry of Moosbauer & Poole's solver;
- ``"t2"`` (shapes <m,k,m>, not only square ones): the twisted transposition
  ``(A, B, C) -> (B^T Q, Q A^T, C^T)``, Q the k x k reversal (order 2; (AB)^T = B^T Q Q A^T).  Its seed is the
  standard algorithm: the products it fixes, e_ij (x) e_ji (x) e_ii with j the middle index of an odd k (m of
  them; none for even k), are the fixed part, the others pair into orbits.  The fixed part never changes, so
  every rank the walk reaches is m*k*m minus an even number (<4,5,4>: even ranks only).  Compared with the
  plain transposition (Q = 1, whose m*k fixed standard products would stay fixed), the twist frees all but m.

An invariant scheme here is a *fixed part* (the diagonal cubes (D, D, D), D diagonal 0/1, which
every group element fixes or permutes) plus *free orbits* of |G| products.  The orbit of a
representative p is stored as |G| consecutive columns, column h = h(p).  Every element h maps slot s
of a product to slot SLOT[h, s] (with a fixed permutation of the bits, a transposition and/or the
reversal, which is linear over GF(2)), so a flip of two products i, j of different orbits, and its
images under every h, is the same XOR update applied to the pairs (h i, h j) with the slots renamed
by SLOT[h]: no transposition is computed in the walk.  An *orbit flip* (|G| flips at once) counts
as one flip.  Reductions act on whole orbits (rank - |G|); a move that would make an orbit
degenerate (two of its products sharing two factors) is undone, so the stored layout always
describes a free orbit.  Plus transitions add one orbit (rank + |G|).

Seeds (``init="symmetric"``): the diagonal cubes (default: the index pairs {i, n-1-i} and the middle
index, Moosbauer & Poole's choice for <5,5,5>, "10001 01010 00100") and the rest of
T - sum(cubes) mod 2 (standard products and the cubes' off-diagonal terms), which splits into free
orbits of elementary products.

Kernels of the c3 walk (option ``kernel``, recorded in provenance): 1, :func:`c3_walk` (a random value,
its hash bucket scanned for a partner: at low rank most draws find none); 2, :func:`c3_walk2` (the
occurrences of every value and the list of those whose value occurs twice are kept, so every draw is a
flip; the orbit values stay the state between kernel calls); 3, :func:`c3_walk3` (the default for new
runs: kernel 2's lists, drawing a repeated value uniformly and then a pair of its occurrences, as
symmetric-flips does; kernel 2 draws an occurrence uniformly, the law of kernel 1's successful draws).
The moves, reductions and plus transitions are the same; a provenance without ``kernel`` replays with
kernel 1.

Walkers (``workers``, default all cores from m*k*n = 24 on, as the other engines): each is an independent
walk in its own process with :func:`walker_seed` (seed, w) -- walker 0 with the seed itself, so one walker
is the walk it always was -- that lifts and proves what it finds; the parent proves every scheme again,
keeps one per canonical key and records ``walker`` and ``worker_seed`` in provenance (a replay walks one
walker with that seed).  With ``checkpoint=DIR`` walker w keeps ``DIR/walkers/walker-00w.json``.

Lifting to characteristic 0 (:mod:`.lift`) first tries to keep the symmetry (the Hensel corrections
are solved for the orbit representatives only, so that every lifted orbit is again an orbit), then
lifts without it.  Every yielded scheme passed ``verify``; provenance says whether it is invariant.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from numba import njit

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.verify import verify
from ..errors import AlgoDiscoverError, RankError, ShapeError
from . import Budget, Progress
from ._parallel import walker_seed  # noqa: F401  (walker w's seed; documented here too)

ENGINE = "flip"
SYMMETRIES = ("none", "c3", "s3", "z6", "t2")
CHUNK = 1 << 16
# in orbit flips; the defaults are those of Moosbauer & Poole's r5-93-1.txt, which counts single flips:
# a plus transition after 50000 flips (16667 orbit flips), plus transitions up to the seed's rank
# (climb 0), a restart after 10^8 flips (3.3 * 10^7 orbit flips) without a new best rank
DEFAULTS = {"plateau": 16_667, "restart_after": 33_333_333, "pool_size": 16, "climb": 0}
#: the walker state of a checkpointed symmetric search (DIR/walkers/walker-000.json; module doc of search.flip
#: for the directory: checkpoint.json with the resolved options, schemes/ with every proven scheme)
WALKER_FORMAT = "algodiscover.flip-sym-walker/1"
CHECKPOINT_EVERY = 5.0
RESTART_FROM = ("seed", "pool")  # after restart_after orbit flips without a new best: a fresh run, or a pool
#: kernel versions of the c3 walk (option ``kernel``, recorded in provenance): 1 = :func:`c3_walk` (bucket
#: scan per draw; what a provenance without ``kernel`` ran), 2 = :func:`c3_walk2` (kept pair lists),
#: 3 = :func:`c3_walk3` (the same lists, symmetric-flips' law of draws: a repeated value uniformly, then a pair)
KERNELS = (1, 2, 3)
# for new runs: kernels 2 and 3 run 1.9x and 1.75x kernel 1's orbit flips/s; in 300-s searches for <5,5,5>:93
# (seeds 1-3) kernel 3 reached 96, 93 (proven), 99 and kernel 2 96, 99, 99 (benchmarks/results/flip-sym-kernel.md)
DEFAULT_KERNEL = 3


class SymmetryOptionError(AlgoDiscoverError, ValueError):
    """A symmetric-search option that cannot be used."""


# ---------------------------------------------------------------- the group
def _bit_perm_transpose(n: int) -> np.ndarray:
    return np.array([(x % n) * n + x // n for x in range(n * n)], dtype=np.int64)


def _bit_perm_reverse(n: int) -> np.ndarray:
    return np.array([n * n - 1 - x for x in range(n * n)], dtype=np.int64)


class Group:
    """A finite group acting on products of <n,n,n> (or, for ``t2``, of <m,k,m>): element h sends slot s of a
    product to slot ``slot[h, s]`` with the bit permutation ``perm[h, s]`` (bit x goes to bit ``perm[h, s, x]``;
    the arrays are padded with the identity to the largest factor size).
    Element 0 is the identity; ``mul[h, a]`` is the index of h o e_a.  ``shape`` is n (square) or (m, k, n)."""

    def __init__(self, name: str, shape):
        m, k, n = (shape, shape, shape) if isinstance(shape, (int, np.integer)) else tuple(int(x) for x in shape)
        self.name, self.n, self.shape = name, n, (m, k, n)
        self.sizes = (m * k, k * n, m * n)
        N = max(self.sizes)
        ident = np.arange(N, dtype=np.int64)

        def padded(f, size):
            out = ident.copy()
            out[:size] = [f(x) for x in range(size)]
            return out
        if name == "t2":
            if m != n:
                raise SymmetryOptionError(f"--symmetry t2 needs a shape <m,k,m> (the transposition maps <m,k,n> "
                                          f"to <n,k,m>), got <{m},{k},{n}>")
            # (A, B, C) -> (B^T Q, Q A^T, C^T), Q the k x k reversal: A's bit (i, j) goes to B's bit (Q(j), i),
            # B's bit (j, l) to A's bit (l, Q(j)), C's bit (i, l) to C's bit (l, i)
            qr = lambda j: k - 1 - j  # noqa: E731
            tt = ((1, 0, 2), (padded(lambda x: qr(x % k) * m + x // k, m * k),
                              padded(lambda x: (x % m) * k + qr(x // m), k * m),
                              padded(lambda x: (x % m) * m + x // m, m * m)))
            gens = [tt]
        else:
            if not (m == k == n):
                raise SymmetryOptionError(f"--symmetry {name} needs a square shape <n,n,n>, got <{m},{k},{n}>")
            T, R = _bit_perm_transpose(n), _bit_perm_reverse(n)
            # generators as (slot map, per-source-slot bit permutation)
            g = ((2, 0, 1), (T, ident, T))           # (A,B,C) -> (B, C^T, A^T): slot0->2 (T), slot1->0, slot2->1 (T)
            tau = ((1, 0, 2), (T, T, T))             # (A,B,C) -> (B^T, A^T, C^T)
            rho = ((0, 1, 2), (R, R, R))             # (A,B,C) -> (PAP, PBP, PCP)
            # rho after tau; bit permutations p then q compose to x -> q[p[x]], the array q[p]
            taurho = (tau[0], tuple(R[p] for p in tau[1]))
            gens = {"c3": [g], "s3": [g, taurho], "z6": [g, rho]}[name]
        elements = [((0, 1, 2), (ident, ident, ident))]
        keys = {self._key(elements[0])}
        frontier = list(elements)
        while frontier:
            e = frontier.pop(0)
            for gen in gens:
                h = self._compose(gen, e)
                k_ = self._key(h)
                if k_ not in keys:
                    keys.add(k_)
                    elements.append(h)
                    frontier.append(h)
        self.elements = elements
        G = len(elements)
        self.order = G
        self.slot = np.array([e[0] for e in elements], dtype=np.int64)
        self.perm = np.array([[e[1][s] for s in range(3)] for e in elements], dtype=np.int64)
        index = {self._key(e): i for i, e in enumerate(elements)}
        self.mul = np.zeros((G, G), dtype=np.int64)
        for h in range(G):
            for a in range(G):
                self.mul[h, a] = index[self._key(self._compose(elements[h], elements[a]))]

    @staticmethod
    def _key(e):
        return (tuple(e[0]), tuple(tuple(int(v) for v in p) for p in e[1]))

    @staticmethod
    def _compose(h2, h1):
        """h2 o h1: slot s -> h2.slot[h1.slot[s]], bits x -> h2.perm[h1.slot[s]][h1.perm[s][x]]."""
        s1, p1 = h1
        s2, p2 = h2
        slots = tuple(s2[s1[s]] for s in range(3))
        perms = tuple(p2[s1[s]][p1[s]] for s in range(3))
        return (slots, perms)

    def apply(self, h: int, cols: np.ndarray) -> np.ndarray:
        """Image under element h of products given as a (3, r) array of bit masks (uint64)."""
        N = self.perm.shape[2]
        out = np.zeros_like(cols)
        for s in range(3):
            bits = (cols[s][:, None] >> np.arange(N, dtype=np.uint64)[None, :]) & np.uint64(1)
            moved = np.zeros_like(bits)
            moved[:, self.perm[h, s]] = bits
            out[self.slot[h, s]] = (moved << np.arange(N, dtype=np.uint64)[None, :]).sum(axis=1, dtype=np.uint64)
        return out

    def apply_int(self, h: int, a: np.ndarray, b: np.ndarray, c: np.ndarray):
        """Image under h of integer factor matrices (rows = products; c rows index C): a bit permutation
        of each factor, so it is exact over any ring."""
        src = (a, b, c)
        out = [None, None, None]
        for s in range(3):
            M = np.zeros_like(src[s])
            M[:, self.perm[h, s, :self.sizes[s]]] = src[s]
            out[self.slot[h, s]] = M
        return out


def symmetry_group(name: str, n) -> Group:
    """The group of ``--symmetry name`` on <n,n,n> (n an int) or, for ``t2``, on <m,k,m> (n a shape)."""
    if name not in SYMMETRIES or name == "none":
        raise SymmetryOptionError(f"symmetry must be one of {', '.join(SYMMETRIES[1:])} for a symmetric search, "
                                  f"got {name!r}")
    if name == "t2":
        return Group(name, n)
    n = n if isinstance(n, (int, np.integer)) else n[0]
    if name == "s3" and n % 2 == 1:
        raise SymmetryOptionError(f"--symmetry s3 needs an even n (its transposition composed with the reversal "
                                  f"fixes the middle index of <{n},{n},{n}>, so no free-orbit seed exists); "
                                  f"use c3 or z6")
    return Group(name, n)


# ---------------------------------------------------------------- seeds
def default_cubes(n: int) -> list[tuple[int, ...]]:
    """The index pairs {i, n-1-i} (and the middle index when n is odd): "10001 01010 00100" for n = 5."""
    out = [(i, n - 1 - i) for i in range(n // 2)]
    if n % 2:
        out.append((n // 2,))
    return out


def parse_cubes(text, n: int) -> list[tuple[int, ...]]:
    """"10001,01010,00100" (or a list of such strings / of index tuples) -> index sets."""
    if text is None:
        return default_cubes(n)
    parts = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    out = []
    for p in parts:
        if isinstance(p, str):
            if len(p) != n or set(p) - {"0", "1"}:
                raise SymmetryOptionError(f"a diagonal cube is a 0/1 string of length {n}, got {p!r}")
            out.append(tuple(i for i, ch in enumerate(p) if ch == "1"))
        else:
            out.append(tuple(int(i) for i in p))
    seen = [i for S in out for i in S]
    if sorted(seen) != list(range(n)):
        raise SymmetryOptionError(f"the diagonal cubes must cover every index 0..{n - 1} exactly once, got {text!r}")
    return out


def symmetric_seed(n: int, group: Group, cubes=None):
    """(fixed, orbits): the diagonal cubes as a (3, c) array and the free orbits of T - cubes as a
    (3, |G| * o) array in the orbit layout.  Raises SymmetryOptionError if the cubes do not allow a seed."""
    cubes = default_cubes(n) if cubes is None else cubes
    from collections import Counter
    terms: Counter = Counter()
    for i in range(n):
        for j in range(n):
            for l in range(n):
                terms[(1 << (i * n + j), 1 << (j * n + l), 1 << (i * n + l))] += 1
    fixed = []
    for S in cubes:
        d = sum(1 << (i * n + i) for i in S)
        fixed.append((d, d, d))
        for i in S:
            for j in S:
                for l in S:
                    terms[(1 << (i * n + i), 1 << (j * n + j), 1 << (l * n + l))] += 1
    rest = sorted(t for t, v in terms.items() if v % 2)
    fixed_arr = np.array(fixed, dtype=np.uint64).T.reshape(3, -1)
    if not _is_invariant_set(group, fixed_arr):
        raise SymmetryOptionError(f"the diagonal cubes {cubes} are not invariant under {group.name}")
    left = set(rest)
    G = group.order
    cols = []
    for t in rest:
        if t not in left:
            continue
        rep = np.array(t, dtype=np.uint64).reshape(3, 1)
        orb = [tuple(int(v) for v in group.apply(h, rep)[:, 0]) for h in range(G)]
        if len(set(orb)) != G or any(p not in left for p in orb):
            raise SymmetryOptionError(f"T minus the diagonal cubes {cubes} is not a sum of free {group.name}-orbits "
                                      f"(for n = {n}); choose other cubes")
        for p in orb:
            left.discard(p)
        cols.extend(orb)
    orbits = np.array(cols, dtype=np.uint64).T.reshape(3, -1)
    return fixed_arr, orbits


def transposition_seed(group: Group):
    """(fixed, orbits) of ``t2``: the standard algorithm of <m,k,m>, its products fixed by the twisted
    transposition (e_ij, e_ji, e_ii with j the middle index of an odd k: m of them, none for even k) as the fixed
    part and the others in orbits of two."""
    from . import gf2
    s = parse_shape(group.shape)
    F, r = gf2.standard_bits(s)
    cols = F[:, :r]
    img = group.apply(1, cols)
    pos = {tuple(int(v) for v in cols[:, t]): t for t in range(r)}
    fixed, orb, done = [], [], set()
    for t in range(r):
        if t in done:
            continue
        u = pos[tuple(int(v) for v in img[:, t])]
        if u == t:
            fixed.append(t)
        else:
            orb.extend([t, u])
            done.update((t, u))
    return cols[:, fixed].copy().reshape(3, -1), cols[:, orb].copy().reshape(3, -1)


def seed_parts(s: Shape, symmetry: str, cubes=None):
    """(group, fixed, orbits, cube_text, start_text) of a symmetric walk on shape s: the group, the seed's fixed
    part and orbits, the cubes as recorded in the options (None for t2) and the start's description."""
    if symmetry == "t2":
        if cubes not in (None, ""):
            raise SymmetryOptionError("--symmetry t2 starts from the standard algorithm (its fixed products are "
                                      "e_ij, e_ji, e_ii with j the middle index); --cubes applies to c3, s3, z6")
        group = symmetry_group(symmetry, tuple(s))
        fixed, orbits = transposition_seed(group)
        return group, fixed, orbits, None, "standard algorithm in orbits of the twisted transposition"
    n = s.n
    group = symmetry_group(symmetry, n)
    cube_sets = parse_cubes(cubes, n)
    fixed, orbits = symmetric_seed(n, group, cube_sets)
    cube_text = ",".join("".join("1" if i in S else "0" for i in range(n)) for S in cube_sets)
    return group, fixed, orbits, cube_text, f"diagonal cubes {cube_text}"


def _is_invariant_set(group: Group, cols: np.ndarray) -> bool:
    base = sorted(map(tuple, cols.T.tolist()))
    return all(sorted(map(tuple, group.apply(h, cols).T.tolist())) == base for h in range(group.order))


def is_invariant(group: Group, fixed: np.ndarray, F: np.ndarray, n_orbits: int) -> bool:
    """The stored layout describes orbits (column o*G + h = h(column o*G)) and the fixed part is invariant."""
    G = group.order
    cols = F[:, :G * n_orbits]
    reps = cols[:, ::G]
    for h in range(G):
        if not np.array_equal(group.apply(h, reps), cols[:, h::G]):
            return False
    return _is_invariant_set(group, fixed) if fixed.shape[1] else True


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
def _nshared(F, p, q):
    c = 0
    if F[0, p] == F[0, q]:
        c += 1
    if F[1, p] == F[1, q]:
        c += 1
    if F[2, p] == F[2, q]:
        c += 1
    return c


@njit(cache=True)
def _degenerate(F, o, G):
    """Two products of orbit o share two factors (or a factor is zero: then the orbit is zero)."""
    base = o * G
    for h in range(1, G):
        if _nshared(F, base, base + h) >= 2:
            return True
    return False


@njit(cache=True)
def _remove_orbit(F, no, o, G, pend_idx, npend):
    """Delete orbit o (the last orbit moves into its place); fix the pending list. Returns no - 1."""
    last = no - 1
    for q in range(npend):
        if pend_idx[q] >= 0 and pend_idx[q] // G == o:
            pend_idx[q] = -1
    if last != o:
        for h in range(G):
            for s in range(3):
                F[s, o * G + h] = F[s, last * G + h]
        for q in range(npend):
            if pend_idx[q] >= 0 and pend_idx[q] // G == last:
                pend_idx[q] = o * G + pend_idx[q] % G
    return last


@njit(cache=True)
def _xor_orbit(F, i, j, z, G, MUL, SLOT):
    """For every h: slot SLOT[h, z] of h(i) ^= the same slot of h(j)."""
    oi, a = i // G, i % G
    oj, b = j // G, j % G
    for h in range(G):
        ii = oi * G + MUL[h, a]
        jj = oj * G + MUL[h, b]
        sl = SLOT[h, z]
        F[sl, ii] ^= F[sl, jj]


@njit(cache=True)
def _sym_reduce(F, no, G, MUL, SLOT, pend_idx, pend_slot, npend, counters):
    """Orbit reductions reachable from the pending (column, changed slot) pairs. Returns the orbit count."""
    while npend > 0:
        npend -= 1
        p = pend_idx[npend]
        u = pend_slot[npend]
        if p < 0 or p >= no * G:
            continue
        if F[u, p] == np.uint64(0):
            no = _remove_orbit(F, no, p // G, G, pend_idx, npend)
            counters[1] += 1
            continue
        op = p // G
        v = F[u, p]
        for k in range(no * G):
            if k // G == op or F[u, k] != v:
                continue
            u1 = (u + 1) % 3
            u2 = (u + 2) % 3
            z = -1
            if F[u1, k] == F[u1, p]:
                z = u2
            elif F[u2, k] == F[u2, p]:
                z = u1
            if z < 0:
                continue
            ok = k // G
            # merge p into k (and every image into the image): k's slot z += p's slot z
            _xor_orbit(F, k, p, z, G, MUL, SLOT)
            if F[z, k] != np.uint64(0) and _degenerate(F, ok, G):
                _xor_orbit(F, k, p, z, G, MUL, SLOT)  # undo: the merged orbit would not be free
                continue
            kk = k
            no = _remove_orbit(F, no, op, G, pend_idx, npend)
            if ok == no:  # the last orbit moved into op's place
                kk = op * G + k % G
                ok = op
            counters[1] += 1
            if F[z, kk] == np.uint64(0):
                no = _remove_orbit(F, no, ok, G, pend_idx, npend)
                counters[1] += 1
            elif npend < pend_idx.shape[0]:
                pend_idx[npend] = kk
                pend_slot[npend] = z
                npend += 1
            break
    return no


@njit(cache=True)
def _sym_plus(F, no, G, MUL, SLOT, state):
    """One orbit plus transition (rank + G); returns the new orbit count (unchanged if none was made)."""
    if no < 2 or (no + 1) * G > F.shape[1]:
        return no
    for _ in range(64):
        oi = np.int64((_next(state) >> np.uint64(32)) % np.uint64(no))
        j = np.int64((_next(state) >> np.uint64(32)) % np.uint64(no * G))
        if j // G == oi:
            continue
        i = oi * G
        x = _next(state)
        p0 = np.int64((x >> np.uint64(8)) % np.uint64(3))
        if x & np.uint64(1):
            p1 = (p0 + 1) % 3
            p2 = (p0 + 2) % 3
        else:
            p1 = (p0 + 2) % 3
            p2 = (p0 + 1) % 3
        if F[p0, i] == F[p0, j] or F[p1, i] == F[p1, j] or F[p2, i] == F[p2, j]:
            continue
        oj, b = j // G, j % G
        new = no * G
        for h in range(G):
            ii = oi * G + h
            jj = oj * G + MUL[h, b]
            nn = new + h
            s0, s1, s2 = SLOT[h, p0], SLOT[h, p1], SLOT[h, p2]
            a_j = F[s0, jj]
            c_i = F[s2, ii]
            F[s0, nn] = a_j
            F[s1, nn] = F[s1, ii] ^ F[s1, jj]
            F[s2, nn] = c_i
            F[s0, ii] ^= a_j
            F[s2, jj] ^= c_i
        if _degenerate(F, oi, G) or _degenerate(F, oj, G) or _degenerate(F, no, G):
            for h in range(G):  # undo
                ii = oi * G + h
                jj = oj * G + MUL[h, b]
                nn = new + h
                s0, s2 = SLOT[h, p0], SLOT[h, p2]
                F[s0, ii] ^= F[s0, nn]
                F[s2, jj] ^= F[s2, nn]
                F[0, nn] = 0
                F[1, nn] = 0
                F[2, nn] = 0
            continue
        return no + 1
    return no


@njit(cache=True)
def sym_walk(F, no, G, MUL, SLOT, target, max_iters, plateau, max_no, state, counters):
    """Orbit flips with orbit reductions until no <= target orbits or max_iters attempts.

    counters (int64[5]): orbit flips, orbits removed, plus transitions, flips since the last
    reduction, undone (degenerate) flips.  Returns the new number of orbits.
    """
    pend_idx = np.empty(64, dtype=np.int64)
    pend_slot = np.empty(64, dtype=np.int64)
    since = counters[3]
    fails = 0
    for _ in range(max_iters):
        if no <= target or no < 2:
            break
        if since >= plateau:
            since = 0
            if no < max_no:
                n2 = _sym_plus(F, no, G, MUL, SLOT, state)
                if n2 > no:
                    counters[2] += 1
                    no = n2
        x = _next(state)
        oi = np.int64((x >> np.uint64(32)) % np.uint64(no))
        s = np.int64((x >> np.uint64(8)) % np.uint64(3))
        tot = no * G
        off = np.int64((x >> np.uint64(12)) & np.uint64(0xFFFFF)) % tot
        i = oi * G
        v = F[s, i]
        j = -1
        for q in range(tot):
            k = q + off
            if k >= tot:
                k -= tot
            if F[s, k] == v and k // G != oi:
                j = k
                break
        if j < 0:
            fails += 1
            if fails > 4 * no:
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
        # the orbit flip: i's slot t1 += j's, then j's slot t2 += i's (and every image alike)
        _xor_orbit(F, i, j, t1, G, MUL, SLOT)
        _xor_orbit(F, j, i, t2, G, MUL, SLOT)
        oj = j // G
        if (F[t1, i] != np.uint64(0) and _degenerate(F, oi, G)) or \
                (F[t2, j] != np.uint64(0) and _degenerate(F, oj, G)):
            _xor_orbit(F, j, i, t2, G, MUL, SLOT)
            _xor_orbit(F, i, j, t1, G, MUL, SLOT)
            counters[4] += 1
            continue
        since += 1
        counters[0] += 1
        before = counters[1]
        pend_idx[0] = i
        pend_slot[0] = t1
        pend_idx[1] = j
        pend_slot[1] = t2
        no = _sym_reduce(F, no, G, MUL, SLOT, pend_idx, pend_slot, 2, counters)
        if counters[1] != before:
            since = 0
    counters[3] = since
    return no


# ---------------------------------------------------------------- the indexed kernel
# A hash index per slot from factor value to the columns holding it: doubly linked chains
# (head[slot, bucket], nxt/prv[slot, column]), updated on every change of a factor, so that a
# partner for a flip and the partners of a reduction are found without scanning all products.
INDEX_BITS = 12


@njit(cache=True, inline="always")
def _bucket(v, bits):
    return np.int64((v * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@njit(cache=True)
def _ix_insert(F, head, nxt, prv, bits, s, c):
    b = _bucket(F[s, c], bits)
    h = head[s, b]
    nxt[s, c] = h
    prv[s, c] = -1
    if h >= 0:
        prv[s, h] = c
    head[s, b] = c


@njit(cache=True)
def _ix_remove(F, head, nxt, prv, bits, s, c):
    p = prv[s, c]
    q = nxt[s, c]
    if p >= 0:
        nxt[s, p] = q
    else:
        head[s, _bucket(F[s, c], bits)] = q
    if q >= 0:
        prv[s, q] = p


@njit(cache=True)
def build_index(F, ncols, bits):
    head = np.full((3, 1 << bits), -1, dtype=np.int64)
    nxt = np.full((3, F.shape[1]), -1, dtype=np.int64)
    prv = np.full((3, F.shape[1]), -1, dtype=np.int64)
    for c in range(ncols):
        for s in range(3):
            _ix_insert(F, head, nxt, prv, bits, s, c)
    return head, nxt, prv


@njit(cache=True)
def _ix_xor_orbit(F, head, nxt, prv, bits, i, j, z, G, MUL, SLOT):
    oi, a = i // G, i % G
    oj, b = j // G, j % G
    for h in range(G):
        ii = oi * G + MUL[h, a]
        jj = oj * G + MUL[h, b]
        sl = SLOT[h, z]
        _ix_remove(F, head, nxt, prv, bits, sl, ii)
        F[sl, ii] ^= F[sl, jj]
        _ix_insert(F, head, nxt, prv, bits, sl, ii)


@njit(cache=True)
def _ix_remove_orbit(F, head, nxt, prv, bits, no, o, G, pend_idx, npend):
    last = no - 1
    for q in range(npend):
        if pend_idx[q] >= 0 and pend_idx[q] // G == o:
            pend_idx[q] = -1
    for h in range(G):
        for s in range(3):
            _ix_remove(F, head, nxt, prv, bits, s, o * G + h)
    if last != o:
        for h in range(G):
            for s in range(3):
                _ix_remove(F, head, nxt, prv, bits, s, last * G + h)
                F[s, o * G + h] = F[s, last * G + h]
                _ix_insert(F, head, nxt, prv, bits, s, o * G + h)
        for q in range(npend):
            if pend_idx[q] >= 0 and pend_idx[q] // G == last:
                pend_idx[q] = o * G + pend_idx[q] % G
    for h in range(G):
        for s in range(3):
            F[s, last * G + h] = 0
    return last


@njit(cache=True)
def _ix_reduce(F, head, nxt, prv, bits, no, G, MUL, SLOT, pend_idx, pend_slot, npend, counters):
    while npend > 0:
        npend -= 1
        p = pend_idx[npend]
        u = pend_slot[npend]
        if p < 0 or p >= no * G:
            continue
        if F[u, p] == np.uint64(0):
            no = _ix_remove_orbit(F, head, nxt, prv, bits, no, p // G, G, pend_idx, npend)
            counters[1] += 1
            continue
        op = p // G
        v = F[u, p]
        k = head[u, _bucket(v, bits)]
        while k >= 0:
            knext = nxt[u, k]
            if k // G == op or F[u, k] != v:
                k = knext
                continue
            u1 = (u + 1) % 3
            u2 = (u + 2) % 3
            z = -1
            if F[u1, k] == F[u1, p]:
                z = u2
            elif F[u2, k] == F[u2, p]:
                z = u1
            if z < 0:
                k = knext
                continue
            ok = k // G
            _ix_xor_orbit(F, head, nxt, prv, bits, k, p, z, G, MUL, SLOT)
            if F[z, k] != np.uint64(0) and _degenerate(F, ok, G):
                _ix_xor_orbit(F, head, nxt, prv, bits, k, p, z, G, MUL, SLOT)
                k = knext
                continue
            kk = k
            no = _ix_remove_orbit(F, head, nxt, prv, bits, no, op, G, pend_idx, npend)
            if ok == no:
                kk = op * G + k % G
                ok = op
            counters[1] += 1
            if F[z, kk] == np.uint64(0):
                no = _ix_remove_orbit(F, head, nxt, prv, bits, no, ok, G, pend_idx, npend)
                counters[1] += 1
            elif npend < pend_idx.shape[0]:
                pend_idx[npend] = kk
                pend_slot[npend] = z
                npend += 1
            break
    return no


@njit(cache=True)
def sym_walk_ix(F, no, G, MUL, SLOT, target, max_iters, plateau, max_no, state, counters, bits):
    """:func:`sym_walk` with the hash index: same moves, O(1) partner search.  The index is
    built at the start of each call (cheap next to max_iters steps) and dropped at the end."""
    head, nxt, prv = build_index(F, no * G, bits)
    no, head, nxt, prv = walk_indexed(F, no, G, MUL, SLOT, target, max_iters, plateau, max_no, state, counters,
                                      bits, head, nxt, prv)
    return no


@njit(cache=True)
def walk_indexed(F, no, G, MUL, SLOT, target, max_iters, plateau, max_no, state, counters, bits, head, nxt, prv):
    """The walk on a given index; returns (orbits, head, nxt, prv) (the index is rebuilt after a plus)."""
    pend_idx = np.empty(64, dtype=np.int64)
    pend_slot = np.empty(64, dtype=np.int64)
    since = counters[3]
    fails = 0
    for _ in range(max_iters):
        if no <= target or no < 2:
            break
        if since >= plateau:
            since = 0
            if no < max_no:
                n2 = _sym_plus(F, no, G, MUL, SLOT, state)
                if n2 > no:
                    counters[2] += 1
                    no = n2
                    head, nxt, prv = build_index(F, no * G, bits)  # rare: rebuild rather than patch
        x = _next(state)
        oi = np.int64((x >> np.uint64(32)) % np.uint64(no))
        s = np.int64((x >> np.uint64(8)) % np.uint64(3))
        i = oi * G
        v = F[s, i]
        # choose uniformly among the columns of other orbits holding v (reservoir sampling)
        j = -1
        cnt = 0
        k = head[s, _bucket(v, bits)]
        while k >= 0:
            if F[s, k] == v and k // G != oi:
                cnt += 1
                if cnt == 1 or np.int64((_next(state) >> np.uint64(33)) % np.uint64(cnt)) == 0:
                    j = k
            k = nxt[s, k]
        if j < 0:
            fails += 1
            if fails > 4 * no:
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
        _ix_xor_orbit(F, head, nxt, prv, bits, i, j, t1, G, MUL, SLOT)
        _ix_xor_orbit(F, head, nxt, prv, bits, j, i, t2, G, MUL, SLOT)
        oj = j // G
        if (F[t1, i] != np.uint64(0) and _degenerate(F, oi, G)) or \
                (F[t2, j] != np.uint64(0) and _degenerate(F, oj, G)):
            _ix_xor_orbit(F, head, nxt, prv, bits, j, i, t2, G, MUL, SLOT)
            _ix_xor_orbit(F, head, nxt, prv, bits, i, j, t1, G, MUL, SLOT)
            counters[4] += 1
            continue
        since += 1
        counters[0] += 1
        before = counters[1]
        pend_idx[0] = i
        pend_slot[0] = t1
        pend_idx[1] = j
        pend_slot[1] = t2
        no = _ix_reduce(F, head, nxt, prv, bits, no, G, MUL, SLOT, pend_idx, pend_slot, 2, counters)
        if counters[1] != before:
            since = 0
    counters[3] = since
    return no, head, nxt, prv


# ---------------------------------------------------------------- the c3 kernel: three values per orbit
# In the cyclic convention (third factor Z = C^T) the cyclic symmetry is (X, Y, Z) -> (Y, Z, X) with no
# transposition, so a c3-orbit is three values V = (A, B, C^T) of its representative: product k of the
# orbit is (V[k], V[k+1], V[k+2]) there, i.e. (V[k], V[k+1], V[k+2]^T) in the project's convention.
# An orbit flip then changes two values (not six factors), and one hash index over all values
# (occurrence id = 3 * orbit + value index) finds partners in any slot.


def c3_values(cols: np.ndarray, n: int) -> np.ndarray:
    """Orbit layout (3, 3*o) of c3 -> values (3, o): (A, B, C^T) of each representative."""
    reps = cols[:, ::3]
    V = reps.copy()
    V[2] = _perm_bits(reps[2], _bit_perm_transpose(n), n * n)
    return V


def c3_expand(V: np.ndarray, no: int, n: int) -> np.ndarray:
    """Values (3, o) -> the orbit layout (3, 3*o) in the project's convention."""
    T = _bit_perm_transpose(n)
    out = np.zeros((3, 3 * no), dtype=np.uint64)
    for k in range(3):
        out[0, k::3] = V[k % 3, :no]
        out[1, k::3] = V[(k + 1) % 3, :no]
        out[2, k::3] = _perm_bits(V[(k + 2) % 3, :no], T, n * n)
    return out


def _perm_bits(words: np.ndarray, perm: np.ndarray, N: int) -> np.ndarray:
    w = np.asarray(words, dtype=np.uint64)
    bits = (w[:, None] >> np.arange(N, dtype=np.uint64)[None, :]) & np.uint64(1)
    moved = np.zeros_like(bits)
    moved[:, perm] = bits
    return (moved << np.arange(N, dtype=np.uint64)[None, :]).sum(axis=1, dtype=np.uint64)


@njit(cache=True)
def c3_build_index(V, no, bits):
    head = np.full(1 << bits, -1, dtype=np.int64)
    nxt = np.full(3 * V.shape[1], -1, dtype=np.int64)
    prv = np.full(3 * V.shape[1], -1, dtype=np.int64)
    for o in range(no):
        for q in range(3):
            _c3_insert(V, head, nxt, prv, bits, 3 * o + q)
    return head, nxt, prv


@njit(cache=True, inline="always")
def _c3_insert(V, head, nxt, prv, bits, c):
    b = _bucket(V[c % 3, c // 3], bits)
    h = head[b]
    nxt[c] = h
    prv[c] = -1
    if h >= 0:
        prv[h] = c
    head[b] = c


@njit(cache=True, inline="always")
def _c3_remove(V, head, nxt, prv, bits, c):
    p = prv[c]
    q = nxt[c]
    if p >= 0:
        nxt[p] = q
    else:
        head[_bucket(V[c % 3, c // 3], bits)] = q
    if q >= 0:
        prv[q] = p


@njit(cache=True, inline="always")
def _c3_xor(V, head, nxt, prv, bits, q, o, w):
    c = 3 * o + q
    _c3_remove(V, head, nxt, prv, bits, c)
    V[q, o] ^= w
    _c3_insert(V, head, nxt, prv, bits, c)


@njit(cache=True, inline="always")
def _c3_degenerate(V, o):
    return V[0, o] == V[1, o] and V[1, o] == V[2, o]


@njit(cache=True)
def _c3_remove_orbit(V, head, nxt, prv, bits, no, o, pend, npend):
    last = no - 1
    for t in range(npend):
        if pend[t] >= 0 and pend[t] // 3 == o:
            pend[t] = -1
    for q in range(3):
        _c3_remove(V, head, nxt, prv, bits, 3 * o + q)
    if last != o:
        for q in range(3):
            _c3_remove(V, head, nxt, prv, bits, 3 * last + q)
            V[q, o] = V[q, last]
            _c3_insert(V, head, nxt, prv, bits, 3 * o + q)
        for t in range(npend):
            if pend[t] >= 0 and pend[t] // 3 == last:
                pend[t] = 3 * o + pend[t] % 3
    for q in range(3):
        V[q, last] = 0
    return last


@njit(cache=True)
def _c3_reduce(V, head, nxt, prv, bits, no, pend, npend, counters):
    """Reductions from the pending changed values (occurrence ids)."""
    while npend > 0:
        npend -= 1
        c = pend[npend]
        if c < 0 or c // 3 >= no:
            continue
        o1, u = c // 3, c % 3
        w = V[u, o1]
        if w == np.uint64(0):
            no = _c3_remove_orbit(V, head, nxt, prv, bits, no, o1, pend, npend)
            counters[1] += 1
            continue
        # product 0 of o1 holds w in slot u; product k3 of o3 holds it in slot u when k3 = q3 - u
        d = head[_bucket(w, bits)]
        while d >= 0:
            dn = nxt[d]
            o3, q3 = d // 3, d % 3
            if o3 == o1 or V[q3, o3] != w:
                d = dn
                continue
            k3 = (q3 - u + 3) % 3
            u1 = (u + 1) % 3
            u2 = (u + 2) % 3
            z = -1
            if V[u1, o1] == V[(k3 + u1) % 3, o3]:
                z = u2
            elif V[u2, o1] == V[(k3 + u2) % 3, o3]:
                z = u1
            if z < 0:
                d = dn
                continue
            qz = (k3 + z) % 3
            wz = V[z, o1]
            _c3_xor(V, head, nxt, prv, bits, qz, o3, wz)
            if V[qz, o3] != np.uint64(0) and _c3_degenerate(V, o3):
                _c3_xor(V, head, nxt, prv, bits, qz, o3, wz)
                d = dn
                continue
            no = _c3_remove_orbit(V, head, nxt, prv, bits, no, o1, pend, npend)
            if o3 == no:
                o3 = o1
            counters[1] += 1
            if V[qz, o3] == np.uint64(0):
                no = _c3_remove_orbit(V, head, nxt, prv, bits, no, o3, pend, npend)
                counters[1] += 1
            elif npend < pend.shape[0]:
                pend[npend] = 3 * o3 + qz
                npend += 1
            break
    return no


@njit(cache=True)
def _c3_plus(V, no, state):
    if no < 2 or no + 1 > V.shape[1]:
        return no
    for _ in range(64):
        o1 = np.int64((_next(state) >> np.uint64(32)) % np.uint64(no))
        o2 = np.int64((_next(state) >> np.uint64(32)) % np.uint64(no - 1))
        if o2 >= o1:
            o2 += 1
        x = _next(state)
        k2 = np.int64((x >> np.uint64(40)) % np.uint64(3))
        p0 = np.int64((x >> np.uint64(8)) % np.uint64(3))
        if x & np.uint64(1):
            p1 = (p0 + 1) % 3
            p2 = (p0 + 2) % 3
        else:
            p1 = (p0 + 2) % 3
            p2 = (p0 + 1) % 3
        j0, j1, j2 = (k2 + p0) % 3, (k2 + p1) % 3, (k2 + p2) % 3
        if V[p0, o1] == V[j0, o2] or V[p1, o1] == V[j1, o2] or V[p2, o1] == V[j2, o2]:
            continue
        nn = no
        V[p0, nn] = V[j0, o2]
        V[p1, nn] = V[p1, o1] ^ V[j1, o2]
        V[p2, nn] = V[p2, o1]
        V[p0, o1] ^= V[j0, o2]
        V[j2, o2] ^= V[p2, o1]
        if _c3_degenerate(V, o1) or _c3_degenerate(V, o2) or _c3_degenerate(V, nn):
            V[p0, o1] ^= V[j0, o2]
            V[j2, o2] ^= V[p2, o1]
            V[0, nn] = 0
            V[1, nn] = 0
            V[2, nn] = 0
            continue
        return no + 1
    return no


@njit(cache=True)
def c3_walk(V, no, target, max_iters, plateau, max_no, state, counters, bits):
    """The c3 walk on orbit values: same moves and counters as :func:`sym_walk`."""
    head, nxt, prv = c3_build_index(V, no, bits)
    pend = np.empty(64, dtype=np.int64)
    since = counters[3]
    fails = 0
    for _ in range(max_iters):
        if no <= target or no < 2:
            break
        if since >= plateau:
            since = 0
            if no < max_no:
                n2 = _c3_plus(V, no, state)
                if n2 > no:
                    counters[2] += 1
                    no = n2
                    head, nxt, prv = c3_build_index(V, no, bits)
        x = _next(state)
        o1 = np.int64((x >> np.uint64(32)) % np.uint64(no))
        s = np.int64((x >> np.uint64(8)) % np.uint64(3))
        v = V[s, o1]
        j = -1
        cnt = 0
        d = head[_bucket(v, bits)]
        while d >= 0:
            if d // 3 != o1 and V[d % 3, d // 3] == v:
                cnt += 1
                if cnt == 1 or np.int64((_next(state) >> np.uint64(33)) % np.uint64(cnt)) == 0:
                    j = d
            d = nxt[d]
        if j < 0:
            fails += 1
            if fails > 4 * no:
                since += 1
                fails = 0
            continue
        fails = 0
        o2 = j // 3
        k2 = (j % 3 - s + 3) % 3
        if x & np.uint64(1):
            t1 = (s + 1) % 3
            t2 = (s + 2) % 3
        else:
            t1 = (s + 2) % 3
            t2 = (s + 1) % 3
        a = (k2 + t1) % 3
        b = (k2 + t2) % 3
        w1 = V[a, o2]
        _c3_xor(V, head, nxt, prv, bits, t1, o1, w1)
        w2 = V[t2, o1]
        _c3_xor(V, head, nxt, prv, bits, b, o2, w2)
        if (V[t1, o1] != np.uint64(0) and _c3_degenerate(V, o1)) or \
                (V[b, o2] != np.uint64(0) and _c3_degenerate(V, o2)):
            _c3_xor(V, head, nxt, prv, bits, b, o2, w2)
            _c3_xor(V, head, nxt, prv, bits, t1, o1, w1)
            counters[4] += 1
            continue
        since += 1
        counters[0] += 1
        before = counters[1]
        pend[0] = 3 * o1 + t1
        pend[1] = 3 * o2 + b
        no = _c3_reduce(V, head, nxt, prv, bits, no, pend, 2, counters)
        if counters[1] != before:
            since = 0
    counters[3] = since
    return no


# ---------------------------------------------------------------- the c3 kernel, version 2: pairs kept
# c3_walk draws a random value and scans its hash bucket for a partner; at low rank most values occur
# once, so most draws find none.  c3_walk2 keeps, for every distinct value, the list of its occurrences
# (occurrence id c = 3 * orbit + value index) and the list ``mocc`` of the occurrences whose value occurs
# at least twice (with each one's position), so every draw is an occurrence with a partner.  A draw
# picks c uniformly from mocc and a partner uniformly among the other occurrences of its value (a
# partner in c's own orbit is drawn again): the law of c3_walk's successful draws, without its wasted
# ones.  The flip, the reductions (every pending changed value against the occurrences of the same value)
# and the plus transition (:func:`_c3_plus`) are c3_walk's.  The structures are a function of V, built
# at the start of a call (and after a plus transition); the tests check them against a full rebuild.
#
# Layout: two flat arrays (few arrays: numba counts references at every helper call), with
# tb = the table size (a power of two >= 4 * nocc), nocc = 3 * V.shape[1] occurrence ids:
#   K (uint64): hkey[tb] (the table's keys), ekey[nocc] (entry e's value);
#   I (int64):  hent[tb] (the table: value -> entry id, -1 empty; linear probing, backward-shift deletion),
#               ecnt[nocc], ent[nocc] (c's entry), epos[nocc] (c's place in its entry), mocc[nocc] (the
#               occurrences of values with ecnt >= 2), mpos[nocc] (c's place in mocc, -1 if none),
#               efree[nocc] (free entry ids), meta[2] (len(mocc), len(efree)), emem[nocc * nocc] (entry e's
#               occurrences at e * nocc ...), then mlist[nocc] (the entries with ecnt >= 2), mlpos[nocc]
#               (e's place in mlist), len(mlist).


@njit(cache=True, inline="always", _nrt=False)
def _h2(v, mask):
    return np.int64((v * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) & mask


def c3_pairs_alloc(cap_orbits: int):
    """(K, I, tb, nocc) for V with ``cap_orbits`` columns (to be filled by :func:`c3_pairs_build`)."""
    nocc = 3 * int(cap_orbits)
    tb = 16
    while tb < 4 * nocc:
        tb *= 2
    K = np.zeros(tb + nocc, dtype=np.uint64)
    I = np.full(tb + 6 * nocc + 2 + nocc * nocc + 2 * nocc + 1, -1, dtype=np.int64)
    return K, I, tb, nocc


@njit(cache=True)
def _c3_pairs_alloc(cap_orbits):
    nocc = 3 * cap_orbits
    tb = 16
    while tb < 4 * nocc:
        tb *= 2
    K = np.zeros(tb + nocc, dtype=np.uint64)
    I = np.full(tb + 6 * nocc + 2 + nocc * nocc + 2 * nocc + 1, -1, dtype=np.int64)
    return K, I, tb, nocc


@njit(cache=True, _nrt=False)
def c3_pairs_build(V, no, K, I, tb, nocc):
    """(Re)build the structures for the first ``no`` orbits of V, in occurrence order."""
    for i in range(tb):
        I[i] = -1
    for i in range(tb, tb + nocc):
        I[i] = 0  # ecnt
    for i in range(tb + nocc, tb + 6 * nocc):
        I[i] = -1
    ef = tb + 5 * nocc
    for e in range(nocc):
        I[ef + e] = nocc - 1 - e
    I[tb + 6 * nocc] = 0
    I[tb + 6 * nocc + 1] = nocc
    I[tb + 6 * nocc + 2 + nocc * nocc + 2 * nocc] = 0
    for c in range(3 * no):
        _p_insert(V, c, K, I, tb, nocc)


@njit(cache=True, inline="always")
def _m_add(c, I, tb, nocc):
    om = tb + 6 * nocc
    k = I[om]
    I[tb + 3 * nocc + k] = c
    I[tb + 4 * nocc + c] = k
    I[om] = k + 1


@njit(cache=True, inline="always")
def _m_del(c, I, tb, nocc):
    om = tb + 6 * nocc
    k = I[tb + 4 * nocc + c]
    last = I[om] - 1
    d = I[tb + 3 * nocc + last]
    I[tb + 3 * nocc + k] = d
    I[tb + 4 * nocc + d] = k
    I[tb + 4 * nocc + c] = -1
    I[om] = last


@njit(cache=True, inline="always", _nrt=False)
def _p_insert(V, c, K, I, tb, nocc):
    v = V[c % 3, c // 3]
    mask = tb - 1
    i = _h2(v, mask)
    e = -1
    while I[i] >= 0:
        if K[i] == v:
            e = I[i]
            break
        i = (i + 1) & mask
    if e < 0:  # a new value: an entry from the free list, the empty slot i of the table
        nf = I[tb + 6 * nocc + 1] - 1
        e = I[tb + 5 * nocc + nf]
        I[tb + 6 * nocc + 1] = nf
        K[i] = v
        I[i] = e
        K[tb + e] = v
        I[tb + e] = 0
    k = I[tb + e]
    em = tb + 6 * nocc + 2 + e * nocc
    I[em + k] = c
    I[tb + 2 * nocc + c] = k
    I[tb + nocc + c] = e
    I[tb + e] = k + 1
    if k >= 1:  # c joins mocc (and the value's first occurrence with it)
        om = tb + 6 * nocc
        mo = tb + 3 * nocc
        mp = tb + 4 * nocc
        nm = I[om]
        if k == 1:
            c0 = I[em]
            I[mo + nm] = c0
            I[mp + c0] = nm
            nm += 1
            ml = tb + 6 * nocc + 2 + nocc * nocc  # e joins mlist
            nl = I[ml + 2 * nocc]
            I[ml + nl] = e
            I[ml + nocc + e] = nl
            I[ml + 2 * nocc] = nl + 1
        I[mo + nm] = c
        I[mp + c] = nm
        I[om] = nm + 1


@njit(cache=True, inline="always", _nrt=False)
def _p_remove(c, K, I, tb, nocc):
    e = I[tb + nocc + c]
    k = I[tb + e]
    em = tb + 6 * nocc + 2 + e * nocc
    if k >= 2:  # c leaves mocc (and the value's other occurrence with it when k == 2)
        om = tb + 6 * nocc
        mo = tb + 3 * nocc
        mp = tb + 4 * nocc
        for r in range(2 if k == 2 else 1):
            cc = I[em + r] if k == 2 else c
            q = I[mp + cc]
            last = I[om] - 1
            dd = I[mo + last]
            I[mo + q] = dd
            I[mp + dd] = q
            I[mp + cc] = -1
            I[om] = last
        if k == 2:  # e leaves mlist
            ml = tb + 6 * nocc + 2 + nocc * nocc
            q = I[ml + nocc + e]
            last = I[ml + 2 * nocc] - 1
            f = I[ml + last]
            I[ml + q] = f
            I[ml + nocc + f] = q
            I[ml + nocc + e] = -1
            I[ml + 2 * nocc] = last
    p = I[tb + 2 * nocc + c]
    d = I[em + k - 1]
    I[em + p] = d
    I[tb + 2 * nocc + d] = p
    I[tb + e] = k - 1
    I[tb + nocc + c] = -1
    I[tb + 2 * nocc + c] = -1
    if k == 1:  # the value is gone: free the entry, delete the key (backward shift)
        mask = tb - 1
        i = _h2(K[tb + e], mask)
        while I[i] != e:
            i = (i + 1) & mask
        j = i
        while True:
            j = (j + 1) & mask
            if I[j] < 0:
                break
            h = _h2(K[j], mask)
            # move j back into the hole i unless its home h lies cyclically in (i, j]
            if (i < j and (h <= i or h > j)) or (i > j and (h <= i and h > j)):
                K[i] = K[j]
                I[i] = I[j]
                i = j
        I[i] = -1
        nf = I[tb + 6 * nocc + 1]
        I[tb + 5 * nocc + nf] = e
        I[tb + 6 * nocc + 1] = nf + 1


@njit(cache=True, inline="always", _nrt=False)
def _p_rename(c, d, I, tb, nocc):
    """Occurrence c takes the id d (d unused): same value, same places."""
    e = I[tb + nocc + c]
    p = I[tb + 2 * nocc + c]
    I[tb + 6 * nocc + 2 + e * nocc + p] = d
    I[tb + nocc + d] = e
    I[tb + 2 * nocc + d] = p
    I[tb + nocc + c] = -1
    I[tb + 2 * nocc + c] = -1
    k = I[tb + 4 * nocc + c]
    I[tb + 4 * nocc + d] = k
    if k >= 0:
        I[tb + 3 * nocc + k] = d
    I[tb + 4 * nocc + c] = -1


@njit(cache=True, inline="always", _nrt=False)
def _p_xor(V, q, o, w, K, I, tb, nocc):
    c = 3 * o + q
    _p_remove(c, K, I, tb, nocc)
    V[q, o] ^= w
    _p_insert(V, c, K, I, tb, nocc)


@njit(cache=True, _nrt=False)
def _p_remove_orbit(V, no, o, pend, npend, K, I, tb, nocc):
    """Delete orbit o, the last orbit moves into its place (as :func:`_c3_remove_orbit`). Returns no - 1."""
    last = no - 1
    for t in range(npend):
        if pend[t] >= 0 and pend[t] // 3 == o:
            pend[t] = -1
    for q in range(3):
        _p_remove(3 * o + q, K, I, tb, nocc)
    if last != o:
        for q in range(3):
            _p_rename(3 * last + q, 3 * o + q, I, tb, nocc)
            V[q, o] = V[q, last]
        for t in range(npend):
            if pend[t] >= 0 and pend[t] // 3 == last:
                pend[t] = 3 * o + pend[t] % 3
    for q in range(3):
        V[q, last] = 0
    return last


@njit(cache=True, _nrt=False)
def _p_reduce(V, no, pend, npend, counters, K, I, tb, nocc):
    """:func:`_c3_reduce` with the occurrence lists: the same reductions, partners in list order."""
    while npend > 0:
        npend -= 1
        c = pend[npend]
        if c < 0 or c // 3 >= no:
            continue
        o1, u = c // 3, c % 3
        w = V[u, o1]
        if w == np.uint64(0):
            no = _p_remove_orbit(V, no, o1, pend, npend, K, I, tb, nocc)
            counters[1] += 1
            continue
        e = I[tb + nocc + c]
        m = I[tb + e]
        em = tb + 6 * nocc + 2 + e * nocc
        u1 = (u + 1) % 3
        u2 = (u + 2) % 3
        for t in range(m):
            d = I[em + t]
            o3, q3 = d // 3, d % 3
            if o3 == o1:
                continue
            k3 = (q3 - u + 3) % 3
            z = -1
            if V[u1, o1] == V[(k3 + u1) % 3, o3]:
                z = u2
            elif V[u2, o1] == V[(k3 + u2) % 3, o3]:
                z = u1
            if z < 0:
                continue
            qz = (k3 + z) % 3
            wz = V[z, o1]
            _p_xor(V, qz, o3, wz, K, I, tb, nocc)
            if V[qz, o3] != np.uint64(0) and _c3_degenerate(V, o3):
                _p_xor(V, qz, o3, wz, K, I, tb, nocc)
                continue  # (the undo restored the lists' members, possibly in another order: t goes on)
            no = _p_remove_orbit(V, no, o1, pend, npend, K, I, tb, nocc)
            if o3 == no:
                o3 = o1
            counters[1] += 1
            if V[qz, o3] == np.uint64(0):
                no = _p_remove_orbit(V, no, o3, pend, npend, K, I, tb, nocc)
                counters[1] += 1
            elif npend < pend.shape[0]:
                pend[npend] = 3 * o3 + qz
                npend += 1
            break
    return no


@njit(cache=True)
def c3_walk2(V, no, target, max_iters, plateau, max_no, state, counters):
    """The c3 walk on orbit values with kept pair lists (see above): same moves, reductions, plus
    transitions and counters as :func:`c3_walk`; ``max_iters`` counts draws, and every draw whose
    occurrence has a partner in another orbit is a flip attempt.  counters[5], when present, counts draws."""
    K, I, tb, nocc = _c3_pairs_alloc(V.shape[1])
    pend = np.empty(64, dtype=np.int64)
    c3_pairs_build(V, no, K, I, tb, nocc)
    return c3_walk2_on(V, no, target, max_iters, plateau, max_no, state, counters, K, I, tb, nocc, pend, 0)


@njit(cache=True)
def c3_walk3(V, no, target, max_iters, plateau, max_no, state, counters):
    """:func:`c3_walk2` with symmetric-flips' law of draws: a value uniformly among those occurring at least
    twice, then an ordered pair of its occurrences uniformly (pairs within one orbit drawn again)."""
    K, I, tb, nocc = _c3_pairs_alloc(V.shape[1])
    pend = np.empty(64, dtype=np.int64)
    c3_pairs_build(V, no, K, I, tb, nocc)
    return c3_walk2_on(V, no, target, max_iters, plateau, max_no, state, counters, K, I, tb, nocc, pend, 1)


@njit(cache=True, _nrt=False)
def c3_walk2_on(V, no, target, max_iters, plateau, max_no, state, counters, K, I, tb, nocc, pend, law):
    """:func:`c3_walk2` on given structures (built for V's first ``no`` orbits; they stay valid for the
    returned V and orbit count) and a scratch array ``pend`` (int64[64]); ``law`` 0: c3_walk2's draws,
    1: c3_walk3's.  Compiled without reference
    counting (``_nrt=False``: it allocates nothing), which numba would otherwise do at every helper."""
    since = counters[3]
    draws = 0
    om = tb + 6 * nocc
    for _ in range(max_iters):
        if no <= target or no < 2:
            break
        if since >= plateau:
            since = 0
            if no < max_no:
                n2 = _c3_plus(V, no, state)
                if n2 > no:
                    counters[2] += 1
                    no = n2
                    c3_pairs_build(V, no, K, I, tb, nocc)
        draws += 1
        nm = I[om]
        if nm == 0:  # no value occurs twice: nothing to flip until a plus transition
            since += 1
            continue
        x = _next(state)
        j = -1
        if law == 0:
            # uniform indices by multiply-shift (Lemire) rather than a division
            c = I[tb + 3 * nocc + np.int64(((x >> np.uint64(32)) * np.uint64(nm)) >> np.uint64(32))]
            o1 = c // 3
            e = I[tb + nocc + c]
            m = I[tb + e]
            pc = I[tb + 2 * nocc + c]
            em = om + 2 + e * nocc
            for _t in range(8):  # a partner uniformly among the other occurrences, not in o1
                k = np.int64(((_next(state) >> np.uint64(32)) * np.uint64(m - 1)) >> np.uint64(32))
                if k >= pc:
                    k += 1
                d = I[em + k]
                if d // 3 != o1:
                    j = d
                    break
        else:
            ml = om + 2 + nocc * nocc
            nl = I[ml + 2 * nocc]
            c = -1
            o1 = -1
            for _t in range(8):  # a repeated value uniformly, then an ordered pair of its occurrences
                e = I[ml + np.int64(((_next(state) >> np.uint64(32)) * np.uint64(nl)) >> np.uint64(32))]
                m = I[tb + e]
                em = om + 2 + e * nocc
                y = _next(state)
                ka = np.int64(((y >> np.uint64(32)) * np.uint64(m)) >> np.uint64(32))
                kb = np.int64(((y & np.uint64(0xFFFFFFFF)) * np.uint64(m - 1)) >> np.uint64(32))
                if kb >= ka:
                    kb += 1
                c = I[em + ka]
                d = I[em + kb]
                if d // 3 != c // 3:
                    o1 = c // 3
                    j = d
                    break
        if j < 0:  # (rare: the value's other occurrences lie in c's own orbit)
            since += 1
            continue
        s = c % 3
        o2 = j // 3
        k2 = (j % 3 - s + 3) % 3
        if x & np.uint64(1):
            t1 = (s + 1) % 3
            t2 = (s + 2) % 3
        else:
            t1 = (s + 2) % 3
            t2 = (s + 1) % 3
        a = (k2 + t1) % 3
        b = (k2 + t2) % 3
        w1 = V[a, o2]
        _p_xor(V, t1, o1, w1, K, I, tb, nocc)
        w2 = V[t2, o1]
        _p_xor(V, b, o2, w2, K, I, tb, nocc)
        if (V[t1, o1] != np.uint64(0) and _c3_degenerate(V, o1)) or \
                (V[b, o2] != np.uint64(0) and _c3_degenerate(V, o2)):
            _p_xor(V, b, o2, w2, K, I, tb, nocc)
            _p_xor(V, t1, o1, w1, K, I, tb, nocc)
            counters[4] += 1
            continue
        since += 1
        counters[0] += 1
        before = counters[1]
        pend[0] = 3 * o1 + t1
        pend[1] = 3 * o2 + b
        no = _p_reduce(V, no, pend, 2, counters, K, I, tb, nocc)
        if counters[1] != before:
            since = 0
    counters[3] = since
    if counters.shape[0] > 5:
        counters[5] += draws
    return no


def c3_pairs_sets(K, I, tb, nocc) -> dict:
    """The structures as sets (for tests): value -> its occurrences, the occurrences in mocc, and whether
    the table holds exactly the live values, each pointing at its entry."""
    ecnt = I[tb:tb + nocc]
    ekey = K[tb:tb + nocc]
    values = {}
    for e in range(nocc):
        if ecnt[e] > 0:
            em = tb + 6 * nocc + 2 + e * nocc
            values[int(ekey[e])] = frozenset(int(c) for c in I[em:em + ecnt[e]])
    table = {int(K[i]): int(I[i]) for i in range(tb) if I[i] >= 0}
    nm = int(I[tb + 6 * nocc])
    ml = tb + 6 * nocc + 2 + nocc * nocc
    multi = frozenset(int(ekey[e]) for e in I[ml:ml + int(I[ml + 2 * nocc])])
    return {"values": values, "multi": multi, "mocc": frozenset(int(c) for c in I[tb + 3 * nocc:tb + 3 * nocc + nm]),
            "table_ok": len(table) == len(values) and all(table.get(int(ekey[e])) == e
                                                          for e in range(nocc) if ecnt[e] > 0)}


def c3_pairs_check(V, no) -> dict:
    """:func:`c3_pairs_sets` of structures built afresh for V's first ``no`` orbits."""
    K, I, tb, nocc = c3_pairs_alloc(V.shape[1])
    c3_pairs_build(V, no, K, I, tb, nocc)
    return c3_pairs_sets(K, I, tb, nocc)


def warm_up() -> float:
    t0 = time.perf_counter()
    grp = Group("c3", 2)
    fixed, orb = symmetric_seed(2, grp)
    F = np.zeros((3, orb.shape[1] + 6), dtype=np.uint64)
    F[:, :orb.shape[1]] = orb
    sym_walk(F, orb.shape[1] // 3, 3, grp.mul, grp.slot, 0, 10, 5, 10, np.array([12345], dtype=np.uint64),
             np.zeros(5, dtype=np.int64))
    F[:] = 0
    F[:, :orb.shape[1]] = orb
    sym_walk_ix(F, orb.shape[1] // 3, 3, grp.mul, grp.slot, 0, 10, 5, 10, np.array([12345], dtype=np.uint64),
                np.zeros(5, dtype=np.int64), INDEX_BITS)
    V = np.zeros((3, orb.shape[1] // 3 + 2), dtype=np.uint64)
    V[:, :orb.shape[1] // 3] = c3_values(orb, 2)
    c3_walk(V, orb.shape[1] // 3, 0, 10, 5, 10, np.array([12345], dtype=np.uint64), np.zeros(5, dtype=np.int64),
            INDEX_BITS)
    V[:] = 0
    V[:, :orb.shape[1] // 3] = c3_values(orb, 2)
    c3_walk2(V, orb.shape[1] // 3, 0, 10, 5, 10, np.array([12345], dtype=np.uint64), np.zeros(6, dtype=np.int64))
    V[:] = 0
    V[:, :orb.shape[1] // 3] = c3_values(orb, 2)
    c3_walk3(V, orb.shape[1] // 3, 0, 10, 5, 10, np.array([12345], dtype=np.uint64), np.zeros(6, dtype=np.int64))
    return time.perf_counter() - t0


# ---------------------------------------------------------------- lifting with symmetry
def _orbit_embedding(shape: Shape, group: Group, n_orbits: int, n_fixed: int) -> np.ndarray:
    """Index map full variable -> reduced variable for :class:`~.lift.LiftSolver` (variables ordered
    as in :func:`~.lift.jacobian_mod2`: a[t, x] at t*N + x, then b, then c)."""
    sizes = (shape.a_size, shape.b_size, shape.c_size)
    G = group.order
    r = G * n_orbits + n_fixed
    per = sum(sizes)  # the variables of one product
    base = (0, r * sizes[0], r * (sizes[0] + sizes[1]))  # the a, b, c blocks of the full system
    local = (0, sizes[0], sizes[0] + sizes[1])  # slot s of a product among its reduced variables
    idx = np.empty(r * per, dtype=np.int64)
    nred_orb = per * n_orbits
    for o in range(n_orbits):
        for h in range(G):
            t = o * G + h
            for s in range(3):
                # slot s of the representative goes to slot SLOT[h, s] of column t, bit x to perm[h, s, x]
                ts = group.slot[h, s]
                for x in range(sizes[s]):
                    idx[base[ts] + t * sizes[ts] + group.perm[h, s, x]] = o * per + local[s] + x
    for f in range(n_fixed):
        t = G * n_orbits + f
        for s in range(3):
            for x in range(sizes[s]):
                idx[base[s] + t * sizes[s] + x] = nred_orb + f * per + local[s] + x
    return idx


def lift_symmetric(shape: Shape, group: Group, F: np.ndarray, n_orbits: int, fixed: np.ndarray, *, p: int = 2):
    """Lift the GF(2) scheme (orbits in F, fixed part) to characteristic 0; returns
    ((W_a, W_b, W_c), symmetric_used) or None.  Tries the orbit-preserving lift first."""
    from . import gf2
    from .lift import LIFT_ORDERS, LiftSolver, is_integral, hensel_lift
    G = group.order
    cols = np.concatenate([F[:, :G * n_orbits], fixed], axis=1)
    r = cols.shape[1]
    a, b, c = gf2.bits_to_factors(shape, cols, r)
    embed = _orbit_embedding(shape, group, n_orbits, fixed.shape[1])
    invariant = None
    for order in LIFT_ORDERS:
        try:
            res = hensel_lift(shape, a, b, c, solver=LiftSolver(shape, a, b, c, embed=embed, order=order))
        except Exception:  # pragma: no cover - a lift that fails is only a missed chance
            res = None
        if res is not None:
            if is_integral(res):
                return res, True
            invariant = invariant or res
    # no integral orbit-preserving lift: an integral lift that breaks the symmetry is preferred to a
    # rational invariant one (the ring is what a user asks for), else the rational invariant one
    res = hensel_lift(shape, a, b, c)
    if res is not None and (invariant is None or is_integral(res)):
        return res, False
    return (invariant, True) if invariant is not None else None


def lifted_is_invariant(group: Group, Wa, Wb, Wc) -> bool:
    """Whether an exact scheme (rows of Wa, Wb; columns of Wc) is invariant as a multiset of products."""
    a, b, c = (np.asarray(Wa, dtype=object), np.asarray(Wb, dtype=object), np.asarray(Wc, dtype=object).T)

    def key(a, b, c):
        return sorted(tuple(map(str, list(a[t]) + list(b[t]) + list(c[t]))) for t in range(a.shape[0]))
    base = key(a, b, c)
    for h in range(group.order):
        ia, ib, ic = group.apply_int(h, a, b, c)
        if key(ia, ib, ic) != base:
            return False
    return True


# ---------------------------------------------------------------- the search
def _key(cols: np.ndarray) -> str:
    """An order-free digest of a scheme's columns (the goal schemes already tried)."""
    c = cols.T
    order = np.lexsort(c.T[::-1])
    return hashlib.blake2b(c[order].tobytes(), digest_size=16).hexdigest()


def _finish(s: Shape, group: Group, F, no: int, fixed, goal: str):
    """The scheme at the goal: (verified Scheme, completed_by, invariant) or None."""
    G = group.order
    cols = np.concatenate([F[:, :no * G], fixed], axis=1)
    if goal == "Z2":
        from . import gf2
        a, b, c = gf2.bits_to_factors(s, cols, cols.shape[1])
        sch, completed, inv = Scheme(s, a, b, c.T.copy()), ["flip"], True
    else:
        res = lift_symmetric(s, group, F, no, fixed)
        if res is None:
            return None
        (Wa, Wb, Wc), sym_used = res
        sch, completed = Scheme(s, Wa, Wb, Wc), ["flip", "lift"]
        inv = sym_used and lifted_is_invariant(group, Wa, Wb, Wc)
    v = verify(sch, symbolic=False)
    if v.ok or (goal == "Z2" and v.ring == "Z2"):
        return sch, completed, inv
    return None


#: a missed target: the end-of-run lift may take this many seconds, or a tenth of the run if that is longer
FINISH_LIFT_SECONDS = 30.0
#: schemes kept per level, and levels kept (the lowest), for a missed target's files
ARCHIVE_PER_LEVEL, ARCHIVE_LEVELS = 4, 3


def _archive_add(archive: dict, level: int, cols: np.ndarray) -> None:
    """Keep ``cols`` (the orbit columns of a scheme at rank ``level``, an array nothing changes afterwards) among
    the lowest levels reached."""
    pl = archive.setdefault(level, [])
    if len(pl) < ARCHIVE_PER_LEVEL and not any(np.array_equal(cols, c) for c in pl):
        pl.append(cols)
    for lv in sorted(archive)[ARCHIVE_LEVELS:]:
        del archive[lv]


def _finish_missed(s: Shape, group: Group, rank: int, goal: str, rec: dict, archive: dict, fixed: np.ndarray,
                   levels: dict, seconds: float, flips: int, compile_s: float) -> None:
    """A missed target (issue point 7), as the GF(2) and GF(3) walks: ``search_symmetric.best_modular`` is a
    scheme of the lowest level reached (valid mod 2, labelled Z2 unless it holds over Z) and
    ``search_symmetric.best_above_target`` the best proven scheme above the rank asked (goal Z: lifted, the
    orbits kept where the lift allows; goal Z2: the mod-2 scheme), from the lowest level up, within
    FINISH_LIFT_SECONDS (or a tenth of the run).  Provenance: ``target_rank``, ``above_target``.  Nothing when
    the walk never went below its seed (the first of ``levels``): the seed is not a result of the run."""
    if not archive or min(archive) >= max(levels):
        return
    from . import gf2
    from ..provenance import result_record
    G = group.order
    common = {"seconds": round(seconds, 3), "flips": flips, "compile_seconds": round(compile_s, 3),
              "rank_levels": {str(k): v for k, v in sorted(levels.items(), reverse=True)}, "target_rank": rank,
              "above_target": True}
    low = min(archive)
    cols = np.concatenate([archive[low][0], fixed], axis=1)
    a, b, c = gf2.bits_to_factors(s, cols, cols.shape[1])
    search_symmetric.best_modular = Scheme(s, a, b, c.T.copy(), provenance=result_record(
        rec, completed_by=["flip"], invariant=True, **common))
    deadline = time.monotonic() + max(FINISH_LIFT_SECONDS, 0.1 * seconds)
    for lv in sorted(archive):
        for snap in archive[lv]:
            if time.monotonic() > deadline:
                search_symmetric.stats["finish_lift_cut"] = True
                return
            got = _finish(s, group, snap, snap.shape[1] // G, fixed, goal)
            if got is not None:
                sch, completed, inv = got
                search_symmetric.best_above_target = Scheme(s, sch.W_a, sch.W_b, sch.W_c, provenance=result_record(
                    rec, completed_by=completed, invariant=bool(inv), **common))
                return


def search_symmetric(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None,
                     symmetry: str = "c3", ring: str | None = None, field: int = 2,
                     on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
                     cubes=None, init: str | None = None, device: str = "cpu", workers: int | None = None,
                     **options) -> Iterator[Scheme]:
    """Yield verified schemes of rank <= ``rank`` for <n,n,n> found by an invariant flip-graph walk.

    ``symmetry``: c3, s3 or z6 (see the module docstring); ``ring``: "Z" (default: lift and prove) or
    "Z2" (the GF(2) scheme itself, labelled Z2); ``field``: 2 (the walk runs over GF(2));
    ``cubes``: the diagonal cubes, e.g. "10001,01010,00100".  Options ``plateau``, ``restart_after``,
    ``pool_size``, ``climb`` as in the flip engine (climb counts orbits; 0: plus transitions up to the
    seed's rank, Moosbauer & Poole's PLUS_TRANSITION_LIMIT 0); ``restart_from``: "seed" (default: after
    ``restart_after`` orbit flips without a new best, a fresh run from the diagonal cubes, as their runs)
    or "pool" (a scheme kept at the best level or one or two above, as the flip engine); ``kernel``: the c3
    walk's kernel version, 1 (:func:`c3_walk`), 2 (:func:`c3_walk2`) or 3 (:func:`c3_walk3`, the default; see
    the module doc).  ``checkpoint=DIR`` writes the walk's state and every proven scheme there (every
    ``checkpoint_every`` seconds, 5, and at the end; layout in :mod:`.flip`'s docstring, walker format
    :data:`WALKER_FORMAT`); ``resume=DIR`` yields the schemes proven there again, then continues the walk
    with the seed and options recorded in DIR (the arguments given for them are not used).  ``workers``:
    independent walkers, one process each (module doc; default all cores from m*k*n = 24 on); a resume
    continues as many as the checkpoint has.
    """
    from ..provenance import result_record, search_record, start_record
    from .flip import FlipOptionError
    s = parse_shape(shape)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    if device is not None and str(device).strip().lower() != "cpu":
        from ..errors import DeviceError
        raise DeviceError(f"the flip engine runs on the CPU only; got device {device!r} (use --device cpu)")
    if int(field) != 2:
        raise SymmetryOptionError("the symmetric search runs over GF(2) only (use --field 2 with --symmetry)")
    walker = int(options.pop("_walker", 0))  # a worker process of a parallel run (_search_parallel)
    child = bool(options.pop("_child", False))
    attempts_to = options.pop("_attempts_to", None)  # a cluster segment: walk until this many kernel attempts
    if symmetry == "t2" and init not in (None, "symmetric", "standard"):
        raise SymmetryOptionError(f"--symmetry t2 starts from the standard algorithm (--init standard or symmetric), "
                                  f"not {init!r}")
    if symmetry != "t2" and init not in (None, "symmetric"):
        raise SymmetryOptionError(f"--symmetry {symmetry} starts from diagonal cubes (--init symmetric), not {init!r}")
    ck_dir = options.pop("checkpoint", None)
    resume_dir = options.pop("resume", None)
    every = float(options.pop("checkpoint_every", None) or CHECKPOINT_EVERY)
    manifest = None
    if ck_dir is not None and resume_dir is not None and Path(ck_dir) != Path(resume_dir):
        raise FlipOptionError("give --checkpoint DIR to start a run or --resume DIR to continue one, not both")
    if resume_dir is not None:
        from .flip import _read_manifest
        manifest = _read_manifest(Path(resume_dir), s, int(rank))
        mo = manifest.get("options") or {}
        if mo.get("symmetry") in (None, "none"):
            raise SymmetryOptionError(f"the checkpoint in {resume_dir} is not a symmetric walk; resume it without --symmetry")
        ck_dir = str(resume_dir)
        seed, symmetry, ring, cubes = int(manifest["seed"]), mo["symmetry"], mo["ring"], mo["cubes"]
        options = {k: mo[k] for k in (*DEFAULTS, "restart_from", "kernel") if k in mo}
        workers = int((manifest.get("flip") or {}).get("walkers", 1))  # the walkers it was started with
    # the shape fits the symmetry (a resumed walk's symmetry is the manifest's, read above)
    if symmetry == "t2":
        if s.m != s.n:
            raise ShapeError(f"--symmetry t2 needs a shape <m,k,m> (the transposition maps <m,k,n> to <n,k,m>), "
                             f"got {s.angle()}")
        if max(s.a_size, s.c_size) > 64:
            raise ShapeError(f"the symmetric search packs each factor in 64 bits: m*k, m*m <= 64, got {s.angle()}")
    elif not (s.m == s.k == s.n):
        raise ShapeError(f"--symmetry {symmetry} needs a square shape <n,n,n>, got {s.angle()}"
                         + (" (--init symmetric without --symmetry walks c3)" if symmetry == "c3" else "")
                         + ("; a shape <m,k,m> takes --symmetry t2" if s.m == s.n else ""))
    elif s.n > 8:
        raise ShapeError(f"the symmetric search packs each factor in 64 bits: n <= 8, got {s.angle()}")
    from ._parallel import resolve_walkers
    n_workers = resolve_walkers(workers, s, child)
    restart_from = options.pop("restart_from", None) or "seed"
    kernel = options.pop("kernel", None)
    if kernel is None:
        kernel = DEFAULT_KERNEL if symmetry == "c3" else 1
    if isinstance(kernel, bool) or kernel not in KERNELS or (kernel != 1 and symmetry != "c3"):
        raise SymmetryOptionError(f"kernel must be one of {', '.join(map(str, KERNELS))} for --symmetry c3 "
                                  f"(1 for s3, z6), got {kernel!r}")
    kernel = int(kernel)
    if restart_from not in RESTART_FROM:
        raise FlipOptionError(f"restart_from must be seed or pool, got {restart_from!r}")
    unknown = set(options) - set(DEFAULTS) - {"start"}
    if unknown:
        raise FlipOptionError(f"unknown option(s) for the symmetric flip search: {', '.join(sorted(unknown))}")
    if options.get("start") is not None:
        raise SymmetryOptionError("the symmetric search starts from diagonal cubes; --start is not supported with --symmetry")
    goal = "Z" if ring is None else str(ring).upper()
    if goal not in ("Z", "Z2"):
        raise FlipOptionError(f"ring must be Z or Z2 for the symmetric search over GF(2), got {ring!r}")
    params = dict(DEFAULTS)
    params["restart_from"] = restart_from
    for k in DEFAULTS:
        if options.get(k) is not None:
            v = options[k]
            lo = 0 if k == "climb" else 1
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise FlipOptionError(f"{k} must be an integer >= {lo}, got {v!r}")
            params[k] = int(v)
    budget = budget or Budget()
    stop = stop or (lambda: False)
    if seed is None:
        import secrets
        seed = secrets.randbits(62)
    rank = int(rank)
    n = s.n
    group, fixed, orbits, cube_text, start_text = seed_parts(s, symmetry, cubes)
    G = group.order
    nf = fixed.shape[1]
    compile_s = warm_up()
    resolved = {"symmetry": symmetry, "field": 2, "ring": goal, "cubes": cube_text, "init": "symmetric",
                "workers": n_workers, "kernel": kernel, **params}
    rec = search_record(ENGINE, strategy=f"symmetric-{symmetry}", options=resolved, seed=int(seed),
                        workers=n_workers, device="cpu",
                        start=start_record("symmetric", start_text))
    if n_workers > 1 and not child:  # the walkers run in processes forked after the kernels compiled here
        yield from _search_parallel(s, rank, seed=int(seed), budget=budget, symmetry=symmetry, goal=goal,
                                    cube_text=cube_text, params=params, kernel=kernel, n_workers=n_workers,
                                    resolved=resolved, rec=rec, on_progress=on_progress, stop=stop, ck_dir=ck_dir,
                                    manifest=manifest, every=every)
        return
    walk_seed = walker_seed(int(seed), walker)  # walker 0 walks with the run's seed itself
    by_walker = {"walker": walker, "worker_seed": walk_seed} if n_workers > 1 else {}
    t0 = budget.started

    no0 = orbits.shape[1] // G
    cap_orbits = no0 + params["climb"] + 8
    F = np.zeros((3, cap_orbits * G), dtype=np.uint64)
    F[:, :orbits.shape[1]] = orbits
    no = no0
    rng = np.random.default_rng(walk_seed)
    state = np.array([rng.integers(1, 2**63 - 1)], dtype=np.uint64)
    counters = np.zeros(6, dtype=np.int64)  # the kernels' five, and draws (c3_walk2)
    use_v = symmetry == "c3" and kernel in (2, 3)  # the orbit values V are the state between kernel calls
    V = np.zeros((3, cap_orbits), dtype=np.uint64)
    if use_v:
        V[:, :no] = c3_values(F[:, :no * G], n)
    target_no = (rank - nf) // G  # walk until G * no + nf <= rank
    if target_no < 1:
        raise RankError(f"rank {rank} is below what a {symmetry}-invariant scheme can have here ({nf} fixed products)")
    best = overall = no
    seed_cols = F[:, :no * G].copy()
    pools = {no: [F[:, :no * G].copy()]}
    flips_at_best = 0
    attempts = attempts_at_best = 0
    restarts = 0
    proven = 0
    lifts_failed = 0
    levels: dict[int, float] = {G * no + nf: 0.0}
    tried: set[str] = set()  # digests (_key)
    t_report = 0.0
    flips_report = flips0 = 0
    self_stats = {"restarts_done": 0, "restarts_proven": 0, "proven": 0}
    search_symmetric.stats = self_stats
    search_symmetric.best_above_target = search_symmetric.best_modular = None
    archive: dict[int, list] = {}  # rank -> orbit columns of the lowest levels reached, across restarts

    def report():
        nonlocal t_report, flips_report
        now = time.monotonic()
        dt = now - t_report if t_report else now - t0
        fl = int(counters[0])
        rate = (fl - flips_report) / max(dt, 1e-9)
        t_report, flips_report = now, fl
        # what the CLI's final message reads (best rank mod p, time to each level, orbit flips/s overall)
        self_stats.update({"best_rank": G * overall + nf, "levels": dict(sorted(levels.items(), reverse=True)),
                           "flips": fl, "flips_per_s": (fl - flips0) / max(now - t0, 1e-9)})
        if on_progress is not None:
            on_progress(Progress(engine=ENGINE, restarts_done=restarts, unit="walks", proven=proven,
                                 elapsed=budget.elapsed(), best_rank=G * overall + nf, rate=None,
                                 extra={"rank": G * overall + nf, "current": G * no + nf, "orbit flips/s": f"{rate:.3g}",
                                        "symmetry": symmetry, "unlifted": lifts_failed}))

    def load(snap):
        nonlocal no
        F[:] = 0
        no = snap.shape[1] // G
        F[:, :no * G] = snap
        counters[3] = 0
        if use_v:
            V[:] = 0
            V[:, :no] = c3_values(snap, n)

    def cols_now():
        """The orbit columns of the current scheme (kernel 2: expanded from V on demand, also into F)."""
        if use_v:
            F[:] = 0
            F[:, :no * G] = c3_expand(V, no, n)
        return F[:, :no * G]

    unlifted_since_restart = 0
    before_s = 0.0  # walking seconds of the runs this one resumes
    ck = Path(ck_dir) if ck_dir is not None else None
    resumed: list[Scheme] = []
    if ck is not None:
        from .flip import _checkpoint_schemes, _write_manifest
        (ck / "walkers").mkdir(parents=True, exist_ok=True)
        (ck / "schemes").mkdir(exist_ok=True)
        wf = ck / "walkers" / f"walker-{walker:03d}.json"
        if manifest is not None and wf.exists():
            st = _read_walker(wf, s, symmetry, G)
            load(st["cols"])
            counters[:] = st["counters"]
            best, overall, attempts, restarts, proven = st["best"], st["overall"], st["attempts"], st["restarts"], st["proven"]
            flips_at_best, attempts_at_best = st["flips_at_best"], st["attempts_at_best"]
            lifts_failed, unlifted_since_restart = st["lifts_failed"], st["unlifted_since_restart"]
            pools, levels, tried, before_s = st["pools"], st["levels"], st["tried"], st["seconds"]
            archive = st["archive"]
            state[0] = np.uint64(st["kstate"])
            rng.bit_generator.state = st["rng"]
            self_stats["proven"] = self_stats["restarts_proven"] = proven
            self_stats["restarts_done"] = restarts
        if not child:  # a parallel run's parent yields the kept schemes and writes the manifest
            if manifest is not None:
                resumed = _checkpoint_schemes(ck, rank, "Z2" if goal == "Z2" else None)
            _write_manifest(ck, manifest, shape=list(s), rank=rank, seed=int(seed), options=resolved,
                            start=rec.get("start"), strategy=f"symmetric-{symmetry}", version=rec.get("version"),
                            commit=rec.get("commit"), flip={"walkers": 1, "walker_format": WALKER_FORMAT})

    def walked() -> float:
        return before_s + time.monotonic() - t0

    def save_state():
        if ck is None:
            return
        from .flip import _hex_rows, _write_json
        _write_json(wf, {
            "format": WALKER_FORMAT, "shape": list(s), "rank": rank, "symmetry": symmetry, "seed": int(seed),
            "walker": walker, "worker_seed": walk_seed,
            "cols": _hex_rows(cols_now()), "kstate": int(state[0]), "counters": [int(x) for x in counters],
            "rng": rng.bit_generator.state, "best": int(best), "overall": int(overall),
            "pools": {str(lv): [_hex_rows(c) for c in pl] for lv, pl in pools.items()},
            "archive": {str(lv): [_hex_rows(c) for c in pl] for lv, pl in archive.items()},
            "levels": {str(k): v for k, v in levels.items()}, "tried": sorted(tried),
            "attempts": int(attempts), "restarts": int(restarts), "proven": int(proven),
            "flips_at_best": int(flips_at_best), "attempts_at_best": int(attempts_at_best),
            "lifts_failed": int(lifts_failed), "unlifted_since_restart": int(unlifted_since_restart),
            "seconds": round(walked(), 3)})

    def keep(sch: Scheme):
        if ck is not None:
            from .flip import _keep_scheme
            _keep_scheme(ck, sch)

    flips0 = flips_report = int(counters[0])  # a resumed walk's flips/s counts this run's flips only
    t_saved = time.monotonic()
    try:
        for sch in resumed:
            yield sch
        while not (stop() or budget.time_up() or (budget.restarts is not None and restarts >= budget.restarts)
                   or (attempts_to is not None and attempts >= attempts_to)):
            if no <= target_no:
                cols = cols_now()
                key = _key(np.concatenate([cols, fixed], axis=1))
                if key not in tried:
                    tried.add(key)
                    sch = _finish(s, group, F, no, fixed, goal)
                    if sch is not None:
                        sch, completed, inv = sch
                        prov = result_record(rec, completed_by=completed, seconds=round(walked(), 3),
                                             invariant=bool(inv), flips=int(counters[0]), restart=restarts,
                                             **by_walker,
                                             rank_levels={str(k): v for k, v in sorted(levels.items(), reverse=True)},
                                             compile_seconds=round(compile_s, 3))
                        proven += 1
                        self_stats["proven"] = proven
                        self_stats["restarts_proven"] += 1
                        out = Scheme(s, sch.W_a, sch.W_b, sch.W_c, provenance=prov)
                        keep(out)
                        save_state()
                        yield out
                    else:
                        lifts_failed += 1
                        unlifted_since_restart += 1
                    flips_at_best = int(counters[0])
                    attempts_at_best = attempts
            no_before = no
            max_no = no0 if params["climb"] == 0 else best + params["climb"]
            if use_v:  # c3_walk2 / c3_walk3 on the values V kept between calls
                walk = c3_walk2 if kernel == 2 else c3_walk3
                no = walk(V, no, best - 1, 2 * CHUNK, params["plateau"], max_no, state, counters)
            elif symmetry == "c3":  # three values per orbit (cyclic convention), converted at the chunk's ends
                V = np.zeros((3, cap_orbits), dtype=np.uint64)
                V[:, :no] = c3_values(F[:, :no * G], n)
                no = c3_walk(V, no, best - 1, 2 * CHUNK, params["plateau"], max_no, state, counters, INDEX_BITS)
                F[:] = 0
                F[:, :no * G] = c3_expand(V, no, n)
            else:
                no = sym_walk_ix(F, no, G, group.mul, group.slot, best - 1, CHUNK, params["plateau"],
                                 max_no, state, counters, INDEX_BITS)
            attempts += CHUNK
            if no < best:
                best = no
                overall = min(overall, best)
                pools[no] = [cols_now().copy()]
                _archive_add(archive, G * no + nf, pools[no][0])
                levels.setdefault(G * no + nf, round(walked(), 3))
                flips_at_best = int(counters[0])
                attempts_at_best = attempts
                report()
            elif no == best and no_before != best:
                snap = cols_now().copy()
                _archive_add(archive, G * no + nf, snap)
                pool = pools[best]
                if len(pool) < params["pool_size"]:
                    pool.append(snap)
                else:
                    pool[int(rng.integers(len(pool)))] = snap
            if (int(counters[0]) - flips_at_best >= params["restart_after"]
                    or attempts - attempts_at_best >= 20 * params["restart_after"] or unlifted_since_restart >= 4):
                if params["restart_from"] == "seed" and unlifted_since_restart < 4:
                    # a fresh run from the diagonal cubes (Moosbauer & Poole's runs); the overall best is kept
                    load(seed_cols)
                    best = no0
                    pools = {no0: [seed_cols.copy()]}
                else:
                    up = int(rng.integers(1, 3)) if unlifted_since_restart >= 4 else int(rng.integers(0, 2))
                    level = min((lv for lv in pools if lv >= best + up), default=best)
                    src = pools[level]
                    load(src[int(rng.integers(len(src)))])
                unlifted_since_restart = 0
                flips_at_best = int(counters[0])
                attempts_at_best = attempts
                restarts += 1
                self_stats["restarts_done"] = restarts
            if time.monotonic() - t_report >= 0.5:
                report()
            if ck is not None and time.monotonic() - t_saved >= every:
                save_state()
                t_saved = time.monotonic()
    finally:  # also when the consumer closes the generator after a scheme (the stats of this run, not a stale one)
        save_state()
        search_symmetric.last = {"best_rank": G * overall + nf, "levels": dict(levels), "flips": int(counters[0]),
                                 "draws": int(counters[5]), "kernel": kernel,
                                 "undone": int(counters[4]), "plus": int(counters[2]), "seconds": time.monotonic() - t0}
        report()
        # a missed target (issue point 7); a cluster segment's end is not the end of the walk
        if proven == 0 and attempts_to is None:
            _finish_missed(s, group, rank, goal, rec, archive, fixed, levels, walked(), int(counters[0]), compile_s)


def _search_parallel(s: Shape, rank: int, *, seed: int, budget: Budget, symmetry: str, goal: str, cube_text: str,
                     params: dict, kernel: int, n_workers: int, resolved: dict, rec: dict, on_progress, stop, ck_dir,
                     manifest, every: float) -> Iterator[Scheme]:
    """``workers`` > 1: that many independent walkers (:func:`._parallel.run_walkers`); walker w walks as a
    one-walker run with :func:`walker_seed` (seed, w).  The manifest records the walker count."""
    from ._parallel import run_walkers
    stats = {"restarts_done": 0, "restarts_proven": 0, "proven": 0, "walks": n_workers, "seed": seed}
    search_symmetric.stats = stats
    kwargs = {"shape": tuple(s), "rank": rank, "seed": seed, "symmetry": symmetry, "ring": goal, "cubes": cube_text,
              "init": "symmetric", "checkpoint_every": every, **{k: params[k] for k in DEFAULTS},
              "restart_from": params["restart_from"], "kernel": kernel}
    fields = {"shape": list(s), "rank": rank, "seed": seed, "options": resolved, "start": rec.get("start"),
              "strategy": f"symmetric-{symmetry}", "version": rec.get("version"), "commit": rec.get("commit"),
              "flip": {"walkers": n_workers, "walker_format": WALKER_FORMAT}}

    search_symmetric.best_above_target = search_symmetric.best_modular = None

    def on_end(result):
        search_symmetric.last = {**result["last"], "kernel": kernel}
        if stats["proven"] == 0:
            search_symmetric.best_above_target = result["best_above_target"]
            search_symmetric.best_modular = result["best_modular"]
    grace = 10.0 + max(FINISH_LIFT_SECONDS, 0.1 * (budget.time_limit or 0.0))
    yield from run_walkers(search_symmetric, kwargs, n_workers, rank=rank, budget=budget, stop=stop,
                           goal_ok=lambda v: v.ok or (goal == "Z2" and v.ring == "Z2"),
                           modular="Z2" if goal == "Z2" else None, on_progress=on_progress, stats=stats,
                           ck=Path(ck_dir) if ck_dir is not None else None, manifest=manifest,
                           manifest_fields=fields, label={"symmetry": symmetry}, on_end=on_end, grace=grace)


def _read_walker(f: Path, s: Shape, symmetry: str, G: int) -> dict:
    from .flip import FlipOptionError
    try:
        st = json.loads(f.read_text())
    except (OSError, ValueError) as e:
        raise FlipOptionError(f"cannot read the symmetric walker state {f}: {e}") from None
    return _parse_walker(st, s, symmetry, G, str(f))


def _parse_walker(st, s: Shape, symmetry: str, G: int, where: str) -> dict:
    """A walker state object (as saved by :func:`search_symmetric`) with its arrays decoded."""
    from .flip import FlipOptionError, _unhex_rows
    if (not isinstance(st, dict) or st.get("format") != WALKER_FORMAT or tuple(st.get("shape", ())) != tuple(s)
            or st.get("symmetry") != symmetry):
        raise FlipOptionError(f"{where} is not a {symmetry} walker state for {tuple(s)}")
    st = dict(st)
    st["cols"] = _unhex_rows(st["cols"])
    if st["cols"].shape[1] % G:
        raise FlipOptionError(f"{where}: walker state inconsistent ({st['cols'].shape[1]} columns, orbits of {G})")
    st["pools"] = {int(lv): [_unhex_rows(c) for c in pl] for lv, pl in st["pools"].items()}
    # states written before the archive existed resume with an empty one
    st["archive"] = {int(lv): [_unhex_rows(c) for c in pl] for lv, pl in (st.get("archive") or {}).items()}
    st["levels"] = {int(k): float(v) for k, v in st["levels"].items()}
    st["tried"] = set(st["tried"])
    st["counters"] = np.array(st["counters"], dtype=np.int64)
    return st


def replay_symmetric(provenance: dict, shape=None, rank=None) -> Iterator[Scheme]:
    """Re-run the symmetric walk that produced a scheme with this provenance: the walk is a function of the
    seed and the options alone (kernel calls of whole chunks, restarts counted, never the clock), so the
    same seed and options with a budget of ``restart + 1`` restarts reach the recorded scheme again.
    Yields what that walk proves (the recorded scheme among them).  Raises ReplayError when it cannot."""
    from ..errors import ReplayError
    p = provenance or {}
    opts = dict(p.get("options") or {})
    for key in ("seed", "restart"):
        if p.get(key) is None:
            raise ReplayError(f"the provenance has no {key!r}: the symmetric walk cannot be re-run")
    if shape is None or rank is None:
        raise ReplayError("the shape and the rank of the scheme are needed to replay a symmetric walk")
    if opts.get("symmetry") in (None, "none"):
        raise ReplayError("the provenance names no symmetry")
    # the walk's own options (a cluster run also records its task sizes: segment_attempts, chunk)
    kw = {k: opts[k] for k in (*DEFAULTS, "restart_from", "kernel", "symmetry", "ring", "cubes") if k in opts}
    kw.setdefault("kernel", 1)  # recorded before kernel versions: c3_walk (version 1)
    budget = Budget(restarts=int(p["restart"]) + 1, count=None)
    # walker w of a parallel run walked as a one-walker run with its own seed (walker_seed)
    seed = int(p["worker_seed"]) if p.get("worker_seed") is not None else int(p["seed"])
    yield from search_symmetric(tuple(shape), int(rank), seed=seed, budget=budget, init="symmetric", workers=1,
                                **kw)
