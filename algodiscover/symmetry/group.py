"""The group acting on bilinear schemes for <m,k,n>, and its elements as exact data.

A scheme is a multiset of rank-one tensors a_t (x) b_t (x) c_t with a_t an m x k matrix (row t of W_a),
b_t a k x n matrix (row t of W_b) and c_t an m x n matrix (column t of W_c).  These maps send correct
schemes to correct schemes of the same rank:

* a basis change (X, Y, Z) in GL_m x GL_k x GL_n:
  ``a -> X a Y^-1,  b -> Y b Z^-1,  c -> X^-T c Z^T``
  (on the coefficient matrices: the contraction over the inner index survives because Y^-1 Y = I,
  and the pairing of the output with the outer indices because X^-1 X = Z^-1 Z = I);
* the transposition <m,k,n> -> <n,k,m> and the cyclic map <m,k,n> -> <k,n,m>
  (:mod:`algodiscover.core.transform`), which generate all six orders of (m, k, n);
* a permutation of the products, and scalings inside a product (a -> x a, b -> y b, c -> c/(x y)).

A :class:`Transformation` stores one element as ``word`` (maps from the transform module, applied first),
then ``(X, Y, Z)``, then the product permutation and scalings; :meth:`Transformation.apply` computes
the image exactly (Fractions; nothing is rounded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.transform import cycle, transpose
from ..errors import SchemeError
from . import _exact as ex

# The six elements of S3 acting on the order of (m, k, n), as words in the two generators.
WORDS: tuple[tuple[str, ...], ...] = ((), ("cycle",), ("cycle", "cycle"), ("transpose",),
                                      ("transpose", "cycle"), ("transpose", "cycle", "cycle"))
_MAPS = {"transpose": transpose, "cycle": cycle}


def apply_word(scheme: Scheme, word) -> Scheme:
    """Apply the symmetry maps of ``word`` (a sequence of ``"transpose"`` and ``"cycle"``) in order."""
    for op in word:
        if op not in _MAPS:
            raise SchemeError(f"unknown symmetry {op!r}; expected 'transpose' or 'cycle'")
        scheme = _MAPS[op](scheme)
    return scheme


def word_shape(shape, word) -> Shape:
    m, k, n = parse_shape(shape)
    for op in word:
        m, k, n = (n, k, m) if op == "transpose" else (k, n, m)
    return Shape(m, k, n)


def _square(M, size: int, name: str) -> np.ndarray:
    A = np.empty((size, size), dtype=object)
    rows = M.tolist() if isinstance(M, np.ndarray) else [list(r) for r in M]
    if len(rows) != size or any(len(r) != size for r in rows):
        raise SchemeError(f"{name} must be a {size}x{size} matrix")
    for i, r in enumerate(rows):
        for j, x in enumerate(r):
            A[i, j] = Fraction(x)
    return A


def _invert(M: np.ndarray, name: str) -> np.ndarray:
    D = ex.dm(M)
    if D.det() == 0:
        raise SchemeError(f"{name} is singular; a basis change needs an invertible matrix")
    return ex.to_array(D.inv())


def basis_change(scheme: Scheme, X, Y, Z) -> Scheme:
    """The scheme with a -> X a Y^-1, b -> Y b Z^-1, c -> X^-T c Z^T for every product (exact)."""
    m, k, n = scheme.shape
    X, Y, Z = _square(X, m, "X"), _square(Y, k, "Y"), _square(Z, n, "Z")
    Xi, Yi, Zi = _invert(X, "X"), _invert(Y, "Y"), _invert(Z, "Z")
    # row-major vec: vec(P a Q) = (P kron Q^T) vec(a)
    Ka = np.kron(X, Yi.T)
    Kb = np.kron(Y, Zi.T)
    Kc = np.kron(Xi.T, Z)
    obj = lambda W: W.astype(object)  # noqa: E731
    Wa = obj(scheme.W_a).dot(Ka.T)
    Wb = obj(scheme.W_b).dot(Kb.T)
    Wc = Kc.dot(obj(scheme.W_c))
    return Scheme(scheme.shape, Wa, Wb, Wc, provenance=scheme.provenance)


def permute_and_scale(scheme: Scheme, perm, scale_a=None, scale_b=None) -> Scheme:
    """Product t becomes product perm[t], with a_t * scale_a[t], b_t * scale_b[t], c_t / (both)."""
    r = scheme.rank
    perm = list(perm)
    if sorted(perm) != list(range(r)):
        raise SchemeError(f"perm must be a permutation of 0..{r - 1}")
    sa = [Fraction(1)] * r if scale_a is None else [Fraction(x) for x in scale_a]
    sb = [Fraction(1)] * r if scale_b is None else [Fraction(x) for x in scale_b]
    if len(sa) != r or len(sb) != r or any(x == 0 for x in sa + sb):
        raise SchemeError("scalings must be r nonzero numbers")
    Wa = np.empty(scheme.W_a.shape, dtype=object)
    Wb = np.empty(scheme.W_b.shape, dtype=object)
    Wc = np.empty(scheme.W_c.shape, dtype=object)
    for t in range(r):
        u = perm[t]
        Wa[u] = scheme.W_a[t].astype(object) * sa[t]
        Wb[u] = scheme.W_b[t].astype(object) * sb[t]
        Wc[:, u] = scheme.W_c[:, t].astype(object) / (sa[t] * sb[t])
    return Scheme(scheme.shape, Wa, Wb, Wc, provenance=scheme.provenance)


def _fmt(x) -> str | int:
    f = Fraction(x)
    return int(f) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


@dataclass(frozen=True)
class Transformation:
    """One group element: ``word`` first, then the basis change (X, Y, Z), then product order and scalings.

    ``perm[t]`` is the index, in the image, of product t of the basis-changed scheme.
    """

    source_shape: Shape
    word: tuple[str, ...] = ()
    X: np.ndarray | None = None
    Y: np.ndarray | None = None
    Z: np.ndarray | None = None
    perm: tuple[int, ...] | None = None
    scale_a: tuple[Fraction, ...] | None = None
    scale_b: tuple[Fraction, ...] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def target_shape(self) -> Shape:
        return word_shape(self.source_shape, self.word)

    def apply(self, scheme: Scheme) -> Scheme:
        if scheme.shape != self.source_shape:
            raise SchemeError(f"this transformation acts on {self.source_shape} schemes, not {scheme.shape}")
        s = apply_word(scheme, self.word)
        if self.X is not None:
            s = basis_change(s, self.X, self.Y, self.Z)
        if self.perm is not None:
            s = permute_and_scale(s, self.perm, self.scale_a, self.scale_b)
        return s

    def to_dict(self) -> dict:
        mat = lambda M: None if M is None else [[_fmt(x) for x in row] for row in M.tolist()]  # noqa: E731
        return {
            "source_shape": list(self.source_shape),
            "target_shape": list(self.target_shape),
            "word": list(self.word),
            "X": mat(self.X), "Y": mat(self.Y), "Z": mat(self.Z),
            "perm": None if self.perm is None else list(self.perm),
            "scale_a": None if self.scale_a is None else [_fmt(x) for x in self.scale_a],
            "scale_b": None if self.scale_b is None else [_fmt(x) for x in self.scale_b],
        }

    def describe(self) -> str:
        """A few readable lines: the symmetry word and X, Y, Z."""
        lines = [f"maps {self.source_shape.angle()} -> {self.target_shape.angle()}"]
        lines.append("symmetry: " + (" then ".join(self.word) if self.word else "none (same orientation)"))
        for name, M in (("X", self.X), ("Y", self.Y), ("Z", self.Z)):
            if M is not None:
                rows = "; ".join(" ".join(str(_fmt(x)) for x in row) for row in M.tolist())
                lines.append(f"{name} = [{rows}]")
        if self.perm is not None:
            lines.append("products: " + " ".join(f"{t + 1}->{u + 1}" for t, u in enumerate(self.perm)))
        if self.scale_a is not None and any(Fraction(x) != 1 for x in self.scale_a + self.scale_b):
            lines.append("scalings (a, b): " + " ".join(f"{t + 1}:({_fmt(x)}, {_fmt(y)})" for t, (x, y)
                                                       in enumerate(zip(self.scale_a, self.scale_b))
                                                       if Fraction(x) != 1 or Fraction(y) != 1))
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Readable in a notebook: the lines of :meth:`describe`, never raw ``Fraction(-1, 1)`` arrays."""
        return "Transformation(" + "\n  ".join(self.describe().splitlines()) + ")"

    def _repr_html_(self) -> str:
        import html
        return f"<pre class='algodiscover-transformation'>{html.escape(self.describe())}</pre>"


def random_unimodular(size: int, rng: np.random.Generator, steps: int = 4) -> np.ndarray:
    """A random integer matrix of determinant +-1 (a product of elementary matrices)."""
    M = np.eye(size, dtype=np.int64)
    for _ in range(steps):
        if size == 1:
            break
        i, j = rng.choice(size, 2, replace=False)
        M[i] += int(rng.choice([-1, 1])) * M[j]
    if rng.random() < 0.5:
        M[0] = -M[0]
    P = np.eye(size, dtype=np.int64)[rng.permutation(size)]
    return P @ M


def random_rational(size: int, rng: np.random.Generator) -> np.ndarray:
    """A random invertible matrix with small rational entries."""
    while True:
        M = np.empty((size, size), dtype=object)
        for i in range(size):
            for j in range(size):
                M[i, j] = Fraction(int(rng.integers(-3, 4)), int(rng.integers(1, 3)))
        if ex.dm(M).det() != 0:
            return M


def random_element(shape, rng: np.random.Generator, *, rational: bool = False, rank: int | None = None,
                   words=WORDS) -> Transformation:
    """A random group element acting on ``shape`` schemes (for tests and benchmarks)."""
    s = parse_shape(shape)
    word = words[int(rng.integers(len(words)))]
    m, k, n = word_shape(s, word)
    gen = (lambda d: random_rational(d, rng)) if rational else (lambda d: random_unimodular(d, rng))
    X, Y, Z = gen(m), gen(k), gen(n)
    perm = sc_a = sc_b = None
    if rank is not None:
        perm = tuple(int(x) for x in rng.permutation(rank))
        choices = [Fraction(1), Fraction(-1), Fraction(2), Fraction(1, 2)] if rational else [Fraction(1), Fraction(-1)]
        sc_a = tuple(choices[int(i)] for i in rng.integers(len(choices), size=rank))
        sc_b = tuple(choices[int(i)] for i in rng.integers(len(choices), size=rank))
    return Transformation(s, word, _square(X, m, "X"), _square(Y, k, "Y"), _square(Z, n, "Z"), perm, sc_a, sc_b)
