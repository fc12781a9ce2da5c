"""The immutable Scheme: a bilinear algorithm vec(C) = W_c ((W_a vec A) * (W_b vec B)).

W_a is r x (m*k), W_b is r x (k*n), W_c is (m*n) x r; A, B, C flattened row-major
(docs/DESIGN.md).  Coefficients are exact: int64 arrays, or object arrays of Fraction
where a coefficient is not an integer.  A Scheme is only a *candidate* until
``verify`` proves it; ``Scheme.verification`` caches that proof.
"""

from __future__ import annotations

from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..errors import SchemeError
from .arith import exact_array, is_integral, max_abs
from .shape import Shape, parse_shape


class Scheme:
    """A bilinear matrix-multiplication scheme with exact coefficients (immutable)."""

    __slots__ = ("_shape", "_W_a", "_W_b", "_W_c", "_provenance", "_cache")

    def __init__(self, shape, W_a, W_b, W_c, *, provenance: Mapping[str, Any] | None = None,
                 allow_float: bool = False):
        s = parse_shape(shape)
        Wa = exact_array(W_a, s.a_size, name="W_a", allow_float=allow_float)
        Wb = exact_array(W_b, s.b_size, name="W_b", allow_float=allow_float)
        Wc = exact_array(W_c, None, name="W_c", allow_float=allow_float)
        r = Wa.shape[0]
        if Wb.shape[0] != r:
            raise SchemeError(f"W_a has {r} rows but W_b has {Wb.shape[0]}: both need one row per product")
        if Wc.shape[0] != s.c_size:
            raise SchemeError(f"W_c has {Wc.shape[0]} rows, expected m*n = {s.c_size} for shape {s}")
        if Wc.shape[1] != r and not (r == 0 and Wc.size == 0):
            raise SchemeError(f"W_c has {Wc.shape[1]} columns but the scheme has {r} products")
        if r == 0:
            raise SchemeError("a scheme needs at least one product")
        object.__setattr__(self, "_shape", s)
        object.__setattr__(self, "_W_a", Wa)
        object.__setattr__(self, "_W_b", Wb)
        object.__setattr__(self, "_W_c", Wc)
        object.__setattr__(self, "_provenance", MappingProxyType(dict(provenance or {})))
        object.__setattr__(self, "_cache", {})

    def __setattr__(self, name, value):
        raise AttributeError("Scheme is immutable")

    def __reduce__(self):  # pickling (worker processes send schemes to the parent)
        return (_rebuild, (tuple(self._shape), self._W_a, self._W_b, self._W_c, dict(self._provenance)))

    # ---- basic data -------------------------------------------------------------
    @property
    def shape(self) -> Shape:
        return self._shape

    @property
    def W_a(self) -> np.ndarray:
        return self._W_a

    @property
    def W_b(self) -> np.ndarray:
        return self._W_b

    @property
    def W_c(self) -> np.ndarray:
        return self._W_c

    @property
    def provenance(self) -> Mapping[str, Any]:
        return self._provenance

    @property
    def rank(self) -> int:
        return self._W_a.shape[0]

    def with_provenance(self, **updates) -> "Scheme":
        """A copy with provenance entries added or replaced (the proof cache is kept)."""
        p = dict(self._provenance)
        p.update(updates)
        new = Scheme.__new__(Scheme)
        for slot, val in (("_shape", self._shape), ("_W_a", self._W_a), ("_W_b", self._W_b),
                          ("_W_c", self._W_c), ("_provenance", MappingProxyType(p)),
                          ("_cache", dict(self._cache))):
            object.__setattr__(new, slot, val)
        return new

    @classmethod
    def standard(cls, shape) -> "Scheme":
        """The schoolbook algorithm: one product a_ij * b_jl per (i, j, l)."""
        s = parse_shape(shape)
        r = s.naive_rank
        Wa = np.zeros((r, s.a_size), dtype=np.int64)
        Wb = np.zeros((r, s.b_size), dtype=np.int64)
        Wc = np.zeros((s.c_size, r), dtype=np.int64)
        t = 0
        for i in range(s.m):
            for l in range(s.n):
                for j in range(s.k):
                    Wa[t, i * s.k + j] = 1
                    Wb[t, j * s.n + l] = 1
                    Wc[i * s.n + l, t] = 1
                    t += 1
        return cls(s, Wa, Wb, Wc, provenance={"engine": "standard"})

    # ---- properties of the coefficients ----------------------------------------
    @property
    def is_integral(self) -> bool:
        return all(is_integral(W) for W in (self._W_a, self._W_b, self._W_c))

    @property
    def max_abs_coefficient(self):
        vals = []
        for W in (self._W_a, self._W_b, self._W_c):
            if W.dtype == object:
                vals.extend(abs(Fraction(x)) for x in W.flat)
            elif W.size:
                vals.append(int(np.abs(W).max()))
        m = max(vals) if vals else 0
        return int(m) if isinstance(m, Fraction) and m.denominator == 1 else m

    @property
    def is_ternary(self) -> bool:
        """All coefficients in {-1, 0, 1}."""
        return self.is_integral and max_abs(self._W_a) <= 1 and max_abs(self._W_b) <= 1 and max_abs(self._W_c) <= 1

    @property
    def nnz(self) -> int:
        return int(sum(np.count_nonzero(W != 0) for W in (self._W_a, self._W_b, self._W_c)))

    @property
    def additions_naive(self) -> int:
        """Sum over rows of W_a, W_b, W_c of max(nnz(row) - 1, 0): 18 for Strassen."""
        total = 0
        for W in (self._W_a, self._W_b, self._W_c):
            nz = np.count_nonzero(W != 0, axis=1)
            total += int(np.maximum(nz - 1, 0).sum())
        return total

    @property
    def additions_shared(self) -> int:
        """Binary +/- operations of the three straight-line programs (shared sub-sums; 15 for Winograd's form).

        The attached programs (from ``algodiscover optimize`` or a file's ``programs``) if any, else one
        greedy CSE pass; see :mod:`algodiscover.execute.program`.
        """
        from ..execute.executor import additions_shared
        return additions_shared(self)

    def metrics(self) -> dict:
        return {"rank": self.rank, "nnz": self.nnz, "additions_naive": self.additions_naive,
                "additions_shared": self.additions_shared,
                "max_abs_coefficient": _json_number(self.max_abs_coefficient)}

    # ---- equality and hashing -----------------------------------------------------
    def _key(self):
        return (tuple(self._shape), _frozen(self._W_a), _frozen(self._W_b), _frozen(self._W_c))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Scheme):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        ring = self._cache.get("verification")
        ring = f", ring={ring.ring}" if ring is not None else ""
        return f"Scheme(shape={self._shape}, rank={self.rank}{ring})"

    # ---- verification (cached) --------------------------------------------------
    def verify(self, *, symbolic: bool | None = None):
        """Exact proof of correctness; see :func:`algodiscover.core.verify.verify`."""
        from .verify import verify
        return verify(self, symbolic=symbolic)

    @property
    def verification(self):
        """The cached Verification, or None if the scheme has not been checked yet."""
        return self._cache.get("verification")

    @property
    def ring(self) -> str:
        return self.verify().ring

    # ---- numeric use --------------------------------------------------------------
    def apply(self, A, B, *, cutoff: int = 32):
        """Multiply matrices of any size with this scheme, recursively on blocks.

        Only a proven scheme is applied: one never verified is verified first (exact Brent
        equations; the result is cached in :attr:`verification`), and one that does not hold over
        ZT, Z or Q -- invalid, or valid only modulo 2 -- raises :class:`SchemeError`.

        The scheme is applied at least once; blocks are split again while every
        dimension exceeds ``cutoff`` (cutoff=1 recurses to scalars).  Sizes that
        do not divide are zero-padded.  Integral schemes keep integer inputs exact.
        A rational (Q) scheme on integer or object inputs computes exactly in Fractions
        and returns integers (int64 while they fit, else Python ints): the result is
        A @ B exactly, as the proof says, never a rounded float.  Float inputs compute in floats.
        """
        self._require_proven()
        A = np.asarray(A)
        B = np.asarray(B)
        if A.ndim != 2 or B.ndim != 2:
            raise SchemeError("apply() needs two 2-D matrices")
        if A.shape[1] != B.shape[0]:
            raise SchemeError(f"cannot multiply a {A.shape[0]}x{A.shape[1]} matrix by a {B.shape[0]}x{B.shape[1]} matrix")
        if cutoff < 1:
            raise SchemeError("cutoff must be at least 1")
        exact_input = A.dtype.kind in "iuO" and B.dtype.kind in "iuO"
        if self.is_integral:
            coeffs = tuple(W.astype(np.int64) if W.dtype == object else W for W in (self._W_a, self._W_b, self._W_c))
            if exact_input and A.dtype.kind != "O" and B.dtype.kind != "O":
                dtype = np.result_type(A.dtype, B.dtype, np.int64)
                A, B = A.astype(dtype), B.astype(dtype)
        elif exact_input:
            coeffs = tuple(W.astype(object) for W in (self._W_a, self._W_b, self._W_c))
            A = A.astype(object)
            B = B.astype(object)
        else:
            coeffs = tuple(np.array([[float(x) for x in row] for row in W.tolist()], dtype=float)
                           for W in (self._W_a, self._W_b, self._W_c))
        out = _apply(self._shape, coeffs, A, B, cutoff, first=True)
        if not self.is_integral and exact_input:
            out = _normalise_object(out)
        return out

    def _require_proven(self) -> None:
        """SchemeError (one line) unless the scheme is proven over ZT, Z or Q; verifies once if needed."""
        v = self._cache.get("verification")
        if v is None:
            from .verify import verify
            v = verify(self, symbolic=False)  # the exact Brent equations are the proof; cached
        if v.ok:
            return
        what = (f"valid only modulo {v.ring[1]} (ring {v.ring}; {v.n_failures} Brent equations fail over Z)"
                if v.ring in ("Z2", "Z3")
                else f"invalid ({v.n_failures} Brent equations fail"
                     + (f", e.g. the {v.failures[0].describe()}" if v.failures else "") + ")")
        raise SchemeError(f"refusing to apply this scheme for {self._shape} of rank {self.rank}: it is {what}; "
                          f"only schemes proven over ZT, Z or Q compute A @ B")

    def compile(self, backend: str = "numpy", levels: int | None = None, cutoff: int | None = None, **kw):
        """A fast executor ``f(A, B) -> A @ B`` (recursive, BLAS at the leaves); see :mod:`algodiscover.execute`.

        Verifies the scheme (cached) and refuses one not proven over Z or Q.
        """
        from ..execute import compile as _compile
        return _compile(self, backend=backend, levels=levels, cutoff=cutoff, **kw)

    # ---- rendering hooks ----------------------------------------------------------
    def to_text(self, **kw) -> str:
        from ..render.text import scheme_to_text
        return scheme_to_text(self, **kw)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_latex_(self) -> str:
        """Jupyter: the products and outputs as LaTeX (render imported lazily)."""
        from ..render.notebook import scheme_latex_repr
        return scheme_latex_repr(self)

    def _repr_html_(self) -> str:
        """Jupyter: a header (shape, rank, ring, metrics) and the formulas."""
        from ..render.notebook import scheme_html_repr
        return scheme_html_repr(self)

    def draw(self, ax=None, **kw):
        """The arithmetic circuit drawn in layers (a matplotlib Figure); see ``render.graph.draw_circuit``."""
        from ..render.graph import draw_circuit
        return draw_circuit(self, ax=ax, **kw)


def _json_number(x):
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    return x


def _frozen(W: np.ndarray):
    if W.dtype != object:
        return (W.shape, W.tobytes())
    return (W.shape, tuple(Fraction(x) for x in W.flat))


def _normalise_object(M: np.ndarray) -> np.ndarray:
    flat = [Fraction(x) for x in M.flat]
    if all(f.denominator == 1 for f in flat):
        vals = [int(f) for f in flat]
        if all(-2**62 < v < 2**62 for v in vals):
            return np.array(vals, dtype=np.int64).reshape(M.shape)
        out = np.empty(M.shape, dtype=object)
        out.flat[:] = vals
        return out
    return M


def _apply(shape: Shape, coeffs, A: np.ndarray, B: np.ndarray, cutoff: int, first: bool):
    m, k, n = shape
    p, q = A.shape
    s = B.shape[1]
    if not first and (p <= cutoff or q <= cutoff or s <= cutoff or p < m or q < k or s < n):
        return A @ B
    Wa, Wb, Wc = coeffs
    bp, bq, bs = -(-p // m), -(-q // k), -(-s // n)  # block sizes (ceil)
    Ap = np.zeros((bp * m, bq * k), dtype=A.dtype)
    Ap[:p, :q] = A
    Bp = np.zeros((bq * k, bs * n), dtype=B.dtype)
    Bp[:q, :s] = B
    Ablk = [Ap[i * bp:(i + 1) * bp, j * bq:(j + 1) * bq] for i in range(m) for j in range(k)]
    Bblk = [Bp[j * bq:(j + 1) * bq, l * bs:(l + 1) * bs] for j in range(k) for l in range(n)]
    products = []
    for t in range(Wa.shape[0]):
        L = _combine(Wa[t], Ablk)
        R = _combine(Wb[t], Bblk)
        if L is None or R is None:
            products.append(None)
            continue
        products.append(_apply(shape, coeffs, L, R, cutoff, first=False))
    dtype = np.result_type(A.dtype, B.dtype) if A.dtype != object else object
    Cp = np.zeros((bp * m, bs * n), dtype=dtype)
    for i in range(m):
        for l in range(n):
            acc = _combine(Wc[i * n + l], products)
            if acc is not None:
                Cp[i * bp:(i + 1) * bp, l * bs:(l + 1) * bs] = acc
    return Cp[:p, :s]


def _combine(row, blocks):
    acc = None
    for c, X in zip(row, blocks):
        if c == 0 or X is None:
            continue
        term = X if c == 1 else (-X if c == -1 else X * c)
        acc = term.copy() if acc is None and term is X else (term if acc is None else acc + term)
    return acc


def _rebuild(shape, W_a, W_b, W_c, provenance):
    return Scheme(shape, W_a, W_b, W_c, provenance=provenance)
