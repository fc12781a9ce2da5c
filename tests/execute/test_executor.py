"""The executor contract of issue 13, clause by clause (small sizes, explicit levels and cutoff)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.core.compose import tensor_product
from algodiscover.errors import SchemeError
from algodiscover.execute import compile as xcompile
from algodiscover.symmetry import permute_and_scale

SIZES = [(8, 8, 8), (7, 9, 11), (33, 17, 20), (64, 48, 80), (1, 5, 3)]


def rel_err(C, ref):
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.abs(np.asarray(C, dtype=np.float64) - ref).max() / np.abs(ref).max())


def q_scheme(s: Scheme) -> Scheme:
    """Strassen with product 1 scaled by 2 (a) and 1/2 (b... c gets 1/2): needs Q, still correct."""
    return permute_and_scale(s, range(s.rank), [Fraction(2)] + [1] * (s.rank - 1), [1] * s.rank)


# (backend, mode, fringe, levels of Strassen, levels of Laderman, sizes): every path, kept small in time
CASES = [("numpy", "program", "peel", 3, 2, SIZES), ("numpy", "program", "pad", 3, 2, SIZES),
         ("numpy", "fused", "peel", 2, 1, SIZES[1:3]), ("numpy", "fused", "pad", 2, 1, SIZES[1:3]),
         ("torch", None, "peel", 2, 1, SIZES[1:3]), ("torch", None, "pad", 2, 1, SIZES[1:2])]


@pytest.mark.parametrize("backend,mode,fringe,ls,ll,sizes", CASES)
def test_float64_and_float32_match_matmul(strassen, laderman, backend, mode, fringe, ls, ll, sizes):
    rng = np.random.default_rng(1)
    for s, levels in ((strassen, ls), (laderman, ll)):
        f = s.compile(backend=backend, levels=levels, cutoff=1, fringe=fringe, mode=mode)
        for p, q, r in sizes:
            A, B = rng.random((p, q)), rng.random((q, r))
            C = f(A, B)
            assert C.shape == (p, r) and C.dtype == np.float64
            assert rel_err(C, A @ B) < 1e-10
            A32, B32 = A.astype(np.float32), B.astype(np.float32)
            C32 = f(A32, B32)
            assert C32.dtype == np.float32
            assert rel_err(C32, A @ B) < 1e-3


def test_torch_mode_is_rejected_for_fused(strassen):
    with pytest.raises(SchemeError):
        strassen.compile(backend="torch", mode="fused")


def test_a_wrong_result_would_fail(strassen):
    """The tolerance test can fail: a scheme with one wrong sign is refused, and a perturbed C is caught."""
    rng = np.random.default_rng(0)
    A, B = rng.random((16, 16)), rng.random((16, 16))
    C = strassen.compile(levels=2, cutoff=1)(A, B)
    C[3, 4] += 1e-6 * np.abs(A @ B).max()
    assert rel_err(C, A @ B) > 1e-10


def test_torch_tensors_in_torch_tensor_out(strassen):
    import torch
    f = strassen.compile(backend="torch", levels=2, cutoff=1)
    A, B = torch.rand(20, 12, dtype=torch.float64), torch.rand(12, 30, dtype=torch.float64)
    C = f(A, B)
    assert isinstance(C, torch.Tensor) and rel_err(C.numpy(), (A @ B).numpy()) < 1e-10
    fb = strassen.compile(backend="torch", levels=2, cutoff=1, batched=True)
    assert rel_err(fb(A, B).numpy(), (A @ B).numpy()) < 1e-10


def test_per_level_schemes(strassen, laderman):
    """compile([s1, s2]): <2,2,2> at level 0 and <3,3,3> at level 1 — 6x6 blocks of sizes 12 = 2*3*2."""
    f = xcompile([strassen, laderman], levels=None, cutoff=1)
    rng = np.random.default_rng(2)
    A, B = rng.random((12, 18)), rng.random((18, 24))
    assert rel_err(f(A, B), A @ B) < 1e-10
    assert f.settings(np.dtype("float64"))[0] == 2


def test_flat_tensor_product_scheme(winograd):
    f = tensor_product(winograd, winograd).compile(levels=1, cutoff=1)
    rng = np.random.default_rng(3)
    A, B = rng.random((35, 33)), rng.random((33, 40))
    assert rel_err(f(A, B), A @ B) < 1e-10


@pytest.mark.parametrize("backend,dtype", [("numpy", np.int64), ("numpy", np.int32), ("numpy", np.int8),
                                           ("numpy", np.uint8), ("numpy", np.uint16), ("torch", np.int64),
                                           ("torch", np.int32), ("torch", np.uint8)])
def test_integer_dtypes_exactly_like_numpy(strassen, laderman, dtype, backend):
    rng = np.random.default_rng(4)
    info = np.iinfo(dtype)
    for s in (strassen, laderman):
        f = s.compile(backend=backend, levels=2, cutoff=1)
        A = rng.integers(info.min, info.max, (18, 19), dtype=dtype, endpoint=True)
        B = rng.integers(info.min, info.max, (19, 21), dtype=dtype, endpoint=True)
        C = f(A, B)
        ref = A @ B
        assert C.dtype == ref.dtype
        assert np.array_equal(C, ref)  # wrap-around included: Z schemes are exact mod 2^bits


def test_int64_wraparound_really_happens(strassen):
    """The data overflow int64, so agreeing with numpy means agreeing mod 2^64 (not just small values)."""
    A = np.full((4, 4), 2**62, dtype=np.int64)
    B = np.full((4, 4), 3, dtype=np.int64)
    exact = 4 * 2**62 * 3
    ref = A @ B
    assert int(ref[0, 0]) != exact and int(ref[0, 0]) == (exact + 2**63) % 2**64 - 2**63
    assert np.array_equal(strassen.compile(levels=2, cutoff=1)(A, B), ref)


def test_mixed_int_dtypes_follow_result_type(strassen):
    A = np.arange(16, dtype=np.int8).reshape(4, 4)
    B = np.arange(16, dtype=np.int16).reshape(4, 4)
    C = strassen.compile(levels=1, cutoff=1)(A, B)
    assert C.dtype == (A @ B).dtype and np.array_equal(C, A @ B)


def test_q_scheme_floats_ok_integers_refused_at_call(strassen):
    q = q_scheme(strassen)
    assert q.verify().ring == "Q"
    f = q.compile(levels=2, cutoff=1)  # compiles
    rng = np.random.default_rng(5)
    A, B = rng.random((8, 8)), rng.random((8, 8))
    assert rel_err(f(A, B), A @ B) < 1e-10
    with pytest.raises(SchemeError, match="Q"):
        f(np.ones((8, 8), dtype=np.int64), np.ones((8, 8), dtype=np.int64))


def test_z2_only_and_invalid_refused_at_compile(strassen):
    # every -1 of Strassen replaced by +1: correct modulo 2 only
    z2 = Scheme((2, 2, 2), np.abs(strassen.W_a), np.abs(strassen.W_b), np.abs(strassen.W_c))
    assert z2.verify().ring == "Z2"
    with pytest.raises(SchemeError, match="Z2"):
        z2.compile()
    Wc = strassen.W_c.copy()
    Wc[0, 0] = 2
    bad = Scheme((2, 2, 2), strassen.W_a, strassen.W_b, Wc)
    assert bad.verify().ring == "invalid"
    with pytest.raises(SchemeError, match="invalid"):
        xcompile(bad, backend="torch")
    with pytest.raises(SchemeError):
        xcompile([strassen, bad])


def test_bad_arguments(strassen):
    with pytest.raises(SchemeError):
        strassen.compile(backend="jax")
    with pytest.raises(SchemeError):
        strassen.compile(levels=-1)
    with pytest.raises(SchemeError):
        strassen.compile(cutoff=0)
    f = strassen.compile(levels=1, cutoff=1)
    with pytest.raises(SchemeError, match="cannot multiply"):
        f(np.ones((3, 4)), np.ones((5, 3)))
    with pytest.raises(SchemeError):
        f(np.ones((3, 4), dtype=bool), np.ones((4, 3), dtype=bool))


def test_workspaces_allocated_once_per_shape(strassen):
    f = strassen.compile(levels=2, cutoff=1)
    rng = np.random.default_rng(6)
    A, B = rng.random((32, 32)), rng.random((32, 32))
    f(A, B)
    ws = {k: [id(x) for x in v if isinstance(x, np.ndarray)] for k, v in f._ws.items()}
    assert ws
    f(A * 2, B)
    assert {k: [id(x) for x in v if isinstance(x, np.ndarray)] for k, v in f._ws.items()} == ws
    f(rng.random((20, 20)), rng.random((20, 20)))
    assert len(f._ws) > len(ws)


def test_default_levels_follow_cutoff(strassen, monkeypatch, tmp_path):
    from algodiscover.execute import DEFAULT_CUTOFF
    monkeypatch.setenv("ALGODISCOVER_CACHE", str(tmp_path))
    f = strassen.compile()
    assert f.settings(np.dtype("float64"))[1] == DEFAULT_CUTOFF
    # with the default cutoff a small product is one BLAS call: nothing recursed, no workspace
    A = np.ones((100, 100))
    assert np.array_equal(f(A, A), A @ A) and not f._ws


def test_apply_stays_the_reference(strassen):
    rng = np.random.default_rng(7)
    A, B = rng.integers(-9, 9, (10, 10)), rng.integers(-9, 9, (10, 10))
    assert np.array_equal(strassen.apply(A, B), strassen.compile(levels=3, cutoff=1)(A, B))
