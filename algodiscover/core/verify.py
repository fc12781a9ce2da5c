"""Exact verification: the Brent equations in integer arithmetic, a sympy cross-check with
non-commutative symbols, and classification of the widest ring in which a scheme holds.

Rings (docs/DESIGN.md): ``ZT`` coefficients in {-1,0,1}, valid over every ring; ``Z`` integers;
``Q`` needs fractions (characteristic 0); ``Z2`` valid only modulo 2; ``Z3`` valid only modulo 3 (from
GF(3) searches; checked after Z2); ``invalid``.  A modular ring is never called valid over Z.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import VerificationError
from .arith import cleared, max_abs
from .scheme import Scheme
from .tensor import matmul_tensor

VALID_RINGS = ("ZT", "Z", "Q")
MODULAR_RINGS = ("Z2", "Z3")  # valid only modulo p: reported as such, never as valid
RINGS = ("ZT", "Z", "Q", "Z2", "Z3", "invalid")
_FLOAT_EXACT = 2**53
_KR_CHUNK = 1 << 23  # entries of one Khatri-Rao block (64 MiB in float64)
SYMBOLIC_DEFAULT_LIMIT = 30 * 16 * 16  # rank * mk * kn up to which verify() also runs sympy


@dataclass(frozen=True)
class Failure:
    """One Brent equation that fails: the coefficient of a[x]*b[y] in c[z]."""

    a: tuple[int, int]
    b: tuple[int, int]
    c: tuple[int, int]
    expected: int
    got: Fraction

    def describe(self) -> str:
        (i, j), (j2, l), (ci, cl) = self.a, self.b, self.c
        got = self.got
        got_s = str(got.numerator) if got.denominator == 1 else f"{got.numerator}/{got.denominator}"
        return (f"coefficient of a{i+1}{j+1}*b{j2+1}{l+1} in c{ci+1}{cl+1} is {got_s}, "
                f"expected {self.expected}")

    def __repr__(self) -> str:
        return f"Failure({self.describe()})"


@dataclass(frozen=True)
class Verification:
    """The outcome of an exact check.  ``ok`` means valid over ZT, Z or Q."""

    ring: str
    failures: tuple[Failure, ...] = ()
    n_failures: int = 0
    symbolic: bool | None = None  # None: not run; True: sympy agreed
    method: str = "brent-exact"
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.ring in VALID_RINGS

    def summary(self) -> str:
        if self.ok:
            return f"proven over {self.ring} ({self.method})"
        if self.ring in MODULAR_RINGS:
            return f"valid only modulo {self.ring[1:]} ({self.n_failures} Brent equations fail over Z)"
        return f"invalid: {self.n_failures} Brent equations fail"

    def _lines(self) -> list[str]:
        lines = [self.summary() + (f"; sympy cross-check {'agreed' if self.symbolic else 'disagreed'}"
                                   if self.symbolic is not None else "")]
        lines += [f.describe() for f in self.failures[:5]]
        if self.n_failures > min(len(self.failures), 5):
            lines.append(f"... and {self.n_failures - min(len(self.failures), 5)} more failing Brent equations")
        return lines

    def __repr__(self) -> str:
        """Readable in a notebook: the ring, how it was proven, the first failing equations."""
        return f"Verification(ring={self.ring}: " + "\n  ".join(self._lines()) + f"; {self.seconds:.3g} s)"

    def _repr_html_(self) -> str:
        import html
        color = "#1a7f37" if self.ok else ("#9a6700" if self.ring in MODULAR_RINGS else "#cf222e")
        lines = self._lines()
        rest = "".join(f"<li>{html.escape(x)}</li>" for x in lines[1:])
        return (f"<div class='algodiscover-verification'><b style='color:{color}'>{html.escape(self.ring)}</b>: "
                f"{html.escape(lines[0])}" + (f"<ul>{rest}</ul>" if rest else "") + "</div>")


def brent_residual(scheme: Scheme) -> tuple[np.ndarray, int]:
    """(R, D): D * (sum_t a_t (x) b_t (x) c_t - T) as an exact integer array of shape (mk, kn, mn).

    Denominators are cleared first (D = product of the three factors' denominator lcms),
    then the Khatri-Rao contraction runs in float64 BLAS when every partial sum is provably
    below 2**53 (hence exact), in int64 when below 2**62, and in Python integers otherwise.
    """
    s = scheme.shape
    Wa, da = cleared(scheme.W_a)
    Wb, db = cleared(scheme.W_b)
    Wc, dc = cleared(scheme.W_c)
    D = da * db * dc
    r = scheme.rank
    bound = r * max(max_abs(Wa), 1) * max(max_abs(Wb), 1) * max(max_abs(Wc), 1) + D
    T = matmul_tensor(s).transpose(2, 0, 1).reshape(s.c_size, s.a_size * s.b_size)
    if bound < 2**62 and Wa.dtype != object and Wb.dtype != object and Wc.dtype != object:
        # float64 BLAS is exact while every partial sum stays below 2**53; int64 otherwise
        dt = np.float64 if bound < _FLOAT_EXACT else np.int64
        A, B, C = Wa.astype(dt), Wb.astype(dt), Wc.astype(dt)
        P = np.zeros((s.c_size, s.a_size * s.b_size), dtype=dt)
        step = max(1, _KR_CHUNK // max(1, s.a_size * s.b_size))  # bound the Khatri-Rao block's memory
        for t0 in range(0, r, step):
            kr = (A[t0:t0 + step, :, None] * B[t0:t0 + step, None, :]).reshape(-1, s.a_size * s.b_size)
            P += C[:, t0:t0 + step] @ kr
        R = (np.rint(P).astype(np.int64) if dt is np.float64 else P) - D * T
    else:
        Wa_o, Wb_o, Wc_o = (W.astype(object) for W in (Wa, Wb, Wc))
        kr = (Wa_o[:, :, None] * Wb_o[:, None, :]).reshape(r, -1)
        R = Wc_o.dot(kr) - D * T.astype(object)
    R = R.reshape(s.c_size, s.a_size, s.b_size).transpose(1, 2, 0)
    return R, D


def _failures(scheme: Scheme, R: np.ndarray, D: int, limit: int) -> tuple[tuple[Failure, ...], int]:
    s = scheme.shape
    idx = np.argwhere(R != 0)
    T = matmul_tensor(s)
    out = []
    for x, y, z in idx[:limit]:
        x, y, z = int(x), int(y), int(z)
        expected = int(T[x, y, z])
        got = Fraction(int(R[x, y, z]), D) + expected
        out.append(Failure(a=divmod(x, s.k), b=divmod(y, s.n), c=divmod(z, s.n), expected=expected, got=got))
    return tuple(out), int(len(idx))


def classify(scheme: Scheme, R: np.ndarray | None = None, D: int | None = None) -> str:
    """The widest ring in which the scheme (as stored) holds."""
    if R is None:
        R, D = brent_residual(scheme)
    if not np.any(R != 0):
        if scheme.is_ternary:
            return "ZT"
        return "Z" if scheme.is_integral else "Q"
    # modulo 2: only meaningful when every denominator is odd (invertible mod 2)
    if D % 2 == 1:
        if R.dtype == object:
            even = all(int(v) % 2 == 0 for v in R.flat)
        else:
            even = not np.any(R % 2)
        if even:
            return "Z2"
    # modulo 3 (schemes from GF(3) searches): denominators must be prime to 3
    if D % 3 != 0:
        if R.dtype == object:
            zero3 = all(int(v) % 3 == 0 for v in R.flat)
        else:
            zero3 = not np.any(R % 3)
        if zero3:
            return "Z3"
    return "invalid"


def symbolic_check(scheme: Scheme) -> tuple[bool, list[str]]:
    """Cross-check with sympy using non-commutative symbols for the entries of A and B.

    Expands every c_il = sum_t W_c[il,t] (sum_x W_a[t,x] a_x)(sum_y W_b[t,y] b_y) with
    a's always to the left of b's, and compares with sum_j a_ij b_jl.  Passing proves the
    scheme for matrices over any (non-commutative) ring, i.e. for block matrices.
    Returns (ok, list of the C entries that differ).
    """
    import sympy

    s = scheme.shape
    a = [sympy.Symbol(f"a{i+1}_{j+1}", commutative=False) for i in range(s.m) for j in range(s.k)]
    b = [sympy.Symbol(f"b{j+1}_{l+1}", commutative=False) for j in range(s.k) for l in range(s.n)]

    def coeff(x):
        return sympy.Rational(Fraction(x).numerator, Fraction(x).denominator)

    lin_a = [sympy.Add(*[coeff(c) * a[x] for x, c in enumerate(row) if c != 0]) for row in scheme.W_a.tolist()]
    lin_b = [sympy.Add(*[coeff(c) * b[y] for y, c in enumerate(row) if c != 0]) for row in scheme.W_b.tolist()]
    prods = [sympy.expand(la * lb) for la, lb in zip(lin_a, lin_b)]
    bad = []
    for i in range(s.m):
        for l in range(s.n):
            row = scheme.W_c[i * s.n + l].tolist()
            expr = sympy.Add(*[coeff(c) * prods[t] for t, c in enumerate(row) if c != 0])
            target = sympy.Add(*[a[i * s.k + j] * b[j * s.n + l] for j in range(s.k)])
            if sympy.expand(expr - target) != 0:
                bad.append(f"c{i+1}{l+1}")
    return (not bad), bad


def verify(scheme: Scheme, *, symbolic: bool | None = None, max_failures: int = 20) -> Verification:
    """Prove or refute a scheme exactly and cache the result on it.

    ``symbolic=None`` runs the sympy cross-check for small schemes (rank*mk*kn up to
    SYMBOLIC_DEFAULT_LIMIT) when the scheme is valid; ``True`` always; ``False`` never (search
    engines use False on their hot path: the Brent equations alone are already a proof).
    A cached result is reused unless a requested cross-check has not run yet.
    """
    s = scheme.shape
    small = scheme.rank * s.a_size * s.b_size <= SYMBOLIC_DEFAULT_LIMIT
    cached = scheme._cache.get("verification")
    if cached is not None:
        if symbolic is False or cached.symbolic is not None or cached.ring in MODULAR_RINGS:
            return cached
        if symbolic is None and not (cached.ok and small):
            return cached
    t0 = time.perf_counter()
    R, D = brent_residual(scheme)
    ring = classify(scheme, R, D)
    failures, n_fail = _failures(scheme, R, D, max_failures)
    run_symbolic = symbolic if symbolic is not None else (ring in VALID_RINGS and small)
    sym = None
    method = "brent-exact"
    notes: list[str] = []
    if run_symbolic and ring not in MODULAR_RINGS:
        sym, bad = symbolic_check(scheme)
        method = "brent-exact+sympy-noncommutative"
        if sym != (ring in VALID_RINGS):  # the two proofs must agree; anything else is a bug
            raise VerificationError(
                f"internal inconsistency: Brent check says {ring} but sympy differs at {', '.join(bad) or 'nothing'}")
    v = Verification(ring=ring, failures=failures, n_failures=n_fail, symbolic=sym, method=method,
                     seconds=time.perf_counter() - t0, notes=tuple(notes))
    scheme._cache["verification"] = v
    return v


def require_valid(scheme: Scheme, *, allow_z2: bool = False) -> Scheme:
    """Return the scheme if it is proven (ZT/Z/Q, or Z2/Z3 when allowed); raise VerificationError otherwise."""
    v = verify(scheme)
    if v.ok or (allow_z2 and v.ring in MODULAR_RINGS):
        return scheme
    detail = "; ".join(f.describe() for f in v.failures[:3])
    raise VerificationError(f"scheme for {scheme.shape} of rank {scheme.rank} is {v.ring}: {detail}")
