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


def test_an_unliftable_alphatensor_mod2_scheme_stays_z2(shared_dir):
    """AlphaTensor's <4,4,4>:47 holds only mod 2 (no rank-47 scheme in characteristic 0 is known)."""
    path = shared_dir / "known-schemes" / "alphatensor" / "factorizations_f2.npz"
    if not path.exists():
        pytest.skip("AlphaTensor mod-2 factorizations not present")
    u, v, w = np.load(path, allow_pickle=True)["4,4,4"]
    shape = Shape(4, 4, 4)
    # AlphaTensor's third factor indexes C^T: entry l*m + i belongs to C[i, l]
    c = np.zeros((shape.c_size, u.shape[1]), dtype=np.int64)
    for i in range(4):
        for l in range(4):
            c[i * 4 + l] = w[l * 4 + i]
    s = Scheme(shape, u.T.astype(np.int64) % 2, v.T.astype(np.int64) % 2, c % 2)
    assert s.rank == 47
    assert s.verify(symbolic=False).ring == "Z2"
    a, b, cc = _mod2_factors(s)
    res = hensel_lift(shape, a, b, cc)
    if res is not None:  # a candidate that came out must still fail the exact proof
        assert not Scheme(shape, *res).verify(symbolic=False).ok
