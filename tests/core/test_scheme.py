from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from algodiscover import Scheme
from algodiscover.errors import SchemeError
from tests.conftest import STRASSEN


def test_strassen_metrics(strassen):
    # Strassen: 7 products, 36 nonzeros, 18 additions (10 in the products, 8 in the outputs)
    assert strassen.rank == 7
    assert strassen.nnz == 36
    assert strassen.additions_naive == 18
    assert strassen.is_ternary and strassen.is_integral


def test_winograd_naive_additions(winograd):
    # Winograd's variant needs 15 additions only with shared sub-sums; naively it has 24
    assert winograd.additions_naive == 24


def test_standard_algorithm():
    s = Scheme.standard("2x3x4")
    assert s.rank == 24
    assert s.additions_naive == 2 * 4 * (3 - 1)  # each of the 8 outputs sums 3 products
    assert s.verify().ring == "ZT"


def test_immutable(strassen):
    with pytest.raises(AttributeError):
        strassen.foo = 1
    with pytest.raises(ValueError):
        strassen.W_a[0, 0] = 5


def test_dimension_errors():
    with pytest.raises(SchemeError, match="W_c has 3 rows"):
        Scheme((2, 2, 2), [[1, 0, 0, 0]], [[1, 0, 0, 0]], [[1], [0], [0]])
    with pytest.raises(SchemeError, match="ragged"):
        Scheme((2, 2, 2), [[1, 0, 0, 0], [1, 0]], [[1, 0, 0, 0]] * 2, [[1, 0]] * 4)
    with pytest.raises(SchemeError, match="non-integer float"):
        Scheme((1, 1, 1), [[0.5]], [[1]], [[1]])
    with pytest.raises(SchemeError, match="boolean"):
        Scheme((1, 1, 1), [[True]], [[1]], [[1]])


def test_rational_coefficients():
    s = Scheme((1, 1, 1), [["1/2"]], [[2]], [[1]])
    assert s.W_a[0, 0] == Fraction(1, 2)
    assert not s.is_integral and s.verify().ring == "Q"


def test_equality_and_provenance(strassen):
    t = strassen.with_provenance(engine="x")
    assert t == strassen and hash(t) == hash(strassen)
    assert t.provenance["engine"] == "x" and "engine" not in strassen.provenance


@settings(max_examples=25, deadline=None)
@given(p=st.integers(1, 9), q=st.integers(1, 9), s=st.integers(1, 9), cutoff=st.sampled_from([1, 2, 4]),
       seed=st.integers(0, 2**31))
def test_apply_matches_numpy_integers(p, q, s, cutoff, seed):
    strassen = Scheme((2, 2, 2), **STRASSEN)
    rng = np.random.default_rng(seed)
    A = rng.integers(-9, 10, (p, q))
    B = rng.integers(-9, 10, (q, s))
    assert np.array_equal(strassen.apply(A, B, cutoff=cutoff), A @ B)


def test_apply_laderman_floats(laderman):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((10, 7))
    B = rng.standard_normal((7, 11))
    assert np.allclose(laderman.apply(A, B, cutoff=2), A @ B)


def test_apply_rational_scheme_exact():
    # Strassen's m1 with a factor 2 moved into 1/2 on the output side stays exact on integer input
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_a"][0] = [2, 0, 0, 2]
    for row in d["W_c"]:
        row[0] = Fraction(row[0], 2)
    s = Scheme((2, 2, 2), **d)
    assert s.verify().ring == "Q"
    A = np.arange(16).reshape(4, 4)
    B = np.arange(16, 32).reshape(4, 4)
    assert np.array_equal(s.apply(A, B, cutoff=1), A @ B)
