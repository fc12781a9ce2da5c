"""The indexed flip kernel: the maintained index equals a rebuild, every move keeps the scheme valid."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algodiscover import Scheme
from algodiscover.core.shape import Shape
from algodiscover.search import flipkernel as fk
from algodiscover.search import gf2
from tests.conftest import LADERMAN


def _rebuilt(F, r):
    ix = fk.make_index(F.shape[1])
    G = F.copy()
    fk.build_index(ix, G, r)
    return fk.index_groups(ix, G, r)


@pytest.mark.parametrize("version", fk.VERSIONS)
@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 3, 3), (4, 4, 4), (2, 4, 5), (5, 5, 5)])
def test_index_equals_a_full_rebuild_after_many_random_steps(shape, version):
    s = Shape(*shape)
    F, r = gf2.standard_bits(s, cap=s.naive_rank + 16)
    ix = fk.make_index(F.shape[1])
    state = np.array([2024 + sum(shape)], dtype=np.uint64)
    c = fk.new_counters()
    r = fk.reduce_all(ix, F, r, c)
    for step in range(200):
        # the index is carried over from call to call: never rebuilt inside this loop
        r = fk.walk_ix(ix, F, r, 0, 997, 50, r + 2, state, c, version)
        assert fk.check_index(ix, F, r) == 0
        if step % 20 == 0:
            assert fk.index_groups(ix, F, r) == _rebuilt(F, r)
            assert gf2.is_valid_mod2(s, F, r)
            assert not fk.has_reducible_pair(F, r)
    assert c[fk.FLIPS] > 100_000 and c[fk.PLUS] > 0
    assert gf2.is_valid_mod2(s, F, r) and fk.index_groups(ix, F, r) == _rebuilt(F, r)
    # the rank changed exactly by the moves counted: plus transitions up, reductions down
    assert r == s.naive_rank + c[fk.PLUS] - c[fk.REMOVED]


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(1, 2**62), iters=st.integers(1, 5000), plateau=st.integers(1, 300),
       slack=st.integers(0, 4), version=st.sampled_from(fk.VERSIONS))
def test_random_walks_keep_validity_and_the_index(shape, seed, iters, plateau, slack, version):
    s = Shape(*shape)
    F, r0 = gf2.standard_bits(s, cap=s.naive_rank + 8)
    ix = fk.make_index(F.shape[1])
    state = np.array([seed], dtype=np.uint64)
    c = fk.new_counters()
    r = fk.walk(ix, F, r0, 0, iters, plateau, r0 + slack, state, c, version)
    assert 1 <= r <= r0 + slack
    assert gf2.is_valid_mod2(s, F, r)
    assert fk.check_index(ix, F, r) == 0 and not fk.has_reducible_pair(F, r)
    assert r == r0 + c[fk.PLUS] - c[fk.REMOVED]


def test_walk_reduces_a_scheme_with_reducible_pairs_and_zero_factors():
    s = Shape(2, 2, 2)
    F, r = gf2.standard_bits(s, cap=16)
    d = np.uint64(1 << 3) if F[2, 0] != np.uint64(1 << 3) else np.uint64(1 << 2)
    F[:, r] = F[:, 0]   # split product 0 into two sharing A and B: reducible
    F[2, r] = d
    F[2, 0] ^= d
    F[:, r + 1] = (0, 5, 3)  # a zero factor
    r += 2
    ix = fk.make_index(16)
    r2 = fk.reduce_all(ix, F, r)
    assert r2 == 8 and gf2.is_valid_mod2(s, F, r2) and fk.check_index(ix, F, r2) == 0


def test_the_same_seed_gives_the_same_walk():
    s = Shape(3, 3, 3)
    out = []
    for _ in range(2):
        F, r = gf2.scheme_to_bits(Scheme((3, 3, 3), **LADERMAN), cap=40)
        ix = fk.make_index(40)
        state = np.array([99], dtype=np.uint64)
        c = fk.new_counters()
        r = fk.walk(ix, F, r, 0, 20_000, 100, r + 2, state, c)
        out.append((r, F[:, :r].copy(), c.copy(), state.copy()))
    assert out[0][0] == out[1][0] and np.array_equal(out[0][1], out[1][1]) and np.array_equal(out[0][2], out[1][2])
    assert gf2.is_valid_mod2(s, out[0][1], out[0][0])


def test_every_attempt_is_a_flip_when_pairs_exist():
    # the index finds a partner at once: from the standard algorithm (every factor is shared) no attempt fails
    s = Shape(4, 4, 4)
    F, r = gf2.standard_bits(s, cap=80)
    ix = fk.make_index(80)
    c = fk.new_counters()
    fk.walk(ix, F, r, 0, 50_000, 10**9, r, np.array([5], dtype=np.uint64), c)
    assert c[fk.ATTEMPTS] == 50_000 and c[fk.FLIPS] == 50_000 - c[fk.NOFLIP]


@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 3, 3), (4, 4, 4)])
def test_version_2_every_attempt_is_a_flip_or_a_plus_transition(shape):
    # <2,2,2> and <4,4,4> walks reach schemes where no two products share a factor; version 1 spends
    # attempts there (NOFLIP), version 2 makes a plus transition at once
    s = Shape(*shape)
    F, r = gf2.standard_bits(s, cap=s.naive_rank + 8)
    ix = fk.make_index(F.shape[1])
    state = np.array([77], dtype=np.uint64)
    c = fk.new_counters()
    best = r
    for _ in range(40):
        r = fk.walk(ix, F, r, best - 1, 20_000, 1000, best + 1, state, c, 2)
        best = min(best, r)
        assert gf2.is_valid_mod2(s, F, r) and fk.check_index(ix, F, r) == 0
    assert c[fk.ATTEMPTS] == c[fk.FLIPS] + c[fk.PLUS] + c[fk.NOFLIP]
    assert c[fk.PLUS] > 0


def test_unknown_kernel_version_is_refused():
    F, r = gf2.standard_bits(Shape(2, 2, 2), cap=12)
    with pytest.raises(ValueError, match="version"):
        fk.walk(fk.make_index(12), F, r, 0, 10, 5, r, np.array([1], dtype=np.uint64), fk.new_counters(), 5)
