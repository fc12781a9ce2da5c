"""Hensel lifting of a GF(2) scheme to Z/2^k, rational reconstruction, exact proof.

Given factors a, b, c (0/1, rank r) with sum_t a_t (x) b_t (x) c_t = T mod 2, look for
integer factors congruent to them mod 2 that satisfy the Brent equations exactly.
Step k -> k+1: with the residual E = T - sum a(x)b(x)c = 0 mod 2^k, the corrections
2^k (da, db, dc) must solve the linear system J x = E / 2^k over GF(2), where J is the
Jacobian of the Brent map at the scheme mod 2 (the same J at every step).  J is
eliminated once (bit-packed Gauss-Jordan, numba) together with the identity, so every
step is one GF(2) matrix-vector product; free variables are set to 0, which keeps
coefficients small.  After each step the symmetric residues are tried as an integer
scheme; at the end every coefficient goes through rational reconstruction.  Whatever
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
    """0/1 matrix (mk*kn*mn) x (r*(mk+kn+mn)) of the Brent map's derivative at (a, b, c) mod 2.

    Equation (x, y, z) has row x*kn*mn + y*mn + z; variables: a[t, x'] at t*mk + x',
    then b[t, y'] and c[t, z'] in the same way after the a block and the b block.
    """
    A, B, C = shape.a_size, shape.b_size, shape.c_size
    r = a.shape[0]
    J = np.zeros((A, B, C, r * (A + B + C)), dtype=np.uint8)
    oa, ob, oc = 0, r * A, r * (A + B)
    bc = (b[:, :, None] * c[:, None, :]) % 2  # r x B x C
    ac = (a[:, :, None] * c[:, None, :]) % 2  # r x A x C
    ab = (a[:, :, None] * b[:, None, :]) % 2  # r x A x B
    for t in range(r):
        for x in range(A):
            J[x, :, :, oa + t * A + x] = bc[t]
        for y in range(B):
            J[:, y, :, ob + t * B + y] = ac[t]
        for z in range(C):
            J[:, :, z, oc + t * C + z] = ab[t]
    return J.reshape(A * B * C, -1)


class LiftSolver:
    """The eliminated Jacobian of a GF(2) scheme: solves J x = e for many e."""

    def __init__(self, shape: Shape, a, b, c):
        J = jacobian_mod2(shape, a, b, c)
        neq, nvar = J.shape
        self.neq, self.nvar = neq, nvar
        # [J | I] bit-packed; the identity starts at the next word boundary after J
        jw = (nvar + 63) // 64
        ew = (neq + 63) // 64
        M = np.zeros((neq, jw + ew), dtype=np.uint64)
        M[:, :jw] = pack_bits_rows(J)
        del J
        rows = np.arange(neq)
        M[rows, jw + rows // 64] = np.left_shift(np.uint64(1), (rows % 64).astype(np.uint64))
        piv = _gauss_jordan(M, nvar)
        self.pivots = piv
        # the row operations restricted to the pivot rows, as bits over the equations
        self.R = np.ascontiguousarray(M[:len(piv), jw:])

    def solve(self, e01: np.ndarray) -> np.ndarray:
        """A solution x (0/1, free variables 0) of J x = e, assuming the system is consistent."""
        e = pack_bits_rows(e01.reshape(1, -1).astype(np.uint8))[0]
        y = _apply_rows(self.R, e)
        x = np.zeros(self.nvar, dtype=np.int64)
        x[self.pivots] = y
        return x


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


def rational_reconstruction(u: int, mod: int) -> Fraction | None:
    """The p/q with q odd, |p|, |q| <= sqrt(mod/2) and p = q u mod ``mod`` (None if there is none)."""
    bound = math.isqrt(mod // 2)
    r0, r1 = mod, u % mod
    s0, s1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        s0, s1 = s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound or s1 % 2 == 0:
        return None
    return Fraction(r1, s1)


def hensel_lift(shape: Shape, a01, b01, c01, *, steps: int = MAX_STEPS, solver: LiftSolver | None = None):
    """Lift a GF(2) scheme (0/1 factors a: r x mk, b: r x kn, c: r x mn) to characteristic 0.

    Returns (W_a, W_b, W_c) with W_c = c^T (integers, or object arrays of Fractions), or None
    when the linear system mod 2 is inconsistent or no rational scheme was recognised.
    The result still has to be proven with ``verify``.
    """
    steps = min(int(steps), MAX_STEPS)
    a = np.asarray(a01, dtype=np.int64) % 2
    b = np.asarray(b01, dtype=np.int64) % 2
    c = np.asarray(c01, dtype=np.int64) % 2
    if _exact_integer(shape, a, b, c):
        return a, b, c.T.copy()
    solver = solver or LiftSolver(shape, a, b, c)
    r = a.shape[0]
    A, B = shape.a_size, shape.b_size
    for k in range(1, steps):
        mod = 1 << (k + 1)
        E = _residual_mod(shape, a, b, c, mod)
        if np.any(E % (1 << k)):
            return None  # the previous step's system was inconsistent: no lift
        e = (E >> k) & 1
        x = solver.solve(e)
        step = 1 << k
        a = (a + step * x[:r * A].reshape(r, A)) % mod
        b = (b + step * x[r * A:r * (A + B)].reshape(r, B)) % mod
        c = (c + step * x[r * (A + B):].reshape(r, -1)) % mod
        sa, sb, sc = _symmetric(a, mod), _symmetric(b, mod), _symmetric(c, mod)
        if _exact_integer(shape, sa, sb, sc):
            return sa, sb, sc.T.copy()
    mod = 1 << steps
    if np.any(_residual_mod(shape, a, b, c, mod)):
        return None
    out = []
    for W in (a, b, c):
        R = np.empty(W.shape, dtype=object)
        for idx, u in np.ndenumerate(W):
            f = rational_reconstruction(int(u), mod)
            if f is None:
                return None
            R[idx] = f
        out.append(R)
    ra, rb, rc = out
    return ra, rb, rc.T.copy()
