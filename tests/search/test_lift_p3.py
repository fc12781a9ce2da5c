"""3-adic Hensel lifting (issue 12 point 4): a scheme with 1/2 reduced mod 3 lifts back to characteristic 0."""

from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.search import gf2
from algodiscover.search.lift import LiftSolver, hensel_lift, jacobian_mod, rational_reconstruction
from algodiscover.symmetry.group import basis_change
from tests.conftest import LADERMAN, STRASSEN


def _half_scheme(data, shape):
    """A scheme with coefficients 1/2: the basis change X = diag(2, 1, ...) (det 2) of a known scheme.

    a -> X a, c -> X^-T c: entries of the C-part get the factor 1/2; the result is a correct
    rational scheme (the group maps correct schemes to correct ones) with no reduction mod 2."""
    s = Scheme(shape, **data)
    m, k, n = shape
    X = np.eye(m, dtype=np.int64)
    X[0, 0] = 2
    return basis_change(s, X, np.eye(k, dtype=np.int64), np.eye(n, dtype=np.int64))


def _mod3(W):
    out = np.zeros(W.shape, dtype=np.int64)
    for idx, x in np.ndenumerate(W):
        f = Fraction(x)
        out[idx] = f.numerator * pow(f.denominator, -1, 3) % 3
    return out


@pytest.mark.parametrize("data,shape", [(STRASSEN, (2, 2, 2)), (LADERMAN, (3, 3, 3))])
def test_a_half_scheme_reduced_mod_3_lifts_3_adically_and_is_proven(data, shape):
    h = _half_scheme(data, shape)
    assert h.verify(symbolic=False).ring == "Q"
    assert any(Fraction(x).denominator == 2 for x in h.W_c.flat)
    with pytest.raises(ValueError):
        gf2.mod2(h.W_c)  # no reduction mod 2: a GF(2) search cannot see this scheme
    a, b, c = _mod3(h.W_a), _mod3(h.W_b), _mod3(h.W_c).T
    mod3_only = Scheme(shape, np.where(a == 2, -1, a), np.where(b == 2, -1, b), np.where(c == 2, -1, c).T)
    assert mod3_only.verify(symbolic=False).ring in ("Z3", "ZT")
    res = hensel_lift(h.shape, a, b, c, p=3)
    assert res is not None
    lifted = Scheme(shape, *res)
    v = lifted.verify(symbolic=True)
    assert v.ok and v.symbolic
    for W, W3 in zip((lifted.W_a, lifted.W_b, lifted.W_c), (a, b, c.T)):
        assert np.array_equal(_mod3(W), W3 % 3)  # congruent to the scheme mod 3 it came from


def test_gf3_solver_solves_what_it_claims():
    h = _half_scheme(STRASSEN, (2, 2, 2))
    a, b, c = _mod3(h.W_a), _mod3(h.W_b), _mod3(h.W_c).T
    J = jacobian_mod(h.shape, a, b, c, 3).astype(np.int64)
    solver = LiftSolver(h.shape, a, b, c, p=3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        e = J @ rng.integers(0, 3, J.shape[1]) % 3
        assert np.array_equal(J @ solver.solve(e) % 3, e)


def test_embedded_solver_returns_corrections_in_the_subspace():
    s = Scheme((2, 2, 2), **STRASSEN)
    F, r = gf2.scheme_to_bits(s)
    a, b, c = gf2.bits_to_factors(s.shape, F, r)
    J = jacobian_mod(s.shape, a, b, c, 2).astype(np.int64)
    embed = np.arange(J.shape[1]) // 2  # pairs of variables forced equal
    solver = LiftSolver(s.shape, a, b, c, embed=embed)
    M = np.zeros((J.shape[1], embed.max() + 1), dtype=np.int64)
    M[np.arange(J.shape[1]), embed] = 1
    rng = np.random.default_rng(1)
    for _ in range(3):
        e = J @ M @ rng.integers(0, 2, M.shape[1]) % 2
        x = solver.solve(e)
        assert np.array_equal(x[0::2], x[1::2]) and np.array_equal(J @ x % 2, e)


@pytest.mark.parametrize("frac", [Fraction(1, 2), Fraction(-1, 2), Fraction(3, 4), Fraction(-7, 10), Fraction(5)])
def test_rational_reconstruction_mod_powers_of_3(frac):
    mod = 3**12
    u = frac.numerator * pow(frac.denominator, -1, mod) % mod
    assert rational_reconstruction(u, mod, 3) == frac


def test_p2_behaviour_unchanged_for_an_odd_denominator():
    mod = 1 << 20
    u = 1 * pow(3, -1, mod) % mod
    assert rational_reconstruction(u, mod) == Fraction(1, 3)
    assert rational_reconstruction(u, mod, 3) is None  # denominators divisible by p are refused
