"""The indexed GF(3) kernel (``--field 3 --kernel 2``, algodiscover.search.gf3kernel)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from algodiscover.core.shape import Shape
from algodiscover.core.tensor import matmul_tensor
from algodiscover.search import Budget, flipkernel as fk, gf3, gf3kernel as gk

pytestmark = pytest.mark.usefixtures('gf3_kernels')  # compile before any clock starts (tests/conftest.py)


def _tensor_mod3(shape, P, Q, r):
    """sum_t a_t (x) b_t (x) c_t mod 3, from the planes (entries -1, 0, 1)."""
    s = shape
    a = gf3.from_planes(P[0, :r], Q[0, :r], s.m * s.k)
    b = gf3.from_planes(P[1, :r], Q[1, :r], s.k * s.n)
    c = gf3.from_planes(P[2, :r], Q[2, :r], s.m * s.n)
    return np.einsum("ta,tb,tc->abc", a, b, c) % 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=3 * 10, max_size=3 * 10), min_size=1, max_size=6))
def test_packed_round_trip_keeps_every_product(rows):
    """Planes -> (canonical factors, scalars) -> planes leaves the sum of the products unchanged mod 3 (products
    with a zero factor are dropped: they contribute nothing), and every stored factor starts with a 1."""
    shape = Shape(2, 5, 2)  # factors of 10, 10 and 4 entries
    r = len(rows)
    M = np.array(rows, dtype=np.int64)
    P = np.zeros((3, 8), dtype=np.uint64)
    Q = np.zeros_like(P)
    for slot, (lo, w) in enumerate(((0, 10), (10, 10), (20, 4))):
        P[slot, :r], Q[slot, :r] = gf3.to_planes(M[:, lo:lo + w])
    F, sg, r2 = gk.to_packed(P, Q, r)
    P2, Q2 = gk.to_planes(F, sg, r2)
    assert np.array_equal(_tensor_mod3(shape, P, Q, r), _tensor_mod3(shape, P2, Q2, r2))
    for s in range(3):
        for t in range(r2):
            v = int(F[s, t])
            p, q = v & 0xFFFFFFFF, v >> 32
            assert v and (p & -p) < ((q & -q) or (1 << 40))  # the lowest nonzero entry is a 1 (in p)


@pytest.mark.parametrize("shape", [(2, 2, 2), (2, 3, 3), (3, 3, 3), (2, 4, 5)])
def test_index_equals_a_rebuild_and_the_scheme_stays_valid(shape):
    """After each of many short walks (flips, reductions, plus transitions): the maintained index equals one
    built from scratch, the scheme is still a matrix-multiplication scheme mod 3, and no two products agree (up
    to sign) in two factors (every reduction was made)."""
    s = Shape(*shape)
    cap = s.m * s.k * s.n + 40
    P, Q, r = gf3.standard_planes(s, cap)
    w = gk.Walker(cap)
    counters = np.zeros(5, dtype=np.int64)
    w.load(P, Q, r, counters)
    state = np.array([12345], dtype=np.uint64)
    T = matmul_tensor(s) % 3
    for _ in range(300):
        w.walk(0, 97, 200, s.m * s.k * s.n + 2, state, counters)
        assert gk.check(w) == 0
        rebuilt = fk.make_index(cap)
        fk.build_index(rebuilt, w.F.copy(), w.r)
        assert fk.index_groups(w.ix, w.F, w.r) == fk.index_groups(rebuilt, w.F, w.r)
        P2, Q2 = np.zeros((3, cap), np.uint64), np.zeros((3, cap), np.uint64)
        w.planes(P2, Q2)
        assert np.array_equal(_tensor_mod3(s, P2, Q2, w.r), T)
        assert not fk.has_reducible_pair(w.F, w.r)
    assert counters[0] > 20_000 and counters[1] > 0 and counters[2] > 0  # flips, reductions, plus transitions


def test_every_attempt_is_a_flip_where_the_scan_walk_mostly_fails():
    """The reason for the index: from the standard algorithm of <2,4,5> the scan walk spends most attempts on
    (product, slot) draws nobody shares; the indexed walk flips at every attempt (no plateau, no weight rules)."""
    s = Shape(2, 4, 5)
    out = {}
    for name, fn in (("scan", gf3.walk3), ("index", gk.walk3ix)):
        P, Q, r = gf3.standard_planes(s, 80)
        counters = np.zeros(5, dtype=np.int64)
        fn(P, Q, r, 0, 100_000, 10**12, r, np.array([7], dtype=np.uint64), counters, 0, 0.0)
        out[name] = int(counters[0])
    assert out["index"] == 100_000
    assert out["scan"] < out["index"] // 2


def test_max_weight_one_refuses_every_flip_and_still_reaches_the_plateau():
    """As with kernel 1, max_weight 1 refuses every flip of the standard algorithm; here refusals count toward
    the plateau, so the walk makes its plus transitions instead of standing still."""
    s = Shape(2, 3, 4)
    P, Q, r = gf3.standard_planes(s, 40)
    counters = np.zeros(5, dtype=np.int64)
    r2 = gk.walk3ix(P, Q, r, 0, 5000, 1000, r, np.array([3], dtype=np.uint64), counters, 1, 0.0)
    assert r2 == 24 and counters[0] == 0 and counters[4] == 5000 and counters[2] == 0  # no room: max_rank = r
    counters[:] = 0
    P, Q, r = gf3.standard_planes(s, 40)
    gk.walk3ix(P, Q, r, 0, 5000, 1000, r + 3, np.array([3], dtype=np.uint64), counters, 1, 0.0)
    assert counters[2] > 0 and gf3.is_valid_mod3(s, P, Q, 24 + counters[2] - counters[1])


@pytest.mark.parametrize("shape,rank", [((2, 2, 2), 7), ((3, 3, 3), 23)])
def test_kernel_2_is_the_default_and_reaches_the_known_ranks_lifted(shape, rank):
    """Strassen's 7 and Laderman's 23 through the indexed GF(3) walk, Hensel-lifted and proven exactly."""
    out = next(gf3.search_gf3(shape, rank, seed=1, budget=Budget(time_limit=120)), None)
    assert out is not None and out.rank == rank and out.verify(symbolic=False).ok
    assert out.provenance["options"]["kernel"] == 2 and out.provenance["options"]["field"] == 3


def test_kernel_option_is_checked():
    from algodiscover.search.flip import FlipOptionError
    with pytest.raises(FlipOptionError, match="must be 1"):
        next(gf3.search_gf3((2, 2, 2), 7, seed=0, budget=Budget(time_limit=5), kernel=3))
    with pytest.raises(FlipOptionError, match="at most 32 entries"):
        next(gf3.search_gf3((6, 6, 6), 200, seed=0, budget=Budget(time_limit=5), kernel=2))
    assert gf3.default_kernel(Shape(6, 6, 6)) == 1 and gf3.default_kernel(Shape(4, 4, 5)) == 2


@pytest.mark.slow
def test_a_checkpoint_without_a_kernel_resumes_with_the_scan_walk(tmp_path):
    """Checkpoints written before kernel 2 record no kernel: they were walked by kernel 1 and resume with it."""
    import json
    d = tmp_path / "ck"
    list(gf3.search_gf3((2, 2, 2), 7, seed=4, ring="Z3", budget=Budget(restarts=1), checkpoint=str(d),
                        restart_after=5_000))
    m = json.loads((d / "checkpoint.json").read_text())
    assert m["options"]["kernel"] == 2
    del m["options"]["kernel"]
    (d / "checkpoint.json").write_text(json.dumps(m))
    list(gf3.search_gf3((2, 2, 2), 7, budget=Budget(time_limit=2), resume=str(d)))
    st = json.loads((d / "walkers" / "walker-000.json").read_text())
    assert st["params"]["kernel"] == 1


def test_cli_kernel_with_field_3_errors_in_one_line():
    from tests.conftest import run_cli
    r = run_cli("discover!", "--engine", "flip", "--shape", "6x6x6", "--rank", "200", "--field", "3", "--kernel",
                "2", "--seed", "0", "--time-limit", "5", "--quiet", "--no-catalog")
    assert r.returncode == 2 and "at most 32 entries" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- the ZT walk (--ternary)
@pytest.mark.parametrize("shape", [(2, 2, 3), (3, 3, 3), (2, 4, 5)])
def test_ternary_walk_visits_only_integer_schemes(shape):
    """Read with entries -1, 0, 1, every scheme the ZT walk visits satisfies the Brent equations over the
    integers (exact verification, not mod 3), and moves that would make a 2 were refused (counters[4])."""
    from algodiscover import Scheme
    from algodiscover.core.verify import verify
    s = Shape(*shape)
    cap = s.m * s.k * s.n + 40
    P, Q, r = gf3.standard_planes(s, cap)
    w = gk.Walker(cap, ternary=True)
    counters = np.zeros(5, dtype=np.int64)
    w.load(P, Q, r, counters)
    state = np.array([99], dtype=np.uint64)
    for _ in range(40):
        w.walk(0, 5000, 500, s.m * s.k * s.n + 2, state, counters)
        P2, Q2 = np.zeros((3, cap), np.uint64), np.zeros((3, cap), np.uint64)
        w.planes(P2, Q2)
        a, b, c = gf3.factors(s, P2, Q2, w.r)
        assert verify(Scheme(s, a, b, c.T.copy()), symbolic=False).ring == "ZT"
        assert gk.check(w) == 0
    assert counters[0] > 50_000 and counters[1] > 0 and counters[4] > 0


def test_ternary_search_reaches_laderman_rank_over_zt_without_lifting():
    out = next(gf3.search_gf3((3, 3, 3), 23, seed=1, ternary=True, budget=Budget(time_limit=120)), None)
    assert out is not None and out.rank == 23
    assert out.verify(symbolic=True).ring == "ZT"
    prov = out.provenance
    assert prov["completed_by"] == ["flip"] and prov["options"]["ternary"] is True


@pytest.mark.parametrize("extra,msg", [
    (["--ternary"], "GF(3) walk only"),
    (["--ternary", "--field", "3", "--kernel", "1"], "indexed GF(3) kernel"),
    (["--ternary", "--field", "3", "--ring", "Z3"], "use --ring Z"),
])
def test_cli_ternary_errors_in_one_line(extra, msg):
    from tests.conftest import run_cli
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--seed", "0", "--time-limit",
                "5", "--quiet", "--no-catalog", *extra)
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_ternary_refuses_a_start_with_a_coefficient_two(tmp_path):
    """A start valid over Z with a coefficient 2 has no ZT reading mod 3: refused before any walk."""
    from algodiscover import Scheme
    from algodiscover.errors import SchemeError
    from algodiscover.formats import save
    std = Scheme.standard((2, 2, 2))
    Wa = np.vstack([std.W_a, std.W_a[:1], std.W_a[:1]])
    Wb = np.vstack([std.W_b, 2 * std.W_b[:1], -std.W_b[:1]])
    Wc = np.hstack([std.W_c, std.W_c[:, :1], 2 * std.W_c[:, :1]])  # x (x) 2y (x) z + x (x) -y (x) 2z = 0
    sch = Scheme((2, 2, 2), Wa, Wb, Wc)
    assert sch.verify(symbolic=False).ring == "Z"
    f = tmp_path / "z.json"
    save(sch, f)
    with pytest.raises(SchemeError, match="coefficients -1, 0, 1"):
        next(gf3.search_gf3((2, 2, 2), 7, seed=0, ternary=True, start=str(f), budget=Budget(time_limit=5)))


@pytest.mark.slow
def test_ternary_missed_target_writes_the_best_proven_scheme_above_it(tmp_path):
    """A ZT walk that misses its rank (here <3,3,3>:20, below what any walk reaches in seconds) exits 1 and
    writes its best level's scheme, proven over Z, with target_rank and above_target in its provenance."""
    import json
    from algodiscover.formats import load
    from tests.conftest import run_cli
    out = tmp_path / "best.json"
    r = run_cli("discover!", "--engine", "flip", "--field", "3", "--ternary", "--shape", "3x3x3", "--rank", "20",
                "--seed", "1", "--time-limit", "3", "--quiet", "--no-catalog", "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "(ZT walk)" in r.stderr
    sch = load(out)
    assert 20 < sch.rank < 27 and sch.verify(symbolic=False).ring == "ZT"
    prov = json.loads(out.read_text())["provenance"]
    assert prov["above_target"] is True and prov["target_rank"] == 20 and prov["options"]["ternary"] is True
    assert not (tmp_path / "best.z3.json").exists()  # the ZT walk's schemes are integer ones: no Z3 file


@pytest.mark.slow
def test_gf3_missed_target_writes_the_lifted_scheme_above_it_and_the_z3_one_beside(tmp_path):
    """Issue point 7 for the lifted GF(3) walk: a missed target exits 1; with --out F, F holds the best proven
    (3-adically lifted) scheme above the target, and F.z3.json the best scheme mod 3, each with target_rank;
    with --out DIR/ the names are DIR/best-above-target.json and DIR/best-modular-z3.json."""
    import json
    from algodiscover.formats import load
    from tests.conftest import run_cli
    out = tmp_path / "best.json"
    args = ("discover!", "--engine", "flip", "--field", "3", "--shape", "3x3x3", "--rank", "20", "--seed", "1",
            "--time-limit", "3", "--quiet", "--no-catalog")
    r = run_cli(*args, "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "mod 3" in r.stderr and "valid mod 3 only" in r.stderr
    lifted, modular = load(out), load(tmp_path / "best.z3.json")
    assert 20 < lifted.rank < 27 and lifted.verify(symbolic=False).ok
    assert modular.rank <= lifted.rank and modular.verify(symbolic=False).ring in ("Z3", "ZT", "Z")
    for f in (out, tmp_path / "best.z3.json"):
        prov = json.loads(f.read_text())["provenance"]
        assert prov["target_rank"] == 20 and prov["above_target"] is True and prov["options"]["field"] == 3
    d = tmp_path / "d"
    d.mkdir()
    r = run_cli(*args, "--out", str(d) + "/")
    assert r.returncode == 1, r.stderr
    assert load(d / "best-above-target.json").verify(symbolic=False).ok
    assert (d / "best-modular-z3.json").exists()


@pytest.mark.parametrize("shape,rank,kw", [((3, 3, 3), 23, {"ternary": True}), ((2, 2, 3), 11, {})])
def test_a_gf3_result_replays_to_the_same_scheme(shape, rank, kw):
    """The GF(3) walk (lifted) and the ZT walk are functions of seed, options and start: flip.replay re-runs
    the recorded walk (restarts counted, never the clock) to the recorded scheme (they said "no 'attempts'")."""
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import flip
    out = next(gf3.search_gf3(shape, rank, seed=2, budget=Budget(time_limit=120), **kw), None)
    assert out is not None and out.provenance["strategy"] == "gf3"
    key = canonical_key(out)
    assert any(canonical_key(x) == key for x in flip.replay(out.provenance, shape=shape, rank=rank))


@pytest.mark.slow
def test_cli_replays_a_zt_walk_from_a_start_two_moves_away(tmp_path):
    """End to end: a ZT walk from our <3,3,3>:23 (ZT) two moves away (<2,2,3>), written with --out, replays
    with exit 0; the start is re-made from the moves its record names."""
    import json
    from tests.conftest import REPO, run_cli
    out = tmp_path / "s.json"
    r = run_cli("discover", "--engine", "flip", "--field", "3", "--ternary", "--shape", "2x2x3", "--rank", "11",
                "--start", str(REPO / "results" / "3x3x3-r23.json"), "--seed", "0", "--time-limit", "60",
                "--quiet", "--no-catalog", "--out", str(out))
    assert r.returncode == 0, r.stderr
    prov = json.loads(out.read_text())["provenance"]
    assert prov["start"]["move"].count("project") == 2
    r = run_cli("discover", "--replay", str(out))
    assert r.returncode == 0 and "the same scheme" in r.stderr + r.stdout, r.stderr


def test_parallel_zt_walkers_record_their_seed_and_replay():
    """--workers 2 with --field 3: two walker processes, walker w with walker_seed(seed, w); a scheme of walker
    1 replays (one walker with that seed) to the same scheme."""
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import flip
    from algodiscover.search._parallel import walker_seed
    by_walker = {}
    it = gf3.search_gf3((3, 3, 3), 23, seed=3, ternary=True, workers=2, budget=Budget(time_limit=90))
    for sch in it:
        p = sch.provenance
        assert p["options"]["workers"] == 2 and p["seed"] == 3 and p["worker_seed"] == walker_seed(3, p["walker"])
        assert sch.verify(symbolic=False).ring == "ZT"
        by_walker.setdefault(p["walker"], sch)
        if len(by_walker) == 2:
            break
    it.close()
    assert set(by_walker) == {0, 1}
    one = by_walker[1]
    assert any(canonical_key(x) == canonical_key(one) for x in flip.replay(one.provenance, shape=(3, 3, 3), rank=23))


def test_parallel_missed_target_writes_the_best_scheme_of_all_walkers(tmp_path):
    """A missed target with two GF(3) walkers (lifted walk): exit 1, F holds the best proven scheme above the
    target over both walkers (each lifts its own at its end, and is given the time), F.z3.json the modular
    one; both name the walker that reached them."""
    import json
    from tests.conftest import run_cli
    out = tmp_path / "best.json"
    r = run_cli("discover!", "--engine", "flip", "--field", "3", "--shape", "3x3x3", "--rank", "20", "--workers",
                "2", "--seed", "1", "--time-limit", "3", "--quiet", "--no-catalog", "--out", str(out),
                "--checkpoint", str(tmp_path / "ck"))
    assert r.returncode == 1, r.stderr
    prov = json.loads(out.read_text())["provenance"]
    assert prov["above_target"] is True and prov["target_rank"] == 20 and prov["walker"] in (0, 1)
    z3 = json.loads((tmp_path / "best.z3.json").read_text())["provenance"]
    assert z3["walker"] in (0, 1) and z3["above_target"] is True
    assert sorted(f.name for f in (tmp_path / "ck" / "walkers").glob("*.json")) == ["walker-000.json", "walker-001.json"]
    m = json.loads((tmp_path / "ck" / "checkpoint.json").read_text())
    assert m["flip"]["walkers"] == 2 and m["options"]["workers"] == 2
