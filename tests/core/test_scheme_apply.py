"""Scheme.apply computes A @ B only with a proven scheme (verified on first use, cached)."""

from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.errors import SchemeError
from tests.conftest import STRASSEN


def _strassen_with(changes):
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    for (name, i, j), val in changes.items():
        d[name][i][j] = val
    return Scheme((2, 2, 2), **d)


def _rational_strassen() -> Scheme:
    # Strassen's m1 with a factor 2 moved into 1/2 on every output that uses it: valid, needs fractions
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_a"][0] = [2, 0, 0, 2]
    for row in d["W_c"]:
        row[0] = Fraction(row[0], 2)
    return Scheme((2, 2, 2), **d)


def test_an_unverified_scheme_is_verified_on_first_use_and_the_proof_cached():
    s = Scheme((2, 2, 2), **STRASSEN)
    assert s.verification is None
    A, B = np.arange(16).reshape(4, 4), np.arange(16, 32).reshape(4, 4)
    assert np.array_equal(s.apply(A, B), A @ B)
    v = s.verification
    assert v is not None and v.ring == "ZT"
    s.apply(A, B)
    assert s.verification is v  # not proven again


def test_an_invalid_scheme_is_refused_with_one_line():
    # c11 loses m7: the products it computes would be wrong in c11 (a12 b21 + a12 b22 - ...)
    s = _strassen_with({("W_c", 0, 6): 0})
    with pytest.raises(SchemeError) as info:
        s.apply(np.eye(2, dtype=np.int64), np.eye(2, dtype=np.int64))
    msg = str(info.value)
    assert "\n" not in msg and "invalid" in msg and "4 Brent equations fail" in msg and "c11" in msg
    assert s.verification.ring == "invalid"  # the check ran once and is cached


def test_a_mod2_only_scheme_is_refused():
    s = _strassen_with({("W_c", 0, 4): 1})  # -m5 -> +m5 in c11: holds only modulo 2
    with pytest.raises(SchemeError, match="valid only modulo 2"):
        s.apply(np.ones((2, 2)), np.ones((2, 2)))


def test_a_scheme_already_known_invalid_is_refused_without_a_new_check():
    s = _strassen_with({("W_b", 2, 1): 0})
    assert not s.verify(symbolic=False).ok
    with pytest.raises(SchemeError, match="refusing to apply"):
        s.apply(np.eye(4), np.eye(4))


def test_a_rational_scheme_on_integers_is_exact_beyond_float_precision():
    # entries near 2**30: the sums reach 2**61, far past float64's 2**53 -- exact integers come back
    s = _rational_strassen()
    rng = np.random.default_rng(1)
    A = rng.integers(2**30 - 1000, 2**30, size=(4, 4))
    B = rng.integers(2**30 - 1000, 2**30, size=(4, 4))
    exact = np.array([[sum(int(A[i, j]) * int(B[j, l]) for j in range(4)) for l in range(4)] for i in range(4)],
                     dtype=object)
    out = s.apply(A, B, cutoff=1)
    assert out.dtype == np.int64
    assert [[int(x) for x in row] for row in out] == exact.tolist()
    # the same through float64 is not exact: the test would see a rounding
    assert not np.array_equal(s.apply(A.astype(float), B.astype(float), cutoff=1).astype(np.int64), out)
