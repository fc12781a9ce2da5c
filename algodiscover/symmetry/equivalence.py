"""Deciding whether two schemes are equivalent under the group of :mod:`.group`, exactly.

``equivalent(s1, s2)`` answers

* ``"equivalent"``: a :class:`Transformation` g was found with g(s1) == s2 exactly (same products in
  the same order with the same coefficients; checked after the search, in Fractions);
* ``"not equivalent"``: an invariant differs, or the exhaustive search below proved that no
  transformation exists;
* ``"unknown"``: the search could not pin the basis change down, or hit its node limit.

Search.  For each of the six orientation maps giving s2's shape, products of s1 are matched to products
of s2 with the same signature, by backtracking.  A match a_t -> a'_u forces the column and row spaces
to correspond: X col(a_t) = col(a'_u), row(a'_u) Y = row(a_t), and likewise for b (Y, Z) and c
(X^-T, Z^T).  These conditions are *linear* in X, Y, Z, so each partial matching leaves three linear
spaces of candidates; a branch dies when one becomes zero.  Once each space is one-dimensional, the
basis change is unique up to scalars (which are product scalings), and it is applied exactly and
compared with s2 by canonical form.  The conditions have rational coefficients, so a space that is zero
or one-dimensional over Q is so over every field of characteristic 0: when every branch ends that way,
no transformation exists at all.  For <2,2,2> of rank 7 (every such scheme is equivalent to
Strassen's, de Groote 1978) each product has a rank-one factor in most slots, which pins X, Y, Z
after a few matches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

from ..core.canonical import canonical_key
from ..core.scheme import Scheme
from . import _exact as ex
from .group import WORDS, Transformation, apply_word, basis_change
from .invariants import compare, factors, product_signatures, relations

EQUIVALENT, NOT_EQUIVALENT, UNKNOWN = "equivalent", "not equivalent", "unknown"


@dataclass(frozen=True)
class Equivalence:
    verdict: str
    transformation: Transformation | None = None
    reason: str = ""
    nodes: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __iter__(self):  # allows ``verdict, g = equivalent(s1, s2)``
        return iter((self.verdict, self.transformation))

    def describe(self) -> str:
        head = f"{self.verdict}" + (f": {self.reason}" if self.reason else "")
        if self.nodes:
            head += f" ({self.nodes} search nodes)"
        lines = [head]
        if self.transformation is not None:
            lines += self.transformation.describe().splitlines()
        lines += list(self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Readable in a notebook: verdict, reason and the transformation's X, Y, Z as small matrices."""
        return "Equivalence(" + "\n  ".join(self.describe().splitlines()) + ")"

    def _repr_html_(self) -> str:
        import html
        color = {EQUIVALENT: "#1a7f37", NOT_EQUIVALENT: "#cf222e"}.get(self.verdict, "#9a6700")
        rest = self.describe().splitlines()[1:]
        body = f"<pre style='margin-top:4px'>{html.escape(chr(10).join(rest))}</pre>" if rest else ""
        return (f"<div class='algodiscover-equivalence'><b style='color:{color}'>{html.escape(self.verdict)}</b>"
                f"{': ' + html.escape(self.reason) if self.reason else ''}{body}</div>")


class _Limit(Exception):
    pass


def _spaces(M):
    """(C, N, R, K): bases (as columns) of col(M), left null(M), row(M)^T, right null(M)."""
    K = ex.null_cols(M)
    N = ex.null_cols(M.transpose())
    R = ex.null_cols(K.transpose()) if K.shape[1] else ex.eye(M.shape[1])
    C = ex.null_cols(N.transpose()) if N.shape[1] else ex.eye(M.shape[0])
    return C, N, R, K


def _eqs(left, right):
    """Rows acting on row-major vec(V) for the condition left^T V right = 0 (None if vacuous)."""
    if left.shape[1] == 0 or right.shape[1] == 0:
        return None
    return ex.kron(left.transpose(), right.transpose())


class _Matcher:
    def __init__(self, src: Scheme, dst: Scheme, node_limit: int, deadline: float | None, collect=None):
        self.src, self.dst = src, dst
        self.collect = collect  # a list: find every transformation (append each) instead of the first
        self.node_limit = node_limit
        self.deadline = deadline
        self.nodes = 0
        self.unresolved = False
        self.key = canonical_key(dst)
        self.sp1 = [tuple(_spaces(M) for M in f) for f in factors(src)]
        self.sp2 = [tuple(_spaces(M) for M in f) for f in factors(dst)]
        self.sig1 = product_signatures(src)
        self.sig2 = product_signatures(dst)
        self.rel1 = [lab for slot in relations(src) for lab in slot]
        self.rel2 = [lab for slot in relations(dst) for lab in slot]
        self.matched: list[tuple[int, int]] = []
        self._eq_cache: dict = {}
        self._tried: set = set()

    def equations(self, t: int, u: int):
        """Linear conditions on (vec X, vec Y, vec Z) for matching product t of src to product u of dst."""
        key = (t, u)
        if key not in self._eq_cache:
            (Ca, _, Ra, Ka), (Cb, _, Rb, Kb), (Cc, Nc, Rc, _) = self.sp1[t]
            (_, Na2, Ra2, _), (_, Nb2, Rb2, _), (Cc2, _, _, Kc2) = self.sp2[u]
            ex_ = [_eqs(Na2, Ca), _eqs(Cc2, Nc)]          # X col(a) = col(a');  X^T col(c') = col(c)
            ey_ = [_eqs(Ra2, Ka), _eqs(Nb2, Cb)]          # row(a') Y = row(a);  Y col(b) = col(b')
            ez_ = [_eqs(Rb2, Kb), _eqs(Kc2, Rc)]          # row(b') Z = row(b);  row(c) Z^T = row(c')
            self._eq_cache[key] = tuple([e for e in group if e is not None] for group in (ex_, ey_, ez_))
        return self._eq_cache[key]

    @staticmethod
    def restrict(N, eqs):
        for E in eqs:
            if N.shape[1] == 0:
                return N
            S = E * N
            N = N * ex.null_cols(S)
        return N

    def run(self):
        m, k, n = self.src.shape
        r = self.src.rank
        cands = {t: [u for u in range(r) if self.sig2[u] == self.sig1[t]] for t in range(r)}
        if any(not c for c in cands.values()):
            return None
        # most constraining products first: low factor ranks, few candidates
        order = sorted(range(r), key=lambda t: (sum(self.sig1[t][:3]), len(cands[t]), t))
        used = [False] * r
        state = (ex.eye(m * m), ex.eye(k * k), ex.eye(n * n))
        return self._rec(0, order, cands, used, state)

    def _rec(self, i, order, cands, used, state):
        self.nodes += 1
        if self.nodes > self.node_limit or (
                self.deadline is not None and self.nodes % 64 == 0 and time.monotonic() > self.deadline):
            raise _Limit
        NX, NY, NZ = state
        if NX.shape[1] == 1 and NY.shape[1] == 1 and NZ.shape[1] == 1:
            found = self._try(NX, NY, NZ)
            if found is not None and self.collect is not None:
                self.collect.append(found)
                return None
            return found
        if i == len(order):
            # a complete matching that leaves a space of candidates (a nontrivial stabiliser, as for the
            # standard algorithm): try a few elements of it; the exact check below decides
            self.unresolved = True  # (even when a candidate works: the stabiliser is not finite here)
            for coeffs in self._generic(NX.shape[1], NY.shape[1], NZ.shape[1]):
                found = self._try(*(N * ex.dm([[c] for c in cs]) for N, cs in zip(state, coeffs)))
                if found is not None:
                    if self.collect is not None:
                        self.collect.append(found)
                        return None
                    return found
            return None
        t = order[i]
        for u in cands[t]:
            if used[u] or not self._consistent(t, u):
                continue
            eX, eY, eZ = self.equations(t, u)
            NX2 = self.restrict(NX, eX)
            if NX2.shape[1] == 0:
                continue
            NY2 = self.restrict(NY, eY)
            if NY2.shape[1] == 0:
                continue
            NZ2 = self.restrict(NZ, eZ)
            if NZ2.shape[1] == 0:
                continue
            used[u] = True
            self.matched.append((t, u))
            found = self._rec(i + 1, order, cands, used, (NX2, NY2, NZ2))
            self.matched.pop()
            used[u] = False
            if found is not None:
                return found
        return None

    def _consistent(self, t: int, u: int) -> bool:
        """Products sharing a factor, column space or row space must be matched to products that do."""
        for t2, u2 in self.matched:
            for lab1, lab2 in zip(self.rel1, self.rel2):
                if (lab1[t] == lab1[t2]) != (lab2[u] == lab2[u2]):
                    return False
        return True

    def _generic(self, dx, dy, dz):
        import random
        rnd = random.Random(dx * 10007 + dy * 101 + dz)
        yield [1] * dx, [1] * dy, [1] * dz
        yield list(range(1, dx + 1)), list(range(1, dy + 1)), list(range(1, dz + 1))
        for _ in range(3):
            yield tuple([rnd.randint(-5, 5) for _ in range(d)] for d in (dx, dy, dz))

    def _try(self, NX, NY, NZ):
        m, k, n = self.src.shape
        X = ex.primitive(ex.reshape(NX, m, m))
        Y = ex.primitive(ex.reshape(NY, k, k))
        Z = ex.primitive(ex.reshape(NZ, n, n))
        sig = tuple(tuple(tuple(r) for r in M.to_list()) for M in (X, Y, Z))
        if sig in self._tried:
            return None
        self._tried.add(sig)
        if X.det() == 0 or Y.det() == 0 or Z.det() == 0:
            return None
        Xa, Ya, Za = ex.to_array(X), ex.to_array(Y), ex.to_array(Z)
        image = basis_change(self.src, Xa, Ya, Za)
        if canonical_key(image) != self.key:
            return None
        return (Xa, Ya, Za), image


def _align(image: Scheme, target: Scheme):
    """(perm, scale_a, scale_b) turning ``image`` into ``target`` exactly, or None."""
    def norm(v):
        vals = [Fraction(x) for x in v]
        f = next((x for x in vals if x != 0), Fraction(1))
        return tuple(x / f for x in vals), f

    r = image.rank
    tgt = {}
    for u in range(r):
        (na, fa), (nb, fb) = norm(target.W_a[u].tolist()), norm(target.W_b[u].tolist())
        tgt.setdefault((na, nb), []).append((u, fa, fb))
    perm, sa, sb = [None] * r, [None] * r, [None] * r
    for t in range(r):
        (na, fa), (nb, fb) = norm(image.W_a[t].tolist()), norm(image.W_b[t].tolist())
        bucket = tgt.get((na, nb))
        if not bucket:
            return None
        for idx, (u, ga, gb) in enumerate(bucket):
            x, y = ga / fa, gb / fb
            c_img = [Fraction(v) / (x * y) for v in image.W_c[:, t].tolist()]
            if c_img == [Fraction(v) for v in target.W_c[:, u].tolist()]:
                perm[t], sa[t], sb[t] = u, x, y
                bucket.pop(idx)
                break
        else:
            return None
    return tuple(perm), tuple(sa), tuple(sb)


def _label(word) -> str:
    return " then ".join(word) or "identity"


def _build(s1: Scheme, s2: Scheme, word, found, undecided: list) -> Transformation | None:
    (X, Y, Z), image = found
    aligned = _align(image, s2)
    if aligned is None:  # canonical keys agree, so this cannot happen unless the key collides
        undecided.append("canonical keys agree but the products could not be aligned")
        return None
    perm, sa, sb = aligned
    g = Transformation(s1.shape, word, X, Y, Z, perm, sa, sb)
    if g.apply(s1) != s2:  # the exact check that makes the verdict trustworthy
        undecided.append("a candidate transformation failed the exact check")
        return None
    return g


def equivalent(s1: Scheme, s2: Scheme, *, node_limit: int = 20_000, time_limit: float | None = 30.0
               ) -> Equivalence:
    """Whether s2 is the image of s1 under the symmetry group; see the module docstring.

    The search stops with ``"unknown"`` after ``node_limit`` matching steps or ``time_limit`` seconds.
    """
    reason = compare(s1, s2)
    if reason is not None:
        return Equivalence(NOT_EQUIVALENT, None, reason)
    total = 0
    deadline = None if time_limit is None else time.monotonic() + time_limit
    undecided: list[str] = []
    for word in WORDS:
        src = apply_word(s1, word)
        if src.shape != s2.shape:
            continue
        if canonical_key(src) == canonical_key(s2):
            found = ((None, None, None), src)
        else:
            matcher = _Matcher(src, s2, node_limit - total, deadline)
            try:
                found = matcher.run()
            except _Limit:
                found = None
                undecided.append(f"search limit reached ({_label(word)})")
            total += matcher.nodes
            if found is None and matcher.unresolved:
                undecided.append(f"basis change not determined by the factors ({_label(word)})")
        if found is None:
            continue
        g = _build(s1, s2, word, found, undecided)
        if g is not None:
            return Equivalence(EQUIVALENT, g, "transformation found and checked exactly", total)
    if undecided:
        return Equivalence(UNKNOWN, None, "; ".join(dict.fromkeys(undecided)), total)
    return Equivalence(NOT_EQUIVALENT, None,
                       "no basis change, orientation and product matching maps one onto the other "
                       "(exhaustive search)", total)


def transformations(s1: Scheme, s2: Scheme, *, words=WORDS, node_limit: int = 200_000,
                    time_limit: float | None = 120.0) -> tuple[list[Transformation], bool]:
    """Every transformation mapping s1 onto s2 (basis changes counted up to scalars), each checked exactly.

    Returns (transformations, complete): ``complete`` is False when the search hit a limit or met a
    continuous family of solutions (then the list holds only some of them).
    """
    if compare(s1, s2) is not None:
        return [], True
    deadline = None if time_limit is None else time.monotonic() + time_limit
    out: list[Transformation] = []
    complete = True
    total = 0
    for word in words:
        src = apply_word(s1, word)
        if src.shape != s2.shape:
            continue
        found: list = []
        matcher = _Matcher(src, s2, node_limit - total, deadline, collect=found)
        try:
            matcher.run()
        except _Limit:
            complete = False
        total += matcher.nodes
        complete = complete and not matcher.unresolved
        undecided: list[str] = []
        for f in found:
            g = _build(s1, s2, word, f, undecided)
            if g is not None:
                out.append(g)
        complete = complete and not undecided
    return out, complete


def symmetries(scheme: Scheme, **kw) -> tuple[list[Transformation], bool]:
    """The automorphism group of a scheme: every transformation mapping it onto itself (up to product
    order and scalings).  For Strassen's algorithm it has 36 elements, isomorphic to S3 x S3
    (Burichenko 2014, "On symmetries of the Strassen algorithm")."""
    return transformations(scheme, scheme, **kw)
