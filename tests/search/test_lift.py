"""Hensel lifting from GF(2) and rational reconstruction."""

from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.core.shape import Shape
from algodiscover.search import gf2
from algodiscover.search.lift import LiftSolver, hensel_lift, jacobian_mod2, rational_reconstruction
from tests.conftest import LADERMAN, STRASSEN


def _mod2_factors(scheme):
    F, r = gf2.scheme_to_bits(scheme)
    return gf2.bits_to_factors(scheme.shape, F, r)


@pytest.mark.parametrize("name,data,shape", [("strassen", STRASSEN, (2, 2, 2)), ("laderman", LADERMAN, (3, 3, 3))])
def test_lift_of_a_known_scheme_reduced_mod_2(name, data, shape):
    s = Scheme(shape, **data)
    a, b, c = _mod2_factors(s)
    mod2_only = Scheme(shape, a, b, c.T)
    assert mod2_only.verify(symbolic=False).ring == "Z2"  # the 0/1 reduction alone is not a Z scheme
    res = hensel_lift(s.shape, a, b, c)
    assert res is not None
    lifted = Scheme(shape, *res)
    v = lifted.verify(symbolic=True)
    assert v.ok and v.symbolic
    # the lift is congruent to the mod-2 scheme it came from
    for W, W2 in zip((lifted.W_a, lifted.W_b, lifted.W_c), (a, b, c.T)):
        assert np.array_equal(gf2.mod2(W), W2)


def test_jacobian_solver_solves_what_it_claims():
    s = Scheme((2, 2, 2), **STRASSEN)
    a, b, c = _mod2_factors(s)
    J = jacobian_mod2(s.shape, a, b, c).astype(np.int64)
    solver = LiftSolver(s.shape, a, b, c)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x_true = rng.integers(0, 2, J.shape[1])
        e = J @ x_true % 2  # consistent right-hand side
        x = solver.solve(e)
        assert np.array_equal(J @ x % 2, e)


@pytest.mark.parametrize("frac", [Fraction(1), Fraction(-1), Fraction(0), Fraction(1, 3), Fraction(-5, 7),
                                  Fraction(12, 5)])
def test_rational_reconstruction(frac):
    mod = 1 << 20
    u = frac.numerator * pow(frac.denominator, -1, mod) % mod
    assert rational_reconstruction(u, mod) == frac


def _gf2_consistent(J01: np.ndarray, e01: np.ndarray) -> bool:
    """Whether J x = e has a solution over GF(2): Gaussian elimination on [J | e] written here (bit-packed
    rows, numpy), independent of the LiftSolver under test.  The system is inconsistent exactly when the
    last column (e) takes a pivot after all of J's columns have been eliminated."""
    M01 = np.concatenate([J01, e01[:, None]], axis=1).astype(np.uint8)
    ncols = M01.shape[1]
    M = np.packbits(M01, axis=1, bitorder="little")
    M = np.concatenate([M, np.zeros((M.shape[0], (-M.shape[1]) % 8), np.uint8)], axis=1).view(np.uint64).copy()
    rank = 0
    for col in range(ncols):
        w, bit = col >> 6, np.uint64(col & 63)
        has = ((M[rank:, w] >> bit) & np.uint64(1)).astype(bool)
        if not has.any():
            continue
        if col == ncols - 1:
            return False  # e is not in the column space of J
        p = rank + int(np.argmax(has))
        if p != rank:
            M[[rank, p]] = M[[p, rank]]
        sel = ((M[:, w] >> bit) & np.uint64(1)).astype(bool)
        sel[rank] = False
        M[sel] ^= M[rank]
        rank += 1
    return True


def test_an_unliftable_alphatensor_mod2_scheme_stays_z2(known_schemes):
    """AlphaTensor's <4,4,4>:47 holds only mod 2, and it has no lift at all: no scheme over Z/4 (so none
    over Z, over Q with odd denominators, or over the 2-adic integers) is congruent to it mod 2.

    Mathematics, checked here independently of the code under test: a lift to Z/4 is a + 2da, b + 2db,
    c + 2dc with 0/1 corrections; expanding the Brent equations mod 4, it exists iff the residual
    E = T - sum_t a_t (x) b_t (x) c_t (even, since the scheme holds mod 2) satisfies J d = E/2 over GF(2),
    J the Jacobian of the Brent map at (a, b, c).  That system is inconsistent for this scheme, so
    ``hensel_lift`` must return None (any candidate would be a wrong one)."""
    from algodiscover.core.tensor import matmul_tensor
    u, v, w = np.load(known_schemes / "alphatensor" / "factorizations_f2.npz", allow_pickle=True)["4,4,4"]
    shape = Shape(4, 4, 4)
    # AlphaTensor's third factor indexes C^T: entry l*m + i belongs to C[i, l]
    c = np.zeros((shape.c_size, u.shape[1]), dtype=np.int64)
    for i in range(4):
        for l in range(4):
            c[i * 4 + l] = w[l * 4 + i]
    s = Scheme(shape, u.T.astype(np.int64) % 2, v.T.astype(np.int64) % 2, c % 2)
    assert s.rank == 47
    assert s.verify(symbolic=False).ring == "Z2"

    a, b, cc = s.W_a.astype(np.int64), s.W_b.astype(np.int64), s.W_c.T.astype(np.int64)  # r x 16 each
    E = matmul_tensor(shape).astype(np.int64) - np.einsum("tx,ty,tz->xyz", a, b, cc)
    assert not np.any(E % 2)  # valid mod 2
    eye = np.eye(16, dtype=np.int64)
    J = np.concatenate([np.einsum("xX,ty,tz->xyztX", eye, b, cc).reshape(4096, -1),
                        np.einsum("yY,tx,tz->xyztY", eye, a, cc).reshape(4096, -1),
                        np.einsum("zZ,tx,ty->xyztZ", eye, a, b).reshape(4096, -1)], axis=1) % 2
    assert not _gf2_consistent(J, (E // 2 % 2).reshape(-1))  # no lift to Z/4 exists

    res = hensel_lift(shape, *_mod2_factors(s))
    assert res is None


@pytest.mark.parametrize("name,data,shape", [("strassen", STRASSEN, (2, 2, 2)), ("laderman", LADERMAN, (3, 3, 3))])
def test_support_order_lifts_a_ternary_scheme_back_to_ternary_with_its_zeros(name, data, shape):
    """A {-1,0,1} scheme with its signs lost (mod 2): the default lift keeps every zero of the
    mod-2 scheme and only re-signs nonzero entries, so the result is ternary again (the scheme we
    started from shows that such a lift exists)."""
    s = Scheme(shape, **data)
    a, b, c = _mod2_factors(s)
    res = hensel_lift(s.shape, a, b, c, solver=LiftSolver(s.shape, a, b, c, order="support"))
    assert res is not None
    lifted = Scheme(shape, *res)
    assert lifted.verify(symbolic=False).ok
    for W, W2 in zip((lifted.W_a, lifted.W_b, lifted.W_c), (a, b, c.T)):
        W = np.asarray(W, dtype=object)
        assert all(x in (-1, 0, 1) for x in W.ravel())
        assert np.array_equal(W != 0, np.asarray(W2) != 0)


def test_lift_orders_and_bad_order():
    s = Scheme((2, 2, 2), **STRASSEN)
    a, b, c = _mod2_factors(s)
    for order in ("support", "index"):
        solver = LiftSolver(s.shape, a, b, c, order=order)
        assert solver.order == order
        assert sorted(solver.perm.tolist()) == list(range(solver.nvar))
    with pytest.raises(ValueError, match="order must be one of"):
        LiftSolver(s.shape, a, b, c, order="random")


def test_rational_lifts_are_retried_for_an_integral_one(monkeypatch):
    """support/index give only a rational lift: random pivot orders are tried and the first integral
    lift wins; when no order lifts at all, no retry is spent."""
    from algodiscover.search import lift as L
    s = Scheme((2, 2, 2), **STRASSEN)
    a, b, c = _mod2_factors(s)
    q = (np.array([[Fraction(1, 3)]], dtype=object),) * 3
    z = (np.array([[1]]),) * 3
    calls = []

    def fake(shape, a_, b_, c_, solver, p, steps):
        calls.append((solver.order, getattr(solver, "seed", None)))
        return z if (solver.order == "shuffle" and len(calls) == 5) else q
    monkeypatch.setattr(L, "_lift", fake)
    assert L.hensel_lift(s.shape, a, b, c) is z
    assert [o for o, _ in calls] == ["support", "index", "shuffle", "shuffle", "shuffle"]
    calls.clear()
    monkeypatch.setattr(L, "_lift", lambda *args: calls.append(1))
    assert L.hensel_lift(s.shape, a, b, c) is None and len(calls) == len(L.LIFT_ORDERS)


def test_shuffled_orders_are_permutations_that_depend_on_the_seed():
    s = Scheme((3, 3, 3), **LADERMAN)
    a, b, c = _mod2_factors(s)
    p0 = LiftSolver(s.shape, a, b, c, order="shuffle", seed=0).perm
    p1 = LiftSolver(s.shape, a, b, c, order="shuffle", seed=1).perm
    assert sorted(p0.tolist()) == sorted(p1.tolist()) == list(range(len(p0)))
    assert not np.array_equal(p0, p1)
    x0 = np.concatenate([W.ravel() % 2 for W in (a, b, c)])
    nz = int(np.count_nonzero(x0))
    assert np.all(x0[p1[:nz]] != 0)  # odd seeds keep the nonzero coefficients first
    res = hensel_lift(s.shape, a, b, c, solver=LiftSolver(s.shape, a, b, c, order="shuffle", seed=3))
    assert res is None or Scheme((3, 3, 3), *res).verify(symbolic=False).ok


def test_lift_versions_select_the_older_rules(monkeypatch):
    """version 1: the index order alone; 2: support then index, the first lift even if rational (no
    retries); 3 (the default): as 2, but a rational lift is retried for an integral one."""
    from algodiscover.search import lift as L
    s = Scheme((2, 2, 2), **STRASSEN)
    a, b, c = _mod2_factors(s)
    q = (np.array([[Fraction(1, 3)]], dtype=object),) * 3
    calls = []

    def fake(shape, a_, b_, c_, solver, p, steps):
        calls.append(solver.order)
        return q
    monkeypatch.setattr(L, "_lift", fake)
    assert L.hensel_lift(s.shape, a, b, c, version=1) is q and calls == ["index"]
    calls.clear()
    assert L.hensel_lift(s.shape, a, b, c, version=2) is q and calls == ["support"]
    calls.clear()
    assert L.hensel_lift(s.shape, a, b, c) is q
    assert calls == ["support", "index"] + ["shuffle"] * L.LIFT_RETRIES and L.LIFT_VERSION == 3
    with pytest.raises(ValueError, match="lift version must be one of 1, 2, 3"):
        L.hensel_lift(s.shape, a, b, c, version=4)
