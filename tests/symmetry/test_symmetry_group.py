"""The group action: every element maps a correct scheme to a correct scheme of the same rank."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.errors import SchemeError
from algodiscover.symmetry import Transformation, WORDS, basis_change, permute_and_scale, random_element, word_shape


def test_basis_change_by_identity_is_identity(strassen):
    I = np.eye(2, dtype=np.int64)
    assert basis_change(strassen, I, I, I) == strassen


def test_basis_change_matches_the_definition(strassen):
    # a -> X a Y^-1 for one product, computed by hand: a_1 = a11 + a22 = identity matrix
    X = [[1, 1], [0, 1]]
    Y = [[2, 0], [0, 1]]
    Z = [[1, 0], [1, 1]]
    s = basis_change(strassen, X, Y, Z)
    # X I Y^-1 = [[1/2, 1], [0, 1]]
    assert [Fraction(x) for x in s.W_a[0]] == [Fraction(1, 2), 1, 0, 1]
    assert s.verify().ok


@pytest.mark.parametrize("word", WORDS)
def test_orientation_words_give_the_announced_shape(word):
    s = Scheme.standard((2, 3, 4))
    g = Transformation(s.shape, word)
    image = g.apply(s)
    assert image.shape == word_shape((2, 3, 4), word)
    assert image.verify().ok


def test_singular_basis_change_is_refused(strassen):
    with pytest.raises(SchemeError, match="singular"):
        basis_change(strassen, [[1, 1], [1, 1]], np.eye(2, dtype=int), np.eye(2, dtype=int))


def test_permute_and_scale_keeps_correctness(strassen):
    s = permute_and_scale(strassen, [6, 5, 4, 3, 2, 1, 0], [2] * 7, [Fraction(-1, 3)] * 7)
    assert s.verify().ring == "Q"
    assert s.rank == 7


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rational=st.booleans())
def test_random_elements_preserve_validity(seed, rational):
    from tests.tests_helpers import strassen_scheme
    rng = np.random.default_rng(seed)
    s = strassen_scheme()
    g = random_element(s.shape, rng, rational=rational, rank=7)
    image = g.apply(s)
    assert image.rank == 7
    assert image.verify().ok
