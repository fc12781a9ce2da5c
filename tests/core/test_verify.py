from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme, verify
from algodiscover.core.verify import brent_residual, require_valid, symbolic_check
from algodiscover.errors import VerificationError
from tests.conftest import STRASSEN


def _strassen_with(changes):
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    for (name, i, j), val in changes.items():
        d[name][i][j] = val
    return Scheme((2, 2, 2), **d)


def test_strassen_winograd_laderman_proven(strassen, winograd, laderman):
    for s in (strassen, winograd, laderman):
        v = verify(s, symbolic=True)
        assert v.ok and v.ring == "ZT" and v.symbolic is True and v.n_failures == 0


def test_wrong_scheme_rejected_with_evidence():
    # c11 = m1 + m4 - m5 + m7 in Strassen; dropping m7 breaks exactly the terms m7 contributes to c11:
    # m7 = (a12 - a22)(b21 + b22) contributes a12b21, a12b22, -a22b21, -a22b22 to c11.
    s = _strassen_with({("W_c", 0, 6): 0})
    v = verify(s)
    assert v.ring == "invalid" and not v.ok
    assert v.n_failures == 4
    got = {(f.a, f.b, f.c): f.got for f in v.failures}
    # a12*b21 belongs in c11 with coefficient 1 and now has 0
    assert got[((0, 1), (1, 0), (0, 0))] == 0
    # a12*b22 must not be in c11 and m1+m4-m5 gives -1 there
    assert got[((0, 1), (1, 1), (0, 0))] == -1
    assert "c11" in v.failures[0].describe()
    assert symbolic_check(s)[1] == ["c11"]
    with pytest.raises(VerificationError):
        require_valid(s)


def test_mod2_only_scheme_is_Z2_not_Z():
    # -1 == 1 (mod 2): flipping the sign of m5 in c11 keeps the scheme valid mod 2 only
    s = _strassen_with({("W_c", 0, 4): 1})
    v = verify(s)
    assert v.ring == "Z2" and not v.ok
    assert v.n_failures > 0


def test_even_defect_with_odd_denominators_is_Z2():
    s = _strassen_with({("W_c", 0, 4): Fraction(1, 3)})  # -1 -> 1/3: difference 4/3, even numerator
    assert verify(s).ring == "Z2"


def test_even_denominator_is_never_Z2():
    s = _strassen_with({("W_c", 0, 4): Fraction(1, 2)})
    # 1/2 = -1 (mod 3), so this one is valid modulo 3 (Z3); never Z2, never valid over Z
    v = verify(s)
    assert v.ring == "Z3" and not v.ok
    s = _strassen_with({("W_c", 0, 4): Fraction(1, 4)})  # 1/4 = 1 (mod 3): fails mod 3 too
    assert verify(s).ring == "invalid"


def test_rational_ring_Q():
    # scale the A-side of m2 = (a21 + a22) b11 by 2 and its two uses in C by 1/2: valid, needs fractions
    d = {k: [list(r) for r in v] for k, v in STRASSEN.items()}
    d["W_a"][1] = [0, 0, 2, 2]
    d["W_c"][2][1] = Fraction(1, 2)
    d["W_c"][3][1] = Fraction(-1, 2)
    v = verify(Scheme((2, 2, 2), **d), symbolic=True)
    assert v.ring == "Q" and v.symbolic is True
    # without the compensation it is wrong
    d["W_c"][2][1], d["W_c"][3][1] = 1, -1
    assert verify(Scheme((2, 2, 2), **d)).ring == "invalid"


def test_integer_non_ternary_ring_Z(strassen):
    # a change of basis with an integer unimodular matrix keeps the scheme integral but not ternary
    # a unimodular transformation: A -> P A with P = [[1, 2], [0, 1]] and C -> P C keeps validity, ring Z
    P = np.array([[1, 2], [0, 1]])
    Pinv = np.array([[1, -2], [0, 1]])
    Wa = np.array(STRASSEN["W_a"]).reshape(7, 2, 2)
    Wc = np.array(STRASSEN["W_c"]).T.reshape(7, 2, 2)
    # the product A B = C; with A = Pinv A', C' = P C: entries of A are linear in A' via Pinv
    Wa2 = np.einsum("tij,ip->tpj", Wa, Pinv).reshape(7, 4)
    Wc2 = np.einsum("pi,til->tpl", P, Wc).reshape(7, 4).T
    s2 = Scheme((2, 2, 2), Wa2, STRASSEN["W_b"], Wc2)
    v = verify(s2, symbolic=True)
    assert v.ring == "Z" and not s2.is_ternary


def test_residual_is_exact_for_large_coefficients():
    big = 3**30  # products exceed 2**53: must take the exact integer path
    s = Scheme((1, 1, 1), [[big]], [[big]], [["1/%d" % (big * big)]])
    R, D = brent_residual(s)
    assert int(R[0, 0, 0]) == 0
    assert verify(s).ring == "Q"
    s2 = Scheme((1, 1, 1), [[big]], [[big]], [[1]])
    assert verify(s2).ring == "Z2"  # 3**60 - 1 is even: holds mod 2 only
    s3 = Scheme((1, 1, 1), [[2 * big]], [[big]], [[1]])
    assert verify(s3).ring == "invalid"


def _block_product(s: Scheme, A: list, B: list, *, b_first: bool = False) -> list:
    """Evaluate the scheme over the ring of d x d integer matrices (not commutative): A, B are the mk and
    kn blocks, row-major; product t is (sum_x W_a[t,x] A_x) @ (sum_y W_b[t,y] B_y), or the two factors in
    the other order when ``b_first``.  Returns the mn blocks of C."""
    Wa, Wb, Wc = (np.array(W.tolist(), dtype=object) for W in (s.W_a, s.W_b, s.W_c))
    L = [sum(int(c) * X for c, X in zip(row, A)) for row in Wa]
    R = [sum(int(c) * Y for c, Y in zip(row, B)) for row in Wb]
    P = [(r @ l) if b_first else (l @ r) for l, r in zip(L, R)]
    return [sum(int(c) * Q for c, Q in zip(row, P)) for row in Wc]


def _blocks_of_the_product(shape, A: list, B: list) -> list:
    m, k, n = shape
    return [sum(A[i * k + j] @ B[j * n + l] for j in range(k)) for i in range(m) for l in range(n)]


def _transposed(s: Scheme) -> Scheme:
    """The <n,k,m> scheme read off C^T = B^T A^T: X = B^T takes W_b's forms, Y = A^T takes W_a's."""
    m, k, n = s.shape
    Wa = np.array([[s.W_b[t, j * n + l] for l in range(n) for j in range(k)] for t in range(s.rank)])
    Wb = np.array([[s.W_a[t, i * k + j] for j in range(k) for i in range(m)] for t in range(s.rank)])
    Wc = np.array([s.W_c[i * n + l] for l in range(n) for i in range(m)])
    return Scheme((n, k, m), Wa, Wb, Wc)


def test_symbolic_agrees_on_noncommutative_products(strassen, winograd):
    """A bilinear scheme that satisfies the Brent equations multiplies matrices over *every* ring, commutative
    or not, so the non-commutative cross-check must agree with the Brent check; this test shows that it does,
    and that the order of the factors is really tested.

    Mathematics: in c_z = sum_t W_c[z,t] (sum_x W_a[t,x] a_x)(sum_y W_b[t,y] b_y) every monomial is a_x b_y
    with the a-entry on the left, whether or not a and b commute (the coefficients are integers or rationals,
    central in any Q-algebra).  The words a_x b_y for distinct (x, y) are distinct in the free algebra, just as
    the commutative monomials are in a polynomial ring, so comparing coefficients with sum_j a_ij b_jl gives
    the same equations -- the Brent equations -- in both settings.  Hence no W_a/W_b/W_c scheme is valid
    commutatively but not non-commutatively: algorithms that need commutativity (Winograd's 1968 inner-product
    trick, products like (a_ij + b_jl)(...)) are not bilinear and cannot be written in this form.  What can go
    wrong is a checker that multiplies in the wrong order or with commuting symbols; the block-matrix
    evaluation below is a second, independent non-commutative check that would expose it."""
    for s in (strassen, winograd):
        ok, bad = symbolic_check(s)
        assert ok and bad == []
    broken = _strassen_with({("W_b", 2, 1): 0})  # m3 = a11 (b12 - b22) loses b12: c12 and c22 change
    assert symbolic_check(broken) == (False, ["c12", "c22"])
    v = verify(broken, symbolic=True)
    assert v.ring == "invalid"

    # over the ring of 3x3 integer matrices, which does not commute (checked), A and B as 2x2 block matrices
    rng = np.random.default_rng(7)
    A = [rng.integers(-5, 6, (3, 3)).astype(object) for _ in range(4)]
    B = [rng.integers(-5, 6, (3, 3)).astype(object) for _ in range(4)]
    assert any((X @ Y != Y @ X).any() for X in A for Y in B)
    want = _blocks_of_the_product((2, 2, 2), A, B)
    for s in (strassen, winograd):
        got = _block_product(s, A, B)
        assert all((g == w).all() for g, w in zip(got, want))
        # the same products with their factors swapped are what a commutative derivation would allow; over
        # matrices they are wrong, so the evaluation above really depends on the order
        swapped = _block_product(s, A, B, b_first=True)
        assert not all((g == w).all() for g, w in zip(swapped, want))
    got = _block_product(broken, A, B)
    assert not all((g == w).all() for g, w in zip(got, want))

    # a scheme derived *using* commutativity (C^T = B^T A^T) is still valid non-commutatively, as shown above
    t = _transposed(strassen)
    assert verify(t, symbolic=True).ok and symbolic_check(t)[0]
    X, Y = [Bj.T.copy() for Bj in B], [Ai.T.copy() for Ai in A]  # blocks of B^T and A^T, row-major
    Xb = [X[j * 2 + l] for l in range(2) for j in range(2)]
    Yb = [Y[i * 2 + j] for j in range(2) for i in range(2)]
    got = _block_product(t, Xb, Yb)
    assert all((g == w).all() for g, w in zip(got, _blocks_of_the_product((2, 2, 2), Xb, Yb)))
