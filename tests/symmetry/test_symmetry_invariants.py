"""Invariants: equal on every image of a scheme; the fingerprint tells known-different schemes apart."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.symmetry import fingerprint, invariants, random_element


def test_strassen_rank_profile(strassen):
    # m1 = (a11+a22)(b11+b22) enters c11 and c22: three rank-2 factors; the six others are rank one
    assert invariants(strassen).rank_profile() == {(1, 1, 1): 6, (2, 2, 2): 1}


def test_laderman_has_rank_one_products(laderman):
    prof = invariants(laderman).rank_profile()
    assert sum(prof.values()) == 23
    # products 6, 14, 19, 20, 21, 22, 23 are single entries a_ij * b_jl: rank one in A and B
    assert sum(c for (ra, rb, _), c in prof.items() if ra == 1 and rb == 1) >= 7


@pytest.mark.parametrize("seed", range(12))
def test_invariants_equal_on_random_transforms(strassen, seed):
    rng = np.random.default_rng(seed)
    g = random_element(strassen.shape, rng, rational=seed % 2 == 1, rank=7)
    image = g.apply(strassen)
    assert invariants(image).profile() == invariants(strassen).profile()
    assert fingerprint(image) == fingerprint(strassen)


def test_nnz_is_not_invariant_but_fingerprint_is(strassen, winograd):
    assert strassen.nnz != winograd.nnz  # 36 vs 40: nnz is no invariant
    assert fingerprint(strassen) == fingerprint(winograd)


def test_fingerprint_separates_rank_and_shape(strassen):
    assert fingerprint(strassen) != fingerprint(Scheme.standard((2, 2, 2)))
    assert fingerprint(Scheme.standard((2, 2, 3))) != fingerprint(Scheme.standard((2, 2, 2)))


def test_fingerprint_is_invariant_under_reorientation():
    # <2,2,3> and <3,2,2> are related by transposition: same fingerprint
    from algodiscover.core.transform import to_shape
    s = Scheme.standard((2, 2, 3))
    assert fingerprint(to_shape(s, (3, 2, 2))) == fingerprint(s)
    assert fingerprint(to_shape(s, (2, 3, 2))) == fingerprint(s)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from(["laderman", "std223", "std234"]))
def test_fingerprint_invariant_on_other_schemes(seed, which):
    from tests.tests_helpers import laderman_scheme
    s = {"laderman": laderman_scheme, "std223": lambda: Scheme.standard((2, 2, 3)),
         "std234": lambda: Scheme.standard((2, 3, 4))}[which]()
    rng = np.random.default_rng(seed)
    image = random_element(s.shape, rng, rational=seed % 2 == 0, rank=s.rank).apply(s)
    assert image.verify(symbolic=False).ok
    assert fingerprint(image) == fingerprint(s)
