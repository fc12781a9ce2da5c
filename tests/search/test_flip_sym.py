"""Symmetric flip-graph search (issue 12 point 3): invariance, seeds, orbit flips, lifting."""

import re
import numpy as np
import pytest

from algodiscover.core.scheme import Scheme
from algodiscover.core.shape import Shape
from algodiscover.core.transform import cycle, transpose
from algodiscover.errors import ReplayError, ShapeError
from algodiscover.search import Budget, flip_sym as fs, gf2, run_search


@pytest.fixture(scope="module", autouse=True)
def _kernels_compiled():
    """Compile the walk kernels (search_symmetric warms them up) and the lift before any test starts a clock: a Budget(time_limit=...) counts
    from its creation, so a cold numba compile (about 30 s on an idle core, over 60 s on a loaded CI machine
    with two workers compiling) would otherwise eat the time a test gives the walk itself."""
    next(fs.search_symmetric((2, 2, 2), 7, seed=0, budget=Budget(time_limit=600), symmetry="c3"))


def _scheme_of(n, cols):
    a, b, c = gf2.bits_to_factors(Shape(n, n, n), cols, cols.shape[1])
    return Scheme((n, n, n), a, b, c.T.copy())


def test_group_generators_match_the_project_cycle_and_transposition():
    """g is algodiscover.core.transform.cycle, tau o rho is transpose followed by the reversal basis change."""
    n = 3
    grp = fs.Group("c3", n)
    F, r = gf2.strassen_block_bits(Shape(n, n, n))
    cols = F[:, :r]
    s = _scheme_of(n, cols)
    # element 1 of c3 is g (the BFS adds the generator first)
    g_cols = grp.apply(1, cols)
    assert _key(_scheme_of(n, g_cols)) == _key(cycle(s))
    s3 = fs.Group("s3", 2)
    F2, r2 = gf2.strassen_block_bits(Shape(2, 2, 2))
    s2 = _scheme_of(2, F2[:, :r2])
    t = transpose(s2)
    P = np.eye(2, dtype=np.int64)[::-1]
    # tau then the basis change X = Y = Z = P (P^-1 = P^T = P): every factor M -> P M P
    Wa = np.array([(P @ row.reshape(2, 2) @ P).reshape(-1) for row in t.W_a])
    Wb = np.array([(P @ row.reshape(2, 2) @ P).reshape(-1) for row in t.W_b])
    Wc = np.array([(P @ col.reshape(2, 2) @ P).reshape(-1) for col in t.W_c.T]).T
    expected = Scheme((2, 2, 2), Wa, Wb, Wc)
    images = [_key(_scheme_of(2, s3.apply(h, F2[:, :r2]))) for h in range(6)]
    assert _key(expected) in images


def _key(s):
    return sorted(tuple(list(s.W_a[t]) + list(s.W_b[t]) + list(s.W_c[:, t])) for t in range(s.rank))


@pytest.mark.parametrize("name,order", [("c3", 3), ("s3", 6), ("z6", 6)])
def test_every_group_element_maps_valid_schemes_to_valid_schemes(name, order):
    n = 4
    grp = fs.symmetry_group(name, n)
    assert grp.order == order
    F, r = gf2.strassen_block_bits(Shape(n, n, n))
    for h in range(order):
        assert gf2.is_valid_mod2(Shape(n, n, n), grp.apply(h, F[:, :r]), r)
    # the multiplication table is a group table: every row and column a permutation
    for h in range(order):
        assert sorted(grp.mul[h]) == list(range(order)) and sorted(grp.mul[:, h]) == list(range(order))


@pytest.mark.parametrize("name,n,rank", [("c3", 3, 32), ("c3", 5, 135), ("s3", 4, 74), ("z6", 5, 135), ("s3", 6, 231)])
def test_seed_from_diagonal_cubes_is_valid_and_invariant(name, n, rank):
    grp = fs.symmetry_group(name, n)
    fixed, orb = fs.symmetric_seed(n, grp)
    cols = np.concatenate([orb, fixed], axis=1)
    # rank of the seed: n^3 - n standard products + the cubes' off-diagonal terms + the cubes
    cubes = fs.default_cubes(n)
    assert cols.shape[1] == n**3 - n + sum(len(S) ** 3 - len(S) for S in cubes) + len(cubes) == rank
    assert gf2.is_valid_mod2(Shape(n, n, n), cols, cols.shape[1])
    assert fs.is_invariant(grp, fixed, orb, orb.shape[1] // grp.order)


@pytest.mark.parametrize("name,n", [("c3", 3), ("c3", 5), ("s3", 2), ("s3", 4), ("z6", 3)])
def test_every_orbit_flip_keeps_invariance_and_validity(name, n):
    """Walk in short chunks (flips, reductions, plus transitions) and check the invariant after each."""
    grp = fs.symmetry_group(name, n)
    G = grp.order
    fixed, orb = fs.symmetric_seed(n, grp)
    F = np.zeros((3, orb.shape[1] + 12 * G), dtype=np.uint64)
    F[:, :orb.shape[1]] = orb
    no = orb.shape[1] // G
    state = np.array([2024], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    for _ in range(40):
        no = fs.sym_walk(F, no, G, grp.mul, grp.slot, 0, 200, 20, no + 3, state, counters)
        cols = np.concatenate([F[:, :no * G], fixed], axis=1)
        assert fs.is_invariant(grp, fixed, F, no)
        assert gf2.is_valid_mod2(Shape(n, n, n), cols, cols.shape[1])
    assert counters[0] > 1000 and counters[2] > 0  # flips and plus transitions did happen


def test_c3_reaches_laderman_rank_23_over_z_with_symmetry():
    fs.search_symmetric.last = {"stale": True}
    it = fs.search_symmetric((3, 3, 3), 23, seed=0, budget=Budget(time_limit=60), symmetry="c3")
    out = next(it)
    it.close()  # the consumer stops at the first scheme: the run's figures are still kept
    assert "stale" not in fs.search_symmetric.last and fs.search_symmetric.last["best_rank"] <= 23
    assert fs.search_symmetric.last["flips"] > 0
    v = out.verify(symbolic=False)
    assert out.rank <= 23 and v.ok
    prov = out.provenance
    assert prov["engine"] == "flip" and prov["start"]["kind"] == "symmetric" and not prov["start"]["published"]
    assert prov["options"]["symmetry"] == "c3" and prov["options"]["field"] == 2
    assert prov["completed_by"] == ["flip", "lift"]
    if prov["invariant"]:
        assert fs.lifted_is_invariant(fs.Group("c3", 3), out.W_a, out.W_b, out.W_c)


def test_c3_reaches_strassen_rank_7_mod_2():
    out = next(fs.search_symmetric((2, 2, 2), 7, seed=3, budget=Budget(time_limit=30), symmetry="c3", ring="Z2"))
    assert out.rank == 7 and out.verify(symbolic=False).ring in ("ZT", "Z", "Z2")


def test_symmetric_lift_keeps_the_orbits():
    """A c3 scheme of <3,3,3> at rank 23, lifted through the orbit embedding, is invariant over Z."""
    grp = fs.Group("c3", 3)
    found = None
    for sch in fs.search_symmetric((3, 3, 3), 23, seed=1, budget=Budget(time_limit=60), symmetry="c3"):
        if sch.provenance["invariant"]:
            found = sch
            break
    assert found is not None and found.verify(symbolic=False).ok
    assert fs.lifted_is_invariant(grp, found.W_a, found.W_b, found.W_c)


def test_symmetric_search_refuses_what_it_cannot_do():
    with pytest.raises(ShapeError):
        next(fs.search_symmetric((2, 2, 3), 11, seed=0, symmetry="c3"))
    with pytest.raises(fs.SymmetryOptionError):
        next(fs.search_symmetric((3, 3, 3), 23, seed=0, symmetry="s3"))  # odd n
    with pytest.raises(fs.SymmetryOptionError):
        fs.parse_cubes("110,011", 3)  # index 1 twice
    assert fs.parse_cubes("10001,01010,00100", 5) == [(0, 4), (1, 3), (2,)]


def test_flip_search_dispatches_to_the_symmetric_walk():
    from algodiscover.search import run_search
    out = next(run_search("flip", (3, 3, 3), 23, seed=0, budget=Budget(time_limit=60), symmetry="c3"))
    assert out.provenance["strategy"] == "symmetric-c3"


def _chains(F, ncols, head, nxt, bits):
    """Per slot: the set of (bucket, column) pairs the index holds, checking every value hashes right."""
    out = []
    for s in range(3):
        seen = set()
        for b in range(head.shape[1]):
            k = head[s, b]
            while k >= 0:
                assert fs._bucket(F[s, k], bits) == b
                seen.add(k)
                k = nxt[s, k]
        out.append(seen)
    return out


@pytest.mark.parametrize("name,n", [("c3", 5), ("s3", 4)])
def test_the_index_equals_a_full_rebuild_after_many_random_steps(name, n):
    grp = fs.symmetry_group(name, n)
    G = grp.order
    fixed, orb = fs.symmetric_seed(n, grp)
    F = np.zeros((3, orb.shape[1] + 12 * G), dtype=np.uint64)
    F[:, :orb.shape[1]] = orb
    no = orb.shape[1] // G
    bits = fs.INDEX_BITS
    head, nxt, prv = fs.build_index(F, no * G, bits)
    state = np.array([7], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    for _ in range(20):
        no, head, nxt, prv = fs.walk_indexed(F, no, G, grp.mul, grp.slot, 0, 5000, 300, no + 2, state, counters,
                                             bits, head, nxt, prv)
        h2, n2, _p2 = fs.build_index(F, no * G, bits)
        assert _chains(F, no * G, head, nxt, bits) == _chains(F, no * G, h2, n2, bits) == [set(range(no * G))] * 3
        assert fs.is_invariant(grp, fixed, F, no)
    assert counters[0] > 10_000 and counters[1] > 0


# ---------------------------------------------------------------- CLI
def test_cli_symmetric_search_end_to_end(tmp_path):
    import json
    from tests.conftest import run_cli
    out = tmp_path / "s.json"
    r = run_cli("discover!", "--engine", "flip", "--shape", "3x3x3", "--rank", "23", "--symmetry", "c3",
                "--seed", "0", "--time-limit", "120", "--out", str(out), "--quiet", "--no-catalog")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["rank"] == 23 and data["ring"] in ("ZT", "Z", "Q")
    prov = data["provenance"]
    assert prov["options"]["symmetry"] == "c3" and prov["start"]["kind"] == "symmetric"


@pytest.mark.parametrize("args,needle", [
    (["--shape", "3x3x3", "--rank", "23", "--symmetry", "s3"], "even n"),
    (["--shape", "2x2x3", "--rank", "11", "--symmetry", "c3"], "square"),
    (["--shape", "4x5x4", "--rank", "60", "--init", "symmetric"], "without --symmetry walks c3); a shape <m,k,m> takes --symmetry t2"),
    (["--shape", "5x5x5", "--rank", "93", "--symmetry", "c3", "--cubes", "11000,00111,00001"], "cubes"),
])
def test_cli_symmetric_bad_input_is_one_line(args, needle):
    from tests.conftest import run_cli
    r = run_cli("discover!", "--engine", "flip", *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and needle in lines[0].lower()


@pytest.mark.parametrize("n", [3, 5])
def test_c3_value_kernel_keeps_invariance_and_validity(n):
    """The three-values-per-orbit kernel (cyclic convention inside) against the invariant and GF(2) validity."""
    grp = fs.Group("c3", n)
    fixed, orb = fs.symmetric_seed(n, grp)
    assert np.array_equal(fs.c3_expand(fs.c3_values(orb, n), orb.shape[1] // 3, n), orb)
    no = orb.shape[1] // 3
    V = np.zeros((3, no + 10), dtype=np.uint64)
    V[:, :no] = fs.c3_values(orb, n)
    state = np.array([3], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    for _ in range(30):
        no = fs.c3_walk(V, no, 0, 3000, 200, no + 2, state, counters, fs.INDEX_BITS)
        F = fs.c3_expand(V, no, n)
        cols = np.concatenate([F, fixed], axis=1)
        assert fs.is_invariant(grp, fixed, F, no)
        assert gf2.is_valid_mod2(Shape(n, n, n), cols, cols.shape[1])
    assert counters[0] > 10_000 and counters[1] > 0 and counters[2] > 0


def test_z6_reaches_strassen_rank_7_over_z():
    """The 6-way symmetry of Moosbauer & Poole (cyclic x reversal): cube(I) + one free orbit of 6 = 7."""
    out = next(fs.search_symmetric((2, 2, 2), 7, seed=0, budget=Budget(time_limit=60), symmetry="z6"))
    assert out.rank == 7 and out.verify(symbolic=True).ok


def test_s3_walk_descends_and_its_mod2_schemes_are_invariant():
    """s3 on <4,4,4>: below the seed's 74 (2 cubes + 12 orbits of 6); the scheme it reports is s3-invariant.

    (s3 does not reach <2,2,2>:7: the one s3-invariant rank-7 scheme, cube(I) plus one free orbit, lies
    outside the seed's component of the orbit-flip graph with at most 3 orbits.)"""
    out = next(fs.search_symmetric((4, 4, 4), 62, seed=1, budget=Budget(time_limit=60), symmetry="s3", ring="Z2"))
    assert out.rank <= 62 and out.verify(symbolic=False).ring in ("ZT", "Z", "Z2")
    assert fs.lifted_is_invariant(fs.Group("s3", 4), out.W_a, out.W_b, out.W_c)


def test_a_symmetric_result_replays_to_the_same_scheme():
    """Issue 10 point 17 for the symmetric walk: seed + options + restart index reproduce the scheme."""
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search.flip import replay
    s = next(iter(run_search("flip", "3x3x3", 23, seed=5, symmetry="c3", budget=Budget(time_limit=120))))
    assert s.provenance["strategy"] == "symmetric-c3" and s.provenance["restart"] is not None
    key = canonical_key(s)
    for again in replay(dict(s.provenance), shape=s.shape, rank=s.rank):
        assert again.verify(symbolic=False).ok
        if canonical_key(again) == key:
            break
    else:
        raise AssertionError("the replayed walk did not reach the recorded scheme")
    with pytest.raises(ReplayError, match="restart"):
        next(iter(replay({**s.provenance, "restart": None}, shape=s.shape, rank=s.rank)))


# ---------------------------------------------------------------- the c3 kernel, version 2 (c3_walk2)
def _c3_start(n, extra=10):
    grp = fs.Group("c3", n)
    fixed, orb = fs.symmetric_seed(n, grp)
    no = orb.shape[1] // 3
    V = np.zeros((3, no + extra), dtype=np.uint64)
    V[:, :no] = fs.c3_values(orb, n)
    return grp, fixed, V, no


def _valid_invariant(grp, fixed, V, no, n):
    F = fs.c3_expand(V, no, n)
    cols = np.concatenate([F, fixed], axis=1)
    return fs.is_invariant(grp, fixed, F, no) and gf2.is_valid_mod2(Shape(n, n, n), cols, cols.shape[1])


def test_c3_walk2_keeps_invariance_and_validity_after_every_step():
    """One draw per call (a flip with its reductions, or a plus transition) on <3,3,3>, then long chunks on
    <5,5,5>: the expanded scheme is c3-invariant and satisfies the Brent equations mod 2 after each call."""
    for walk, n, calls, iters in ((fs.c3_walk2, 3, 400, 1), (fs.c3_walk2, 5, 25, 4000), (fs.c3_walk3, 5, 25, 4000)):
        grp, fixed, V, no = _c3_start(n)
        state = np.array([3], dtype=np.uint64)
        counters = np.zeros(6, dtype=np.int64)
        for _ in range(calls):
            no = walk(V, no, 0, iters, 20, no + 2, state, counters)
            assert _valid_invariant(grp, fixed, V, no, n)
            assert not np.any(V[:, no:])  # nothing is left behind the live orbits
        assert counters[0] > 0 and counters[1] > 0 and counters[2] > 0  # flips, reductions and plus transitions
        assert counters[5] >= counters[0]


def _expected_pairs(V, no):
    """From V alone: value -> occurrence ids 3 * orbit + slot, and the occurrences whose value occurs twice."""
    values = {}
    for o in range(no):
        for q in range(3):
            values.setdefault(int(V[q, o]), set()).add(3 * o + q)
    return ({v: frozenset(s) for v, s in values.items()},
            frozenset(c for s in values.values() if len(s) >= 2 for c in s))


@pytest.mark.parametrize("plateau,law", [(10**9, 0), (300, 0), (10**9, 1)])
def test_c3_walk2_pair_lists_equal_a_full_rebuild_after_many_random_steps(plateau, law):
    """The structures kept across 40 calls (no rebuild in between; with plateau 300 plus transitions rebuild
    them inside) hold exactly the occurrences of every value of V, and mocc exactly those of values occurring
    at least twice (and the entry list exactly those values); law 1 is c3_walk3's draws."""
    n = 5
    grp, fixed, V, no = _c3_start(n)
    K, I, tb, nocc = fs.c3_pairs_alloc(V.shape[1])
    fs.c3_pairs_build(V, no, K, I, tb, nocc)
    pend = np.empty(64, dtype=np.int64)
    state = np.array([7], dtype=np.uint64)
    counters = np.zeros(6, dtype=np.int64)
    for _ in range(40):
        no = fs.c3_walk2_on(V, no, 0, 5000, plateau, no + 2, state, counters, K, I, tb, nocc, pend, law)
        got = fs.c3_pairs_sets(K, I, tb, nocc)
        values, mocc = _expected_pairs(V, no)
        assert got["values"] == values and got["mocc"] == mocc and got["table_ok"]
        assert got["multi"] == {v for v, occ in values.items() if len(occ) >= 2}
        assert fs.c3_pairs_check(V, no) == got
    assert _valid_invariant(grp, fixed, V, no, n)
    assert counters[0] >= 40 * 5000 * 0.9 and counters[1] > 0
    assert (counters[2] > 0) == (plateau < 10**9)


def test_c3_walk2_reaches_laderman_rank_23_over_z_and_records_its_kernel():
    for k in (2, 3):
        out = next(fs.search_symmetric((3, 3, 3), 23, seed=0, budget=Budget(time_limit=60), symmetry="c3", kernel=k))
        assert out.rank <= 23 and out.verify(symbolic=False).ok
        assert out.provenance["options"]["kernel"] == k
    new = next(fs.search_symmetric((3, 3, 3), 23, seed=0, budget=Budget(time_limit=60), symmetry="c3"))
    assert new.provenance["options"]["kernel"] == fs.DEFAULT_KERNEL


def test_a_provenance_without_kernel_replays_with_c3_walk():
    from algodiscover.search.flip import replay
    s = next(fs.search_symmetric((3, 3, 3), 23, seed=4, budget=Budget(time_limit=60), symmetry="c3", kernel=1))
    prov = dict(s.provenance)
    prov["options"] = {k: v for k, v in prov["options"].items() if k != "kernel"}  # as recorded before versions
    again = next(iter(replay(prov, shape=s.shape, rank=s.rank)))
    assert again.provenance["options"]["kernel"] == 1
    assert again.provenance["flips"] == s.provenance["flips"] and again.provenance["restart"] == s.provenance["restart"]


def test_kernel_option_is_checked():
    with pytest.raises(fs.SymmetryOptionError):
        next(fs.search_symmetric((3, 3, 3), 23, seed=0, symmetry="c3", kernel=4))
    with pytest.raises(fs.SymmetryOptionError):
        next(fs.search_symmetric((4, 4, 4), 62, seed=0, symmetry="s3", kernel=2))  # c3 only


@pytest.mark.slow
def test_results_5x5x5_r93_replays_bit_exact_with_c3_walk():
    """results/5x5x5-r93.json (recorded before kernel versions: c3_walk) replays to the same scheme after the
    same number of orbit flips (about 4 minutes on an idle core)."""
    import json
    from pathlib import Path
    from algodiscover.core.canonical import canonical_key
    from algodiscover.formats import load
    from algodiscover.search.flip import replay
    path = Path(__file__).resolve().parents[2] / "results" / "5x5x5-r93.json"
    prov = json.loads(path.read_text())["provenance"]
    assert "kernel" not in prov["options"]
    rec = load(path)
    for again in replay(prov, shape=(5, 5, 5), rank=93):
        if canonical_key(again) == canonical_key(rec):
            assert again.provenance["flips"] == prov["flips"] and again.provenance["restart"] == prov["restart"]
            break
    else:
        raise AssertionError("the replayed walk did not reach the recorded scheme")


def test_cli_missed_symmetric_target_reports_best_rank_and_levels(tmp_path):
    """Issue 12 point 7 for the symmetric walk: the final message of a missed target names the best rank
    mod 2 and the time to each level (they were missing: the delegated walk exposed no stats)."""
    from tests.conftest import run_cli_here
    r = run_cli_here("discover", "--engine", "flip", "--shape", "3x3x3", "--rank", "20", "--symmetry", "c3",
                     "--ring", "Z2", "--seed", "1", "--time-limit", "3", "--no-catalog")
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    m = re.search(r"best rank reached (\d+) mod 2(, best proven \d+ \(\w+\))?; time to each rank: (.*?); "
                  r"([\d.e+]+) flips/s", last)
    assert m, last
    assert int(m.group(1)) >= 23  # no scheme for <3,3,3> of rank below 23 is known
    assert f"{int(m.group(1))}: " in m.group(3)


@pytest.mark.parametrize("symmetry,workers", [("c3", "1"), pytest.param("t2", "2", marks=pytest.mark.slow)])
def test_a_missed_symmetric_target_writes_the_best_schemes(tmp_path, symmetry, workers):
    """Issue 12 point 7 for the symmetric walks (they wrote no file): with --out DIR/ a missed target writes the
    best proven scheme above it (lifted over Z, provenance target_rank / above_target) and the best mod-2
    scheme.  No scheme of <3,3,3> below rank 23 is known, so rank 20 is missed."""
    from algodiscover.formats import load
    from tests.conftest import run_cli_here
    r = run_cli_here("discover", "--engine", "flip", "--shape", "3x3x3", "--rank", "20", "--symmetry", symmetry,
                     "--seed", "1", "--workers", workers, "--time-limit", "2.5", "--no-catalog",
                     "--out", str(tmp_path) + "/")
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "best proven" in last and "written" in last, last
    above = load(tmp_path / "best-above-target.json")
    mod = load(tmp_path / "best-modular-z2.json")
    assert above.verify().ok and above.rank > 20 and mod.rank > 20
    assert mod.verify().ring in ("Z2", "ZT", "Z", "Q")
    for sch in (above, mod):
        assert sch.provenance["above_target"] is True and sch.provenance["target_rank"] == 20
        assert sch.provenance["options"]["symmetry"] == symmetry
    best = int(re.search(r"best rank reached (\d+) mod 2", last).group(1))
    assert mod.rank == best  # the modular file is the lowest level reached


def test_symmetric_checkpoint_survives_kill_9_and_resume_loses_nothing(tmp_path):
    """issue 12 point 6 for --symmetry: a c3 walk checkpointed every 0.2 s is killed with SIGKILL after it has
    proven schemes; --resume DIR (no --symmetry needed: the checkpoint says it) first yields every scheme it
    had proven, then walks on from the saved state (more orbit flips, best level kept)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import flip
    d = tmp_path / "ck"
    code = ("from algodiscover.search import Budget, flip_sym\n"
            f"for _ in flip_sym.search_symmetric((3, 3, 3), 23, seed=1, symmetry='c3', checkpoint={str(d)!r},"
            " checkpoint_every=0.2, budget=Budget(time_limit=120)): pass\n")
    p = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=os.getcwd()))
    wf = d / "walkers" / "walker-000.json"
    try:
        t = time.monotonic()
        while time.monotonic() - t < 100 and not (wf.exists() and json.loads(wf.read_text())["proven"] >= 2):
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert p.returncode == -signal.SIGKILL
    st = json.loads(wf.read_text())  # written whole, then renamed: readable after kill -9
    saved = {canonical_key(fs_load(f)) for f in (d / "schemes").glob("*.json")}
    assert st["proven"] >= 2 and len(saved) >= 2
    m = json.loads((d / "checkpoint.json").read_text())
    assert m["options"]["symmetry"] == "c3" and m["seed"] == 1
    it = flip.search((3, 3, 3), 23, budget=Budget(time_limit=3), resume=str(d))
    again = list(it)
    assert saved <= {canonical_key(x) for x in again}  # nothing found is lost
    assert all(x.verify(symbolic=False).ok and x.provenance["strategy"] == "symmetric-c3" for x in again)
    st2 = json.loads(wf.read_text())
    assert st2["counters"][0] > st["counters"][0] and st2["best"] <= st["best"] and st2["seconds"] > st["seconds"]
    grp = fs.Group("c3", 3)
    cols = flip._unhex_rows(st2["cols"])
    fixed, _ = fs.symmetric_seed(3, grp, fs.parse_cubes(m["options"]["cubes"], 3))
    assert fs.is_invariant(grp, fixed, cols, cols.shape[1] // grp.order)


def fs_load(f):
    from algodiscover.formats import load
    return load(f)


def test_symmetric_checkpoint_and_resume_refuse_mismatches(tmp_path):
    import json
    from algodiscover.search.flip import FlipOptionError
    d = tmp_path / "ck"
    d.mkdir()
    (d / "checkpoint.json").write_text(json.dumps({"format": "algodiscover.checkpoint/1", "engine": "flip",
                                                   "shape": [3, 3, 3], "rank": 23, "seed": 0,
                                                   "options": {"ring": "Z", "init": "standard"}}))
    with pytest.raises(fs.SymmetryOptionError, match="not a symmetric walk"):
        next(fs.search_symmetric((3, 3, 3), 23, symmetry="c3", resume=str(d)))
    with pytest.raises(FlipOptionError, match="not both"):
        next(fs.search_symmetric((3, 3, 3), 23, symmetry="c3", checkpoint=str(tmp_path / "a"),
                                 resume=str(tmp_path / "b")))


def test_resume_of_a_c3_checkpoint_with_another_symmetry_is_refused(tmp_path):
    from algodiscover.search import flip
    d = tmp_path / "ck"
    list(fs.search_symmetric((3, 3, 3), 23, seed=0, symmetry="c3", checkpoint=str(d), budget=Budget(time_limit=1)))
    with pytest.raises(flip.FlipOptionError, match="is a --symmetry c3 walk, not z6"):
        flip.search((3, 3, 3), 23, resume=str(d), symmetry="z6")


def test_parallel_walkers_each_walk_as_a_one_walker_run_with_their_seed():
    """--workers 2: two walker processes; walker w walks with walker_seed(seed, w) (walker 0 with the seed
    itself, so one walker is the walk it always was), its schemes say which walker and seed made them, and a
    scheme of walker 1 replays (a one-walker run with that seed) to the same scheme."""
    from algodiscover.core.canonical import canonical_key
    assert fs.walker_seed(5, 0) == 5 and fs.walker_seed(5, 1) != fs.walker_seed(5, 2) != 5
    by_walker = {}
    it = fs.search_symmetric((3, 3, 3), 23, seed=5, budget=Budget(time_limit=60), symmetry="c3", ring="Z2",
                             workers=2)
    for sch in it:
        p = sch.provenance
        assert p["options"]["workers"] == 2 and p["seed"] == 5
        assert p["worker_seed"] == fs.walker_seed(5, p["walker"])
        assert sch.verify(symbolic=False).ring in ("ZT", "Z", "Z2")
        by_walker.setdefault(p["walker"], sch)
        if len(by_walker) == 2:
            break
    it.close()
    assert set(by_walker) == {0, 1}
    assert fs.search_symmetric.last["walkers"] == 2 and fs.search_symmetric.last["best_rank"] <= 23
    one = by_walker[1]
    assert any(canonical_key(x) == canonical_key(one)  # stops at the scheme (the walk would go on to its restart's end)
               for x in fs.replay_symmetric(one.provenance, shape=(3, 3, 3), rank=23))


@pytest.mark.slow
def test_parallel_checkpoint_survives_kill_9_of_the_run_and_resumes_every_walker(tmp_path):
    """Two walkers checkpointed every 0.2 s; the run (parent) is killed with SIGKILL once schemes are kept: its
    walkers die with it, every walker file is readable, and --resume continues both walkers (more flips each)
    after yielding every kept scheme."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import flip
    d = tmp_path / "ck"
    code = ("from algodiscover.search import Budget, flip_sym\n"
            f"for _ in flip_sym.search_symmetric((3, 3, 3), 23, seed=2, symmetry='c3', ring='Z2', workers=2,"
            f" checkpoint={str(d)!r}, checkpoint_every=0.2, budget=Budget(time_limit=120)): pass\n")
    p = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=os.getcwd()))
    wfs = [d / "walkers" / f"walker-{w:03d}.json" for w in (0, 1)]
    try:
        t = time.monotonic()
        while time.monotonic() - t < 100 and not (all(f.exists() for f in wfs)
                                                  and len(list((d / "schemes").glob("*.json"))) >= 2):
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    sts = [json.loads(f.read_text()) for f in wfs]
    assert [st["walker"] for st in sts] == [0, 1] and sts[1]["worker_seed"] == fs.walker_seed(2, 1)
    m = json.loads((d / "checkpoint.json").read_text())
    assert m["flip"]["walkers"] == 2 and m["options"]["workers"] == 2
    saved = {canonical_key(fs_load(f)) for f in (d / "schemes").glob("*.json")}
    assert len(saved) >= 2
    time.sleep(1.5)  # the walkers end within about a second of their parent (search._workers)
    again = list(flip.search((3, 3, 3), 23, budget=Budget(time_limit=3), resume=str(d)))
    assert saved <= {canonical_key(x) for x in again}  # nothing found is lost
    sts2 = [json.loads(f.read_text()) for f in wfs]
    for a, b in zip(sts, sts2):
        assert b["counters"][0] > a["counters"][0] and b["seconds"] > a["seconds"] and b["best"] <= a["best"]


@pytest.mark.slow
def test_a_killed_walker_is_one_internal_error_and_its_schemes_stay(tmp_path):
    """A walker process killed by a signal ends the run with InternalError naming it (the CLI prints it as one
    line); what was proven before is kept in DIR/schemes/."""
    import multiprocessing as mp
    import os
    import signal
    from algodiscover.errors import InternalError
    d = tmp_path / "ck"
    it = fs.search_symmetric((3, 3, 3), 23, seed=4, budget=Budget(time_limit=60), symmetry="c3", ring="Z2",
                             workers=2, checkpoint=str(d))
    first = next(it)
    assert first.rank <= 23
    kids = mp.active_children()
    assert len(kids) == 2
    os.kill(kids[-1].pid, signal.SIGKILL)
    with pytest.raises(InternalError, match="killed by signal SIGKILL"):
        for _ in it:
            pass
    assert len(list((d / "schemes").glob("*.json"))) >= 1
    assert not mp.active_children()
