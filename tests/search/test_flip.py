"""The flip-graph engine: moves over GF(2), walks, the engine contract and the CLI."""

import json
import multiprocessing

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algodiscover import Scheme, save
from algodiscover.core.shape import Shape
from algodiscover.errors import AlgoDiscoverError, DeviceError, ShapeError
from algodiscover.search import Budget, run_search
from algodiscover.search import gf2
from tests.conftest import LADERMAN, STRASSEN, run_cli


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)


def _first(it):
    try:
        return next(it, None)
    finally:
        it.close()


# ---------------------------------------------------------------- GF(2) moves
def test_standard_and_known_schemes_are_valid_mod2():
    for shape in [(2, 2, 2), (2, 3, 4), (4, 4, 4)]:
        s = Shape(*shape)
        assert gf2.is_valid_mod2(s, *gf2.standard_bits(s))
    assert gf2.is_valid_mod2(Shape(2, 2, 2), *gf2.scheme_to_bits(Scheme((2, 2, 2), **STRASSEN)))
    F, r = gf2.standard_bits(Shape(2, 2, 2))
    F[2, 0] ^= np.uint64(1 << 3)  # one wrong output: invalid
    assert not gf2.is_valid_mod2(Shape(2, 2, 2), F, r)


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(1, 2**62), iters=st.integers(1, 3000), plateau=st.integers(1, 200),
       slack=st.integers(0, 4))
def test_random_flip_sequences_preserve_validity_mod2(shape, seed, iters, plateau, slack):
    s = Shape(*shape)
    F, r = gf2.standard_bits(s, cap=s.naive_rank + 8)
    state = np.array([seed], dtype=np.uint64)
    counters = np.zeros(4, dtype=np.int64)
    r2 = gf2.walk(F, r, 0, iters, plateau, r + slack, state, counters)
    assert 1 <= r2 <= r + slack
    assert gf2.is_valid_mod2(s, F, r2)
    # the rank changed exactly by the moves counted: plus transitions up, reductions down
    assert r2 == r + counters[2] - counters[1]


def test_reduction_merges_products_sharing_two_factors():
    s = Shape(2, 2, 2)
    F, r = gf2.standard_bits(s, cap=12)
    # split product 0 = (a, b, c) into (a, b, c + d) + (a, b, d): still valid mod 2, rank 9
    d = np.uint64(1 << 3) if F[2, 0] != np.uint64(1 << 3) else np.uint64(1 << 2)
    F[:, r] = F[:, 0]
    F[2, r] = d
    F[2, 0] ^= d
    r += 1
    assert r == 9 and gf2.is_valid_mod2(s, F, r)
    r2 = gf2.reduce_all(F, r)
    assert r2 == 8 and gf2.is_valid_mod2(s, F, r2)


def test_reduction_drops_a_product_with_a_zero_factor():
    s = Shape(2, 2, 2)
    F, r = gf2.standard_bits(s, cap=12)
    F[0, r] = 0
    F[1, r] = 5
    F[2, r] = 3
    r2 = gf2.reduce_all(F, r + 1)
    assert r2 == 8 and gf2.is_valid_mod2(s, F, r2)


def test_plus_transition_keeps_validity_and_raises_rank():
    s = Shape(3, 3, 3)
    F, r = gf2.scheme_to_bits(Scheme((3, 3, 3), **LADERMAN), cap=30)
    state = np.array([7], dtype=np.uint64)
    r2 = gf2._plus(F, r, state)
    assert r2 == r + 1 and gf2.is_valid_mod2(s, F, r2)


@pytest.mark.parametrize("shape,rank", [((2, 2, 2), 7), ((2, 5, 5), 46), ((4, 4, 4), 56), ((3, 4, 5), 56), ((1, 3, 2), 6)])
def test_strassen_block_start_is_valid_mod2(shape, rank):
    # rank: 7 per 2x2x2 block, i*j*l for the other blocks (e.g. <4,4,4>: 8 blocks * 7 = 56)
    s = Shape(*shape)
    F, r = gf2.strassen_block_bits(s)
    assert r == rank and gf2.is_valid_mod2(s, F, r)


def test_shapes_beyond_64_bits_are_rejected():
    with pytest.raises(ShapeError, match="64"):
        gf2.check_shape(Shape(9, 8, 2))


# ---------------------------------------------------------------- the engine
def test_engine_reaches_strassen_rank_from_the_standard_algorithm():
    """The first flip test to run: its limit leaves room for the numba kernel to compile on a cold cache."""
    s = _first(run_search("flip", (2, 2, 2), 7, seed=0, workers=1, budget=Budget(time_limit=120)))
    assert s is not None and s.rank == 7
    assert s.verify(symbolic=True).ok
    assert s.provenance["engine"] == "flip"


def test_seeded_single_worker_runs_are_reproducible():
    one = _first(run_search("flip", (3, 3, 3), 23, seed=5, workers=1, budget=Budget(time_limit=30)))
    two = _first(run_search("flip", (3, 3, 3), 23, seed=5, workers=1, budget=Budget(time_limit=30)))
    assert one is not None and one.rank == 23 and one.verify(symbolic=False).ok
    assert one == two


def test_parallel_workers_find_a_scheme_and_stop():
    s = _first(run_search("flip", (3, 3, 3), 23, seed=1, workers=2, budget=Budget(time_limit=60)))
    assert s is not None and s.rank == 23 and s.verify(symbolic=False).ok
    assert multiprocessing.active_children() == []


def test_shape_order_is_kept():
    s = _first(run_search("flip", (3, 2, 2), 11, seed=0, workers=1, budget=Budget(time_limit=30)))
    assert s is not None and tuple(s.shape) == (3, 2, 2) and s.rank == 11 and s.verify(symbolic=False).ok


def test_goal_z2_reports_the_mod2_scheme():
    s = _first(run_search("flip", (2, 2, 2), 7, seed=0, workers=1, ring="Z2", budget=Budget(time_limit=30)))
    assert s is not None and s.rank == 7
    assert s.verify(symbolic=False).ring == "Z2"  # Strassen's rank needs signs: 0/1 alone holds only mod 2
    assert gf2.is_valid_mod2(s.shape, *gf2.scheme_to_bits(s))


def test_a_scheme_that_does_not_lift_is_never_reported_over_z(monkeypatch):
    import algodiscover.search.lift as lift
    # pretend every lift "succeeds" with the unlifted 0/1 factors: they hold only mod 2 (rank 7 needs signs)
    calls = []

    def fake_lift(shape, a, b, c, **kw):
        cand = (a, b, c.T.copy())
        calls.append((a.shape[0], Scheme(shape, *cand).verify(symbolic=False).ring))
        return cand

    def at_goal():
        return [ring for r, ring in calls if r <= 7]

    monkeypatch.setattr(lift, "hensel_lift", fake_lift)
    found = list(run_search("flip", (2, 2, 2), 7, seed=0, workers=1, budget=Budget(time_limit=60),
                            stop=lambda: len(at_goal()) >= 3))
    assert len(at_goal()) >= 3  # the walker reached rank 7 and handed its schemes to the (patched) lift
    # (levels above the goal may be lifted too, e.g. the standard algorithm, which holds over Z as it is)
    assert set(at_goal()) == {"Z2"}  # every rank-7 candidate it got back holds only mod 2 ...
    assert found == []  # ... so none was reported


def test_start_from_a_file_in_another_shape_order(tmp_path):
    lad = Scheme((3, 3, 3), **LADERMAN)
    path = save(lad, tmp_path / "laderman.json")
    s = _first(run_search("flip", (3, 3, 3), 23, seed=0, workers=1, start=str(path), budget=Budget(time_limit=30)))
    assert s is not None and s.rank == 23 and s.verify(symbolic=False).ok
    assert s.provenance["start"] == {"kind": "file", "source": str(path), "published": True}


def test_start_scheme_for_a_permuted_shape_is_reindexed():
    found = _first(run_search("flip", (2, 2, 3), 11, seed=0, workers=1, budget=Budget(time_limit=30)))
    assert found is not None and tuple(found.shape) == (2, 2, 3)
    s = _first(run_search("flip", (3, 2, 2), 11, seed=0, workers=1, start=found, budget=Budget(time_limit=30)))
    assert s is not None and tuple(s.shape) == (3, 2, 2) and s.rank == 11 and s.verify(symbolic=False).ok
    assert s.provenance["start"]["kind"] == "file" and s.provenance["start"]["source"] == "scheme"


def test_bad_options_raise_clear_errors():
    with pytest.raises(DeviceError, match="CPU"):
        _first(run_search("flip", (2, 2, 2), 7, device="cuda"))
    with pytest.raises(AlgoDiscoverError, match="unknown option"):
        _first(run_search("flip", (2, 2, 2), 7, batch=3))
    with pytest.raises(AlgoDiscoverError, match="ring"):
        _first(run_search("flip", (2, 2, 2), 7, ring="Q"))
    with pytest.raises(AlgoDiscoverError, match="start"):
        _first(run_search("flip", (2, 2, 2), 7, start=Scheme((3, 3, 3), **LADERMAN)))


# ---------------------------------------------------------------- CLI
def test_cli_end_to_end():
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--workers", "1", "--seed", "0")
    assert r.returncode == 0, r.stderr
    assert "proven" in r.stderr and "m7" in r.stdout


def test_cli_keeps_the_shape_order(tmp_path):
    out = tmp_path / "s.json"
    r = run_cli("discover!", "--engine", "flip", "--shape", "3x2x2", "--rank", "11", "--workers", "1", "--seed", "0",
                "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["shape"] == [3, 2, 2] and data["rank"] == 11 and data["ring"] in ("ZT", "Z", "Q")


@pytest.mark.parametrize("args,needle", [
    (["--shape", "9x8x2", "--rank", "100"], "64"),
    (["--shape", "2x2x2", "--rank", "7", "--device", "cuda"], "cpu"),
])
def test_cli_bad_input_is_one_line(args, needle):
    r = run_cli("discover!", "--engine", "flip", *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr and needle in lines[0].lower()


@pytest.mark.parametrize("sig", ["SIGINT", pytest.param("SIGTERM", marks=pytest.mark.slow)])
def test_cli_signal_ends_all_workers_cleanly(sig):
    import os
    import signal
    import subprocess
    import sys
    import time
    from tests.conftest import REPO
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", "import sys; from algodiscover.cli import discover_main; sys.exit(discover_main())",
           "--engine", "flip", "--shape", "4x4x4", "--rank", "40", "--workers", "2", "--seed", "0", "--quiet"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    from tests.tests_helpers import wait_for_process_group
    assert wait_for_process_group(p.pid, 3) >= 3  # the run and its two walkers
    time.sleep(0.5)  # the walkers are walking
    os.killpg(p.pid, getattr(signal, sig))  # like Ctrl-C in a terminal: the whole process group
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, err
    assert "Traceback" not in err and "interrupted" in err
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):  # no worker outlived the run
        os.killpg(p.pid, 0)


def test_a_failing_flip_worker_stops_the_search_with_a_clear_error(monkeypatch):
    import time

    from algodiscover.search import flip
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the patched walker reaches the workers only through fork")
    real = flip.Walker.run

    def run(self, *args, **kwargs):
        if self.walk == 0:
            raise RuntimeError("simulated failure in a walker")
        yield from real(self, *args, **kwargs)

    monkeypatch.setattr(flip.Walker, "run", run)
    t0 = time.monotonic()
    with pytest.raises(AlgoDiscoverError, match="a flip-engine worker failed: RuntimeError: simulated failure"):
        # rank 14 for <3,3,3> is below the proven bound: only the failure ends this before the budget
        list(run_search("flip", "3x3x3", 14, seed=0, workers=2, budget=Budget(time_limit=40, count=None)))
    assert time.monotonic() - t0 < 20


def test_a_lift_with_fractions_is_rescaled_to_integers_when_it_can_be():
    """_prove (every GF(2) lift goes through it): Strassen with one product rescaled (a_t * 2, c_t / 2) is the
    same algorithm over Q; the per-product rescaling gives it integer coefficients again, marked normalised."""
    from fractions import Fraction
    from algodiscover.search.flip import _prove
    from algodiscover.provenance import search_record
    from tests.conftest import STRASSEN
    Wa = np.array(STRASSEN["W_a"], dtype=object)
    Wb = np.array(STRASSEN["W_b"], dtype=object)
    Wc = np.array(STRASSEN["W_c"], dtype=object)
    Wa[0] = [2 * x for x in Wa[0]]
    Wc[:, 0] = [Fraction(x) / 2 for x in Wc[:, 0]]
    assert Scheme((2, 2, 2), Wa, Wb, Wc).verify(symbolic=False).ring == "Q"
    rec = search_record("flip", options={}, seed=0, workers=1, device="cpu")
    info = {"walk": 0, "attempts": 1, "flips": 1, "restarts": 0, "worker_seed": 0}
    out = _prove(Shape(2, 2, 2), (Wa, Wb, Wc), "Z", rec, info, 0.0)
    assert out.verify(symbolic=False).ring in ("ZT", "Z") and out.provenance["normalised"] is True
    plain = _prove(Shape(2, 2, 2), (np.array(STRASSEN["W_a"]), np.array(STRASSEN["W_b"]), np.array(STRASSEN["W_c"])),
                   "Z", rec, info, 0.0)
    assert "normalised" not in plain.provenance  # an integer lift is kept as it is (recorded results replay)
