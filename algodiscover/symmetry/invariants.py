"""Invariants of a scheme under the whole group (basis changes, transposition/cycle, product order,
scalings), and a fingerprint built from them.

Per product t we take the *signature*: the ranks of the three factors as matrices (a basis change
multiplies them by invertible matrices; transposing does not change a rank); p_x = how many other
products have a factor proportional to x_t in the same slot (proportionality survives every linear map
and every scaling); and, per slot, the sorted pair (how many share x_t's column space, how many share its
row space): X maps column spaces to column spaces, and transposition swaps columns and rows.  The transposition and the cycle permute
the three slots, so the fingerprint takes the smallest sorted multiset of signatures over the six
permutations of the slots.  Note that nnz, the addition count and the ring are *not* invariant.
"""

from __future__ import annotations

import hashlib
import math
import itertools
from dataclasses import dataclass
from fractions import Fraction

from ..core.scheme import Scheme
from . import _exact as ex

_SLOT_PERMS = list(itertools.permutations(range(3)))


def factors(scheme: Scheme):
    """[(a_t, b_t, c_t)] as exact DomainMatrices of sizes m x k, k x n, m x n."""
    m, k, n = scheme.shape
    Wa, Wb, Wc = scheme.W_a.tolist(), scheme.W_b.tolist(), scheme.W_c.T.tolist()
    out = []
    for t in range(scheme.rank):
        a = ex.dm([Wa[t][i * k:(i + 1) * k] for i in range(m)], (m, k))
        b = ex.dm([Wb[t][j * n:(j + 1) * n] for j in range(k)], (k, n))
        c = ex.dm([Wc[t][i * n:(i + 1) * n] for i in range(m)], (m, n))
        out.append((a, b, c))
    return out


def _integral(row) -> list[int]:
    """The row times the lcm of its denominators (a nonzero multiple, made of Python ints)."""
    if all(type(x) is int for x in row):
        return row
    fr = [Fraction(x) for x in row]
    den = math.lcm(*(f.denominator for f in fr)) if fr else 1
    return [int(f * den) for f in fr]


def _direction(row) -> tuple:
    """A canonical representative of the line through a nonzero vector: coprime integers, first nonzero
    entry positive (equal exactly for proportional vectors; the zero vector maps to zeros)."""
    row = _integral(list(row))
    g = math.gcd(*row) if row else 0
    if g == 0:
        return tuple(row)
    if next(x for x in row if x) < 0:
        g = -g
    return tuple(x // g for x in row)


@dataclass(frozen=True)
class Invariants:
    sorted_shape: tuple[int, int, int]
    rank: int
    signatures: tuple[tuple[int, ...], ...]  # per product, in product order (orientation as given)

    def profile(self) -> tuple[tuple[int, ...], ...]:
        """The multiset of signatures, minimised over the six permutations of the three slots."""
        best = None
        for p in _SLOT_PERMS:
            perm = tuple(sorted(tuple(s[i] for i in p) + tuple(s[3 + i] for i in p) + tuple(s[6 + i] for i in p)
                                for s in self.signatures))
            if best is None or perm < best:
                best = perm
        return best

    def rank_profile(self) -> dict:
        """{(rank a, rank b, rank c): count} in the given orientation."""
        out: dict = {}
        for s in self.signatures:
            out[s[:3]] = out.get(s[:3], 0) + 1
        return dict(sorted(out.items()))


def _mat(row, p: int, q: int) -> list[list]:
    return [row[i * q:(i + 1) * q] for i in range(p)]


def _transpose(M: list[list]) -> list[list]:
    return [list(c) for c in zip(*M)]


def _space_keys(M: list[list]) -> tuple[tuple, tuple]:
    """(column space, row space) of a small exact matrix, each as its canonical RREF basis.

    Rank <= 1 (most factors) is recognised directly: M = col (x) row / pivot, and the space is the line
    through col (resp. row), keyed by :func:`_direction`.  Other ranks go through sympy's RREF (keys of
    different ranks never coincide, so the two kinds of keys never need to be compared)."""
    pivot = next(((i, j) for i, r in enumerate(M) for j, x in enumerate(r) if x != 0), None)
    if pivot is None:
        return (), ()
    i, j = pivot
    p, col, row = M[i][j], [r[j] for r in M], M[i]
    if all(M[a][b] * p == col[a] * row[b] for a in range(len(M)) for b in range(len(row))):
        return (_direction(col),), (_direction(row),)
    return ex.rref_key(_transpose(M)), ex.rref_key(M)


def relations(scheme: Scheme) -> list[list[list]]:
    """rel[slot][kind][t]: a hashable label of product t's factor in slot a/b/c, for kind 0 = the factor
    up to scaling, 1 = its column space, 2 = its row space.  Equal labels mean equal objects; which
    products share a label is preserved by every basis change (orientation maps permute slots/kinds)."""
    cached = scheme._cache.get("symmetry.relations")
    if cached is not None:
        return cached
    m, k, n = scheme.shape
    dims = ((m, k), (k, n), (m, n))
    # every label below is invariant under scaling a factor, so clear denominators row by row first
    rows = tuple([_integral(r) for r in W] for W in (scheme.W_a.tolist(), scheme.W_b.tolist(), scheme.W_c.T.tolist()))
    rel = []
    for slot in range(3):
        mats = [_mat(rows[slot][t], *dims[slot]) for t in range(scheme.rank)]
        spaces = [_space_keys(M) for M in mats]
        rel.append([[_direction(rows[slot][t]) for t in range(scheme.rank)],
                    [sp[0] for sp in spaces],
                    [sp[1] for sp in spaces]])
    scheme._cache["symmetry.relations"] = rel
    return rel


def _sharing(labels) -> list[int]:
    tally: dict = {}
    for d in labels:
        tally[d] = tally.get(d, 0) + 1
    return [tally[d] - 1 for d in labels]


def product_signatures(scheme: Scheme) -> tuple[tuple, ...]:
    """Per product: (rank a, rank b, rank c, p_a, p_b, p_c, s_a, s_b, s_c), p_x = other products with a
    factor proportional to x_t, s_x = sorted (products sharing x_t's column space, sharing its row space)."""
    cached = scheme._cache.get("symmetry.signatures")
    if cached is not None:
        return cached
    rel = relations(scheme)
    ranks = [tuple(len(rel[slot][2][t]) for slot in range(3)) for t in range(scheme.rank)]
    par = [_sharing(rel[slot][0]) for slot in range(3)]
    col = [_sharing(rel[slot][1]) for slot in range(3)]
    row = [_sharing(rel[slot][2]) for slot in range(3)]
    sigs = tuple(ranks[t] + tuple(par[x][t] for x in range(3))
                 + tuple(tuple(sorted((col[x][t], row[x][t]))) for x in range(3)) for t in range(scheme.rank))
    scheme._cache["symmetry.signatures"] = sigs
    return sigs


def invariants(scheme: Scheme) -> Invariants:
    """The invariants of a scheme under the whole group (product signatures, factor ranks, ...): schemes whose
    invariants differ are not equivalent; equal invariants are only evidence."""
    return Invariants(tuple(scheme.shape.sorted()), scheme.rank, product_signatures(scheme))


def fingerprint(scheme: Scheme) -> str:
    """A short hex digest of the invariants: equal for equivalent schemes (the converse need not hold)."""
    cached = scheme._cache.get("symmetry.fingerprint")
    if cached is not None:
        return cached
    inv = invariants(scheme)
    text = repr(("algodiscover.fingerprint/2", inv.sorted_shape, inv.rank, inv.profile()))
    fp = hashlib.sha256(text.encode()).hexdigest()[:24]
    scheme._cache["symmetry.fingerprint"] = fp
    return fp


def compare(s1: Scheme, s2: Scheme) -> str | None:
    """None if every invariant agrees, else a one-line reason naming the first one that differs."""
    i1, i2 = invariants(s1), invariants(s2)
    if i1.sorted_shape != i2.sorted_shape:
        return (f"the shapes differ ({s1.shape.angle()} vs {s2.shape.angle()}, "
                f"not a permutation of each other)")
    if i1.rank != i2.rank:
        return f"the ranks differ ({i1.rank} vs {i2.rank})"
    p1, p2 = i1.profile(), i2.profile()
    r1 = sorted(tuple(sorted(s[:3])) for s in p1)
    r2 = sorted(tuple(sorted(s[:3])) for s in p2)
    if r1 != r2:
        return "the factor-rank profiles differ (ranks of the a, b, c factors as matrices)"
    if p1 != p2:
        return ("the product signatures differ (factor ranks, and which products share a factor "
                "or its column or row space)")
    return None
