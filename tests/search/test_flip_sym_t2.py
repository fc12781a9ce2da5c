"""The t2 symmetric walk: schemes of <m,k,m> invariant under the twisted transposition
(A, B, C) -> (B^T Q, Q A^T, C^T), Q the k x k reversal (issue 12, the route its notes named for <4,4,5>)."""

import json

import numpy as np
import pytest

from algodiscover.core.scheme import Scheme
from algodiscover.core.shape import Shape
from algodiscover.errors import ShapeError
from algodiscover.search import Budget, flip_sym as fs, gf2
from algodiscover.search.lift import pack_bits_rows


@pytest.fixture(scope="module", autouse=True)
def _kernels_compiled():
    """Compile the kernels and the lift before a test starts a clock (see test_flip_sym)."""
    next(fs.search_symmetric((2, 2, 2), 7, seed=0, budget=Budget(time_limit=600), symmetry="c3"))


def _image(shape, Wa, Wb, Wc):
    """The twisted transposition of an exact scheme, computed with matrices (independently of Group):
    product t (A_t, B_t, C_t) -> (B_t^T Q, Q A_t^T, C_t^T) with C indexed like the result."""
    m, k, n = shape
    Q = np.eye(k, dtype=np.int64)[::-1]
    A = [np.asarray(Wa[t], dtype=np.int64).reshape(m, k) for t in range(len(Wa))]
    B = [np.asarray(Wb[t], dtype=np.int64).reshape(k, n) for t in range(len(Wb))]
    C = [np.asarray(Wc[:, t], dtype=np.int64).reshape(m, n) for t in range(Wc.shape[1])]
    ia = np.array([(B[t].T @ Q).reshape(-1) for t in range(len(A))])
    ib = np.array([(Q @ A[t].T).reshape(-1) for t in range(len(A))])
    ic = np.array([C[t].T.reshape(-1) for t in range(len(A))]).T
    return ia, ib, ic


def _products(Wa, Wb, Wc):
    return sorted(tuple(int(x) for x in (*Wa[t], *Wb[t], *Wc[:, t])) for t in range(len(Wa)))


def test_t2_is_a_symmetry_of_the_tensor_and_group_applies_it():
    """The matrix map sends the standard algorithm to itself and a Strassen-block scheme to a valid scheme,
    and Group('t2').apply_int is that map."""
    shape = (4, 2, 4)
    grp = fs.symmetry_group("t2", shape)
    assert grp.order == 2 and sorted(grp.mul[1]) == [0, 1] and grp.mul[1, 1] == 0
    std = Scheme.standard(shape)
    ia, ib, ic = _image(shape, std.W_a, std.W_b, std.W_c)
    assert _products(ia, ib, ic) == _products(std.W_a, std.W_b, std.W_c)
    F, r = gf2.strassen_block_bits(Shape(*shape))
    a, b, c = gf2.bits_to_factors(Shape(*shape), F, r)
    ia, ib, ic = _image(shape, a, b, c.T)
    packed = np.stack([pack_bits_rows((x % 2).astype(np.uint8))[:, 0] for x in (ia, ib, ic.T)])
    assert gf2.is_valid_mod2(Shape(*shape), packed, r)
    ga, gb, gc = grp.apply_int(1, a, b, c)
    assert _products(ga, gb, gc.T) == _products(ia, ib, ic)
    assert gf2.is_valid_mod2(Shape(*shape), grp.apply(1, F[:, :r]), r)


@pytest.mark.parametrize("shape,fixed", [((4, 5, 4), 4), ((2, 4, 2), 0), ((3, 3, 3), 3)])
def test_t2_seed_is_the_standard_algorithm_in_orbits(shape, fixed):
    grp = fs.symmetry_group("t2", shape)
    F, orb = fs.transposition_seed(grp)
    m, k, n = shape
    # fixed: e_ij (x) e_ji (x) e_ii with j the middle index (odd k only), one per i
    assert F.shape[1] == fixed and orb.shape[1] == m * k * n - fixed
    cols = np.concatenate([orb, F], axis=1)
    assert gf2.is_valid_mod2(Shape(*shape), cols, cols.shape[1])
    assert fs.is_invariant(grp, F, orb, orb.shape[1] // 2)


@pytest.mark.parametrize("shape", [(3, 4, 3), (4, 5, 4)])
def test_t2_orbit_flips_keep_invariance_and_validity(shape):
    grp = fs.symmetry_group("t2", shape)
    fixed, orb = fs.transposition_seed(grp)
    F = np.zeros((3, orb.shape[1] + 12 * 2), dtype=np.uint64)
    F[:, :orb.shape[1]] = orb
    no = orb.shape[1] // 2
    state = np.array([77], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    for _ in range(40):
        no = fs.sym_walk_ix(F, no, 2, grp.mul, grp.slot, 0, 300, 20, no + 3, state, counters, fs.INDEX_BITS)
        cols = np.concatenate([F[:, :no * 2], fixed], axis=1)
        assert fs.is_invariant(grp, fixed, F, no)
        assert gf2.is_valid_mod2(Shape(*shape), cols, cols.shape[1])
    assert counters[0] > 1000 and counters[1] > 0  # flips and reductions did happen


def test_t2_reaches_2x4x2_rank_14_over_z_invariant_and_replays():
    """<2,4,2> has rank 14 (Hopcroft-Kerr; best known in ../shared/best_known_ranks.csv as <2,2,4>)."""
    shape = (2, 4, 2)
    sch = next(fs.search_symmetric(shape, 14, seed=1, budget=Budget(time_limit=120), symmetry="t2", workers=1))
    assert sch.rank == 14 and sch.verify(symbolic=False).ok
    prov = sch.provenance
    assert prov["options"]["symmetry"] == "t2" and prov["start"]["kind"] == "symmetric"
    assert "transposition" in json.dumps(prov["start"])
    if prov["invariant"]:  # the orbit-preserving lift held: the exact scheme is its own image
        ia, ib, ic = _image(shape, sch.W_a, sch.W_b, sch.W_c)
        assert _products(ia, ib, ic) == _products(sch.W_a, sch.W_b, sch.W_c)
        assert fs.lifted_is_invariant(fs.symmetry_group("t2", shape), sch.W_a, sch.W_b, sch.W_c)
    again = next(fs.replay_symmetric(prov, shape, 14))
    assert _products(again.W_a, again.W_b, again.W_c) == _products(sch.W_a, sch.W_b, sch.W_c)


def test_t2_refuses_what_it_cannot_do():
    with pytest.raises(ShapeError, match="<m,k,m>"):
        next(fs.search_symmetric((2, 3, 4), 20, seed=0, symmetry="t2"))
    with pytest.raises(fs.SymmetryOptionError, match="cubes"):
        next(fs.search_symmetric((3, 3, 3), 23, seed=0, symmetry="t2", cubes="100,010,001"))
    with pytest.raises(fs.SymmetryOptionError, match="standard"):
        next(fs.search_symmetric((3, 3, 3), 23, seed=0, symmetry="t2", init="strassen"))


def test_cli_t2_end_to_end_and_bad_shape_is_one_line(tmp_path):
    from tests.conftest import run_cli
    out = tmp_path / "s.json"
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x4x2", "--rank", "14", "--symmetry", "t2",
                "--seed", "1", "--workers", "1", "--time-limit", "120", "--out", str(out), "--quiet", "--no-catalog")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["rank"] == 14 and data["ring"] in ("ZT", "Z", "Q")
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x3x4", "--rank", "20", "--symmetry", "t2")
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and "<m,k,m>" in lines[0]
