"""Hensel lifting of a GF(2) or GF(3) scheme to Z/p^k, rational reconstruction, exact proof.

(p = 2 is described below; p = 3, for schemes found by the GF(3) walk of :mod:`.gf3`, is the same
with 3 for 2: the Jacobian is eliminated over GF(3) (two bit planes per row, numba), corrections
are 3^k (da, db, dc), and rational reconstruction accepts denominators prime to 3, so that
coefficients such as 1/2 come out.  ``embed`` restricts the corrections to a subspace, e.g. to orbit
representatives so that a symmetric scheme lifts to a symmetric one; see :class:`LiftSolver`.)

Given factors a, b, c (0/1, rank r) with sum_t a_t (x) b_t (x) c_t = T mod 2, look for
integer factors congruent to them mod 2 that satisfy the Brent equations exactly.
Step k -> k+1: with the residual E = T - sum a(x)b(x)c = 0 mod 2^k, the corrections
2^k (da, db, dc) must solve the linear system J x = E / 2^k over GF(2), where J is the
Jacobian of the Brent map at the scheme mod 2 (the same J at every step).  J is
eliminated once (bit-packed Gauss-Jordan, numba) together with the identity, so every
step is one GF(2) matrix-vector product; free variables are set to 0, which keeps
coefficients small, and they are chosen among the scheme's zero coefficients where possible
(``order="support"``), so the lift keeps the zeros and corrects only nonzero entries: a ternary
scheme reduced mod 2 then comes back ternary rather than with 1/3 or 3 in it.  After each step
the symmetric residues are tried as an integer scheme; at the end every coefficient goes through
rational reconstruction.  Whatever
comes out is only a candidate: callers prove it with ``verify``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numba import njit

from ..core.shape import Shape
from ..core.tensor import matmul_tensor

MAX_STEPS = 20  # lift to Z/2^20: residues fit int64 products, reconstruction up to |p|, |q| <= 724
MAX_STEPS_P = {2: 20, 3: 12}  # Z/3^12: 531441, reconstruction up to |p|, |q| <= 515
PRIMES = (2, 3)
LIFT_ORDERS = ("support", "index")  # pivot preference of LiftSolver, tried in this order by hensel_lift
#: When the lifts in LIFT_ORDERS are rational but not integral, hensel_lift tries this many more pivot
#: orders drawn at random (seeds 0, 1, ...: alternately a shuffle of all variables and a shuffle that keeps
#: the nonzero coefficients first) and returns the first integral lift: another choice of free variables
#: is another point of the scheme's family of lifts, and some are integral where the first was not.
LIFT_RETRIES = 6
#: How hensel_lift chooses among a scheme's lifts, by version (recorded as the flip walk's ``lift`` option,
#: because a walk's path depends on which schemes lift and a result is the lift that came out):
#: 1 the "index" pivot order only (results made before 2026-12-01 15:29), 2 "support" then "index", the
#: first lift found (until 16:52 that day), 3 as 2 but an integral lift is preferred (LIFT_RETRIES).
LIFT_VERSIONS = (1, 2, 3)
LIFT_VERSION = 3


# ---------------------------------------------------------------- GF(2) linear algebra
def pack_bits_rows(M01: np.ndarray) -> np.ndarray:
    """0/1 matrix (rows x cols) -> uint64 words (rows x ceil(cols/64)), bit j of word w = column 64w+j."""
    rows, cols = M01.shape
    words = (cols + 63) // 64
    padded = np.zeros((rows, words * 64), dtype=np.uint8)
    padded[:, :cols] = M01
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64).reshape(rows, words)


@njit(cache=True)
def _gauss_jordan(M, ncols):
    """Reduced row echelon form of the first ``ncols`` bit-columns of M, in place (all words
    are transformed, so identity columns appended to the right record the row operations).
    Returns the pivot columns (row i has its pivot in column piv[i])."""
    rows, words = M.shape
    piv = np.empty(min(rows, ncols), dtype=np.int64)
    rank = 0
    for col in range(ncols):
        if rank == rows:
            break
        w = col >> 6
        bit = np.uint64(1) << np.uint64(col & 63)
        p = -1
        for i in range(rank, rows):
            if M[i, w] & bit:
                p = i
                break
        if p < 0:
            continue
        if p != rank:
            for q in range(words):
                tmp = M[p, q]
                M[p, q] = M[rank, q]
                M[rank, q] = tmp
        for i in range(rows):
            if i != rank and (M[i, w] & bit):
                for q in range(w, words):
                    M[i, q] ^= M[rank, q]
        piv[rank] = col
        rank += 1
    return piv[:rank]


@njit(cache=True)
def _apply_rows(R, e):
    """GF(2) product: bit i of the result = parity(R[i] & e)."""
    out = np.zeros(R.shape[0], dtype=np.uint8)
    for i in range(R.shape[0]):
        acc = np.uint64(0)
        for q in range(R.shape[1]):
            acc ^= R[i, q] & e[q]
        # parity of a 64-bit word
        acc ^= acc >> np.uint64(32)
        acc ^= acc >> np.uint64(16)
        acc ^= acc >> np.uint64(8)
        acc ^= acc >> np.uint64(4)
        acc ^= acc >> np.uint64(2)
        acc ^= acc >> np.uint64(1)
        out[i] = np.uint8(acc & np.uint64(1))
    return out


def jacobian_mod2(shape: Shape, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """0/1 matrix (mk*kn*mn) x (r*(mk+kn+mn)) of the Brent map's derivative at (a, b, c) mod 2."""
    return jacobian_mod(shape, a, b, c, 2)


def jacobian_mod(shape: Shape, a: np.ndarray, b: np.ndarray, c: np.ndarray, p: int) -> np.ndarray:
    """The Brent map's derivative at (a, b, c) mod p (uint8 entries in 0..p-1), (mk*kn*mn) x (r*(mk+kn+mn)).

    Equation (x, y, z) has row x*kn*mn + y*mn + z; variables: a[t, x'] at t*mk + x',
    then b[t, y'] and c[t, z'] in the same way after the a block and the b block.
    """
    A, B, C = shape.a_size, shape.b_size, shape.c_size
    r = a.shape[0]
    J = np.zeros((A, B, C, r * (A + B + C)), dtype=np.uint8)
    oa, ob, oc = 0, r * A, r * (A + B)
    a, b, c = (np.asarray(x, dtype=np.int64) % p for x in (a, b, c))
    bc = (b[:, :, None] * c[:, None, :]) % p  # r x B x C
    ac = (a[:, :, None] * c[:, None, :]) % p  # r x A x C
    ab = (a[:, :, None] * b[:, None, :]) % p  # r x A x B
    for t in range(r):
        for x in range(A):
            J[x, :, :, oa + t * A + x] = bc[t]
        for y in range(B):
            J[:, y, :, ob + t * B + y] = ac[t]
        for z in range(C):
            J[:, :, z, oc + t * C + z] = ab[t]
    return J.reshape(A * B * C, -1)


@njit(cache=True)
def _gauss_jordan3(P, Q, ncols):
    """Reduced row echelon form over GF(3) of the first ``ncols`` columns of the bit-sliced matrix
    (P: bits of the entries equal to 1, Q: bits of the entries equal to 2 = -1), in place on all words.
    Pivots are normalised to 1.  Returns the pivot columns."""
    rows, words = P.shape
    piv = np.empty(min(rows, ncols), dtype=np.int64)
    rank = 0
    for col in range(ncols):
        if rank == rows:
            break
        w = col >> 6
        bit = np.uint64(1) << np.uint64(col & 63)
        p = -1
        for i in range(rank, rows):
            if (P[i, w] | Q[i, w]) & bit:
                p = i
                break
        if p < 0:
            continue
        if p != rank:
            for q in range(words):
                t = P[p, q]
                P[p, q] = P[rank, q]
                P[rank, q] = t
                t = Q[p, q]
                Q[p, q] = Q[rank, q]
                Q[rank, q] = t
        if Q[rank, w] & bit:  # make the pivot 1: negate the row (swap the planes)
            for q in range(words):
                t = P[rank, q]
                P[rank, q] = Q[rank, q]
                Q[rank, q] = t
        for i in range(rows):
            if i == rank:
                continue
            if P[i, w] & bit:  # row_i -= pivot row: add the negated pivot row
                for q in range(words):
                    xp, xn = P[i, q], Q[i, q]
                    yp, yn = Q[rank, q], P[rank, q]
                    zx = ~(xp | xn)
                    zy = ~(yp | yn)
                    P[i, q] = (xp & zy) | (zx & yp) | (xn & yn)
                    Q[i, q] = (xn & zy) | (zx & yn) | (xp & yp)
            elif Q[i, w] & bit:  # row_i += pivot row
                for q in range(words):
                    xp, xn = P[i, q], Q[i, q]
                    yp, yn = P[rank, q], Q[rank, q]
                    zx = ~(xp | xn)
                    zy = ~(yp | yn)
                    P[i, q] = (xp & zy) | (zx & yp) | (xn & yn)
                    Q[i, q] = (xn & zy) | (zx & yn) | (xp & yp)
        piv[rank] = col
        rank += 1
    return piv[:rank]


def _unpack_bits_rows(W: np.ndarray, cols: int) -> np.ndarray:
    return np.unpackbits(W.view(np.uint8).reshape(W.shape[0], -1), axis=1, bitorder="little")[:, :cols]


class LiftSolver:
    """The eliminated Jacobian of a scheme mod p (p = 2 or 3): solves J x = e (mod p) for many e.

    ``embed`` (optional): an int array mapping every variable of the full system to a reduced
    variable; the system solved is J M y = e with M the 0/1 matrix of that map, and ``solve``
    returns the full x = M y.  A lift through it keeps whatever structure M describes (orbits).
    """

    def __init__(self, shape: Shape, a, b, c, *, p: int = 2, embed: np.ndarray | None = None,
                 order: str = "support", seed: int = 0):
        if p not in PRIMES:
            raise ValueError(f"p must be 2 or 3, got {p!r}")
        if order not in LIFT_ORDERS + ("shuffle",):
            raise ValueError(f"order must be one of {', '.join(LIFT_ORDERS + ('shuffle',))}, got {order!r}")
        self.p = p
        self.order = order
        J = jacobian_mod(shape, a, b, c, p)
        x0 = np.concatenate([np.asarray(W, dtype=np.int64).ravel() % p for W in (a, b, c)])
        self.embed = None
        if embed is not None:
            embed = np.asarray(embed, dtype=np.int64)
            if embed.shape != (J.shape[1],):
                raise ValueError(f"embed must map all {J.shape[1]} variables, got shape {embed.shape}")
            Jr = np.zeros((J.shape[0], int(embed.max()) + 1), dtype=np.int64)
            np.add.at(Jr, (slice(None), embed), J.astype(np.int64))
            J = (Jr % p).astype(np.uint8)
            self.embed = embed
            xr = np.zeros(J.shape[1], dtype=np.int64)
            xr[embed] = x0  # a reduced variable's value: that of the full variables it stands for
            x0 = xr
        # Column order = pivot preference.  "support": the variables of nonzero coefficients first, so
        # that the free variables (fixed at 0 in every step) are zeros of the scheme: the lift keeps the
        # scheme's zeros where it can and only corrects its nonzero entries, which is how a scheme with
        # coefficients in {-1, 0, 1} reduced mod p is found again.  "index": variables in their order.
        # "shuffle": a random order from ``seed`` (odd seeds keep the nonzero coefficients first).
        if order == "support":
            self.perm = np.argsort(x0 == 0, kind="stable")
        elif order == "shuffle":
            key = np.random.default_rng(seed).random(J.shape[1]) + (seed % 2) * (x0 == 0)
            self.perm = np.argsort(key, kind="stable")
        else:
            self.perm = np.arange(J.shape[1], dtype=np.int64)
        J = np.ascontiguousarray(J[:, self.perm])
        neq, nvar = J.shape
        self.neq, self.nvar = neq, nvar
        jw = (nvar + 63) // 64
        ew = (neq + 63) // 64
        rows = np.arange(neq)
        ident = np.left_shift(np.uint64(1), (rows % 64).astype(np.uint64))
        if p == 2:
            # [J | I] bit-packed; the identity starts at the next word boundary after J
            M = np.zeros((neq, jw + ew), dtype=np.uint64)
            M[:, :jw] = pack_bits_rows(J)
            del J
            M[rows, jw + rows // 64] = ident
            piv = _gauss_jordan(M, nvar)
            self.pivots = piv
            # the row operations restricted to the pivot rows, as bits over the equations
            self.R = np.ascontiguousarray(M[:len(piv), jw:])
        else:
            P = np.zeros((neq, jw + ew), dtype=np.uint64)
            Q = np.zeros((neq, jw + ew), dtype=np.uint64)
            P[:, :jw] = pack_bits_rows((J == 1).astype(np.uint8))
            Q[:, :jw] = pack_bits_rows((J == 2).astype(np.uint8))
            del J
            P[rows, jw + rows // 64] = ident
            piv = _gauss_jordan3(P, Q, nvar)
            self.pivots = piv
            k = len(piv)
            plus = _unpack_bits_rows(np.ascontiguousarray(P[:k, jw:]), neq).astype(np.int64)
            minus = _unpack_bits_rows(np.ascontiguousarray(Q[:k, jw:]), neq).astype(np.int64)
            self.R = plus + 2 * minus  # entries 0, 1, 2 over the equations

    def solve(self, e01: np.ndarray) -> np.ndarray:
        """A solution x (entries mod p, free variables 0) of J x = e, assuming the system is consistent."""
        if self.p == 2:
            e = pack_bits_rows(e01.reshape(1, -1).astype(np.uint8))[0]
            y = _apply_rows(self.R, e)
        else:
            y = (self.R @ (np.asarray(e01, dtype=np.int64).reshape(-1) % 3)) % 3
        x = np.zeros(self.nvar, dtype=np.int64)
        x[self.perm[self.pivots]] = y
        return x if self.embed is None else x[self.embed]


# ---------------------------------------------------------------- lifting
def _residual_mod(shape: Shape, a, b, c, mod: int) -> np.ndarray:
    """(T - sum_t a_t (x) b_t (x) c_t) mod ``mod`` as an (mk*kn*mn,) int64 vector (mod <= 2^21)."""
    r = a.shape[0]
    kr = ((a[:, :, None] * b[:, None, :]) % mod).reshape(r, -1)  # r x (A*B)
    P = (c.T @ kr) % mod  # C x (A*B)
    T = matmul_tensor(shape).transpose(2, 0, 1).reshape(shape.c_size, -1)
    E = (T - P) % mod
    return E.reshape(shape.c_size, shape.a_size, shape.b_size).transpose(1, 2, 0).reshape(-1)


def _symmetric(x: np.ndarray, mod: int) -> np.ndarray:
    x = x % mod
    return np.where(x > mod // 2, x - mod, x)


def _exact_integer(shape: Shape, a, b, c) -> bool:
    r = a.shape[0]
    kr = (a[:, :, None] * b[:, None, :]).reshape(r, -1)
    P = c.T @ kr
    T = matmul_tensor(shape).transpose(2, 0, 1).reshape(shape.c_size, -1)
    return bool(np.array_equal(P, T))


def rational_reconstruction(u: int, mod: int, p: int = 2) -> Fraction | None:
    """The a/q with q prime to ``p``, |a|, |q| <= sqrt(mod/2) and a = q u mod ``mod`` (None if there is none)."""
    bound = math.isqrt(mod // 2)
    r0, r1 = mod, u % mod
    s0, s1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        s0, s1 = s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound or s1 % p == 0:
        return None
    return Fraction(r1, s1)


def hensel_lift(shape: Shape, a01, b01, c01, *, steps: int | None = None, solver: LiftSolver | None = None,
                p: int = 2, version: int = LIFT_VERSION):
    """Lift a scheme mod p (p = 2 or 3; factors a: r x mk, b: r x kn, c: r x mn with entries mod p)
    to characteristic 0.

    Returns (W_a, W_b, W_c) with W_c = c^T (integers, or object arrays of Fractions), or None
    when the linear system mod p is inconsistent or no rational scheme was recognised.
    The result still has to be proven with ``verify``.  Without ``solver``, the pivot orders of
    ``LIFT_ORDERS`` are tried in turn ("support": the scheme's zeros stay zero where they can, then
    "index"); an integral lift is returned at once, and when they give only rational lifts,
    ``LIFT_RETRIES`` random pivot orders are tried for an integral one before the first rational
    lift is returned.  ``version`` (``LIFT_VERSIONS``) selects an older rule: 1 the "index" order alone, 2
    the orders of ``LIFT_ORDERS`` without retries; replays of results recorded with them use them.
    """
    if version not in LIFT_VERSIONS:
        raise ValueError(f"lift version must be one of {', '.join(map(str, LIFT_VERSIONS))}, got {version!r}")
    if p not in PRIMES:
        raise ValueError(f"p must be 2 or 3, got {p!r}")
    if solver is not None and solver.p != p:
        raise ValueError(f"the solver works mod {solver.p}, not mod {p}")
    cap = MAX_STEPS_P[p]
    steps = cap if steps is None else min(int(steps), cap)
    a = np.asarray(a01, dtype=np.int64) % p
    b = np.asarray(b01, dtype=np.int64) % p
    c = np.asarray(c01, dtype=np.int64) % p
    sa, sb, sc = _symmetric(a, p), _symmetric(b, p), _symmetric(c, p)
    if _exact_integer(shape, sa, sb, sc):
        return sa, sb, sc.T.copy()
    if solver is not None:
        return _lift(shape, a, b, c, solver, p, steps)
    rational = None
    for order in (("index",) if version == 1 else LIFT_ORDERS):
        res = _lift(shape, a, b, c, LiftSolver(shape, a, b, c, p=p, order=order), p, steps)
        if res is not None:
            if version < 3 or is_integral(res):
                return res
            rational = rational or res
    if rational is None:
        return None  # no order lifts: the scheme mod p has no lift this way (retries are not spent on it)
    for k in range(LIFT_RETRIES):
        res = _lift(shape, a, b, c, LiftSolver(shape, a, b, c, p=p, order="shuffle", seed=k), p, steps)
        if res is not None and is_integral(res):
            return res
    return rational


def is_integral(res) -> bool:
    """Whether every coefficient of a lift (W_a, W_b, W_c) is an integer."""
    from ..core.arith import is_integral as integral
    return all(integral(np.asarray(W)) for W in res)


def _lift(shape: Shape, a, b, c, solver: LiftSolver, p: int, steps: int):
    r = a.shape[0]
    A, B = shape.a_size, shape.b_size
    step = 1
    for k in range(1, steps):
        step *= p  # p^k
        mod = step * p
        E = _residual_mod(shape, a, b, c, mod)
        if np.any(E % step):
            return None  # the previous step's system was inconsistent: no lift
        e = (E // step) % p
        x = solver.solve(e)
        a = (a + step * x[:r * A].reshape(r, A)) % mod
        b = (b + step * x[r * A:r * (A + B)].reshape(r, B)) % mod
        c = (c + step * x[r * (A + B):].reshape(r, -1)) % mod
        sa, sb, sc = _symmetric(a, mod), _symmetric(b, mod), _symmetric(c, mod)
        if _exact_integer(shape, sa, sb, sc):
            return sa, sb, sc.T.copy()
    mod = p ** steps
    if np.any(_residual_mod(shape, a, b, c, mod)):
        return None
    out = []
    for W in (a, b, c):
        R = np.empty(W.shape, dtype=object)
        for idx, u in np.ndenumerate(W):
            f = rational_reconstruction(int(u), mod, p)
            if f is None:
                return None
            R[idx] = f
        out.append(R)
    ra, rb, rc = out
    return ra, rb, rc.T.copy()
