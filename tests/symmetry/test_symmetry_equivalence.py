"""Equivalence: complete for <2,2,2> rank 7 (de Groote 1978), exact transformations, honest 'not equivalent'."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.core.transform import to_shape
from algodiscover.symmetry import EQUIVALENT, NOT_EQUIVALENT, equivalent, random_element


def _check(s1, s2):
    res = equivalent(s1, s2)
    assert res.verdict == EQUIVALENT, res.reason
    g = res.transformation
    assert g.apply(s1) == s2  # exact: same products, same order, same coefficients
    return g


def test_strassen_and_winograd_are_equivalent(strassen, winograd):
    g = _check(strassen, winograd)
    for M in (g.X, g.Y, g.Z):
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        assert det != 0


def test_equivalence_is_symmetric(strassen, winograd):
    _check(winograd, strassen)


def test_identical_schemes(strassen):
    _check(strassen, strassen)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rational=st.booleans(), base=st.sampled_from(["strassen", "winograd"]))
def test_every_random_image_of_a_rank7_scheme_is_recognised(seed, rational, base):
    """Complete for <2,2,2>: any rank-7 scheme (here: random group images) is matched to Strassen."""
    from tests.tests_helpers import strassen_scheme, winograd_scheme
    strassen = strassen_scheme()
    src = strassen if base == "strassen" else winograd_scheme()
    rng = np.random.default_rng(seed)
    target = random_element(src.shape, rng, rational=rational, rank=7).apply(src)
    assert target.verify().ok
    _check(strassen, target)


def test_many_distinct_rank7_schemes(strassen):
    from algodiscover.core.canonical import canonical_key
    rng = np.random.default_rng(2024)
    keys = set()
    for _ in range(25):
        t = random_element(strassen.shape, rng, rank=7).apply(strassen)
        keys.add(canonical_key(t))
        _check(strassen, t)
    assert len(keys) >= 20  # they really are different schemes


def test_reoriented_shapes_are_equivalent():
    s = Scheme.standard((2, 2, 3))
    _check(s, to_shape(s, (3, 2, 2)))


def test_laderman_image(laderman):
    rng = np.random.default_rng(7)
    _check(laderman, random_element(laderman.shape, rng, rank=23).apply(laderman))


def test_rank7_vs_rank8_not_equivalent(strassen):
    res = equivalent(strassen, Scheme.standard((2, 2, 2)))
    assert res.verdict == NOT_EQUIVALENT
    assert "rank" in res.reason
    assert res.transformation is None


def test_other_shape_not_equivalent(strassen):
    res = equivalent(strassen, Scheme.standard((2, 2, 3)))
    assert res.verdict == NOT_EQUIVALENT
    assert "shape" in res.reason


def test_basis_change_with_rational_inverse_is_found():
    from algodiscover.symmetry import basis_change
    s = Scheme.standard((2, 2, 2))
    t = basis_change(s, [[2, 0], [0, 1]], [[1, 0], [0, 3]], [[1, 1], [0, 1]])
    assert t.verify().ring == "Q"
    _check(s, t)


@pytest.mark.parametrize("shape", [(2, 2, 2), (2, 2, 3), (2, 3, 3)])
def test_standard_algorithm_large_stabiliser(shape):
    """The standard algorithm has a torus of symmetries: the search must still pick an invertible one."""
    s = Scheme.standard(shape)
    rng = np.random.default_rng(sum(shape))
    _check(s, random_element(s.shape, rng, rank=s.rank).apply(s))


def test_strassen_automorphism_group_has_order_36(strassen):
    """Burichenko (2014): the automorphism group of Strassen's algorithm is S3 x S3, of order 36."""
    from algodiscover.symmetry import symmetries
    group, complete = symmetries(strassen)
    assert complete
    assert len(group) == 36
    assert all(g.apply(strassen) == strassen for g in group)
    # exactly one of them is the identity (basis change by scalars, same orientation)
    ids = [g for g in group if g.word == () and _is_scalar(g.X) and _is_scalar(g.Y) and _is_scalar(g.Z)]
    assert len(ids) == 1


def test_transformations_onto_winograd_form_a_coset(strassen, winograd):
    """The maps Strassen -> Winograd are one coset of Strassen's automorphism group: 36 of them."""
    from algodiscover.symmetry import transformations
    maps, complete = transformations(strassen, winograd)
    assert complete and len(maps) == 36
    assert all(g.apply(strassen) == winograd for g in maps)


def _is_scalar(M):
    return M[0, 1] == 0 and M[1, 0] == 0 and M[0, 0] == M[1, 1]


def _strassen_plus_cancelling_pair(strassen, a, b, c):
    """Strassen with two extra products E and -E (a (x) b (x) c and a (x) b (x) -c): rank 9, still correct."""
    Wa = np.vstack([strassen.W_a, [a, a]])
    Wb = np.vstack([strassen.W_b, [b, b]])
    Wc = np.hstack([strassen.W_c, np.array([c, [-x for x in c]]).T])
    return Scheme((2, 2, 2), Wa, Wb, Wc)


E1 = ((1, 1, 0, 1), (1, 0, 1, 0), (1, 0, 0, 0))


@pytest.mark.parametrize("other, expected", [
    (((1, 0, 1, 1), (0, 1, 0, 1), (0, 0, 0, 1)), True),
    (((1, 0, 1, 1), (1, 1, 1, 1), (1, 0, 1, 0)), False),
    (((0, 1, 0, 1), (1, 0, 0, 0), (1, 1, 0, 1)), False),
    (((1, 1, 0, 1), (0, 0, 1, 1), (0, 0, 1, 1)), False),
])
def test_exhaustive_verdicts_agree_with_the_automorphism_orbit(strassen, other, expected):
    """T1 = Strassen + E - E and T2 = Strassen + F - F (E, F proportional to no Strassen product).  A map
    T1 -> T2 must send the only cancelling pair to the only cancelling pair, hence fix Strassen: so T1 ~ T2
    iff some automorphism of Strassen sends E to +-F.  That orbit test is independent of the search."""
    from algodiscover.core.canonical import canonical_key
    from algodiscover.symmetry import Transformation, fingerprint, symmetries
    t1 = _strassen_plus_cancelling_pair(strassen, *E1)
    t2 = _strassen_plus_cancelling_pair(strassen, *other)
    from algodiscover.symmetry.invariants import _direction

    def directions(s):
        return [(_direction(s.W_a[t].tolist()), _direction(s.W_b[t].tolist()), _direction(s.W_c[:, t].tolist()))
                for t in range(s.rank)]
    base = set(directions(strassen))
    for t in (t1, t2):
        assert not set(directions(t)[7:]) & base  # E is proportional to no Strassen product
    assert fingerprint(t1) == fingerprint(t2)  # the invariants cannot tell them apart
    group, complete = symmetries(strassen)
    assert complete and len(group) == 36
    in_orbit = any(canonical_key(Transformation(g.source_shape, g.word, g.X, g.Y, g.Z).apply(t1)) == canonical_key(t2)
                   for g in group)
    assert in_orbit == expected
    res = equivalent(t1, t2)
    assert res.verdict == (EQUIVALENT if expected else NOT_EQUIVALENT)
    if not expected:
        assert "exhaustive" in res.reason
