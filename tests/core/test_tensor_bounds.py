import numpy as np
import pytest

from algodiscover import lower_bound, matmul_tensor
from algodiscover.core.bounds import best_known_rank, facts


@pytest.mark.parametrize("shape", [(2, 2, 2), (2, 3, 4), (3, 1, 2)])
def test_tensor_is_the_product(shape):
    m, k, n = shape
    T = matmul_tensor(shape)
    assert T.shape == (m * k, k * n, m * n)
    assert T.sum() == m * k * n
    rng = np.random.default_rng(0)
    A = rng.integers(-5, 5, (m, k))
    B = rng.integers(-5, 5, (k, n))
    C = np.einsum("xyz,x,y->z", T, A.ravel(), B.ravel()).reshape(m, n)
    assert np.array_equal(C, A @ B)
    assert not T.flags.writeable


def test_literature_bounds():
    # Hopcroft-Kerr / Winograd: rank(<2,2,2>) = 7; Blaser 2003: rank(<3,3,3>) >= 19
    assert lower_bound("2x2x2") == 7
    assert lower_bound("3x3x3") == 19
    # the rank is invariant under permutations of the shape
    assert lower_bound("3x2x2") == lower_bound("2x2x3") == lower_bound("2x3x2") == 11
    assert best_known_rank("3x3x3") == 23
    assert best_known_rank("4x4x4", "integer") == 49
    assert facts("4x4x4").best_rank_mod2 == 47


def test_flattening_bound_for_untabulated_shapes():
    # every flattening of the matmul tensor has full rank: rank >= max(mk, kn, mn)
    assert facts("1x7x9") is None
    assert lower_bound("1x7x9") == 63
    assert lower_bound("7x7x7") >= 49
