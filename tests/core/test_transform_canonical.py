import itertools

import numpy as np
import pytest

from algodiscover import Scheme, verify
from algodiscover.core.canonical import canonical_key
from algodiscover.core.transform import cycle, to_shape, transpose
from algodiscover.errors import ShapeError


def stacked_224(strassen):
    """<2,2,4> of rank 14: Strassen on each 2x2 column block of B and C (C-part not symmetric)."""
    Wa = np.vstack([strassen.W_a, strassen.W_a])
    Wb = np.zeros((14, 8), dtype=int)
    Wc = np.zeros((8, 14), dtype=int)
    for blk in range(2):
        for t in range(7):
            for j in range(2):
                for l in range(2):
                    Wb[blk * 7 + t, j * 4 + 2 * blk + l] = strassen.W_b[t, j * 2 + l]
                    Wc[j * 4 + 2 * blk + l, blk * 7 + t] = strassen.W_c[j * 2 + l, t]
    return Scheme((2, 2, 4), Wa, Wb, Wc)


def test_stacked_is_valid(strassen):
    assert verify(stacked_224(strassen)).ring == "ZT"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_every_permutation_stays_valid(strassen, order):
    s = stacked_224(strassen)
    target = tuple(s.shape[i] for i in order)
    t = to_shape(s, target)
    assert tuple(t.shape) == target and t.rank == 14
    assert verify(t, symbolic=True).ring == "ZT"


def test_generators(strassen):
    s = stacked_224(strassen)
    assert tuple(transpose(s).shape) == (4, 2, 2)
    assert tuple(cycle(s).shape) == (2, 4, 2)
    assert transpose(transpose(s)) == s
    assert cycle(cycle(cycle(s))) == s
    with pytest.raises(ShapeError):
        to_shape(s, (2, 2, 3))


def test_canonical_key_ignores_order_and_signs(strassen):
    perm = [3, 0, 6, 1, 5, 2, 4]
    Wa = strassen.W_a[perm].copy()
    Wb = strassen.W_b[perm].copy()
    Wc = strassen.W_c[:, perm].copy()
    Wa[0] *= -1
    Wc[:, 0] *= -1  # sign moved from the A-factor to the output side
    Wb[2] *= -1
    Wa[2] *= -1  # sign moved between the two factors
    s2 = Scheme((2, 2, 2), Wa, Wb, Wc)
    assert verify(s2).ring == "ZT"
    assert canonical_key(s2) == canonical_key(strassen)


def test_canonical_key_separates_different_schemes(strassen, winograd):
    assert canonical_key(strassen) != canonical_key(winograd)


def test_tensor_product_strassen_squared(strassen, laderman):
    from algodiscover.core.compose import tensor_product
    s = tensor_product(strassen, strassen)
    # Strassen applied to 2x2 blocks of 2x2 blocks: <4,4,4> with 7*7 = 49 products, the best integer rank known
    assert tuple(s.shape) == (4, 4, 4) and s.rank == 49
    assert verify(s).ring == "ZT"
    mixed = tensor_product(stacked_224(strassen), Scheme.standard((1, 3, 2)))
    assert tuple(mixed.shape) == (2, 6, 8) and mixed.rank == 14 * 6
    assert verify(mixed).ring == "ZT"


def test_normalize_signs_keeps_the_algorithm(strassen):
    from algodiscover.core.canonical import normalize_signs
    Wa = strassen.W_a.copy()
    Wb = strassen.W_b.copy()
    Wc = strassen.W_c.copy()
    Wa[3] *= -1
    Wc[:, 3] *= -1
    Wb[5] *= -1
    Wc[:, 5] *= -1
    s = Scheme((2, 2, 2), Wa, Wb, Wc)
    n = normalize_signs(s)
    assert verify(n).ring == "ZT" and canonical_key(n) == canonical_key(strassen)
    first = lambda row: next(x for x in row if x != 0)  # noqa: E731
    assert all(first(r) > 0 for r in n.W_a.tolist()) and all(first(r) > 0 for r in n.W_b.tolist())
