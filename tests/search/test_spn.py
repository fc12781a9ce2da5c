"""The SPN engine: proofs, determinism, options, budgets, and the discover CLI end to end.

Expected values come from mathematics: Strassen's 7 products for <2,2,2> (rank 7 is optimal,
Hopcroft-Kerr/Winograd), and the standard algorithm's m*k*n.  Every scheme is re-proven with
``verify`` here, never compared with a stored answer.
"""

from __future__ import annotations

import json
import time

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.core.verify import verify
from algodiscover.errors import AlgoDiscoverError, EngineNotFound
from algodiscover.search import Budget, get_engine, run_search
from algodiscover.search.spn_strategies import STRATEGIES, SpnOptionError, get_strategy

from tests.conftest import run_cli

spn = pytest.importorskip("algodiscover.search.spn")


def first(it):
    for s in it:
        return s
    return None


def test_2x2x2_rank7_proven_with_fixed_seed():
    s = first(run_search("spn", "2x2x2", 7, seed=0, budget=Budget(time_limit=60)))
    assert s is not None
    v = verify(s)
    assert v.ok and v.ring == "ZT"
    assert s.rank == 7 and tuple(s.shape) == (2, 2, 2)
    assert s.provenance["engine"] == "spn" and s.provenance["seed"] == 0
    for key in ("strategy", "restart", "seconds", "version"):
        assert key in s.provenance


def test_same_seed_same_scheme():
    a = first(run_search("spn", "2x2x2", 7, seed=3, budget=Budget(time_limit=60)))
    b = first(run_search("spn", "2x2x2", 7, seed=3, budget=Budget(time_limit=60)))
    assert a is not None and b is not None
    assert a == b
    assert a.provenance["restart"] == b.provenance["restart"]


def test_schemes_yielded_are_distinct_and_proven():
    it = run_search("spn", "2x2x2", 7, seed=1, budget=Budget(restarts=64, count=None))
    keys = []
    for s in it:
        assert verify(s).ok
        keys.append(canonical_key(s))
    assert keys, "64 restarts of <2,2,2>:7 should prove at least one scheme"
    assert len(keys) == len(set(keys))


def test_rank8_found_quickly():
    t0 = time.monotonic()
    s = first(run_search("spn", "2x2x2", 8, seed=0, budget=Budget(time_limit=30)))
    assert s is not None and verify(s).ok and s.rank == 8
    assert time.monotonic() - t0 < 30


def test_rectangular_shape_keeps_order():
    s = first(run_search("spn", "3x2x2", 11, seed=0, budget=Budget(time_limit=60)))
    assert s is not None and tuple(s.shape) == (3, 2, 2) and verify(s).ok


@pytest.mark.parametrize("coefficients", ["integer", "half"])
def test_other_coefficient_sets_are_proven(coefficients):
    s = first(run_search("spn", "2x2x2", 7, seed=0, budget=Budget(time_limit=60), coefficients=coefficients))
    assert s is not None and verify(s).ok and s.provenance["options"]["coefficients"] == coefficients


def test_unknown_option_is_a_clear_error():
    with pytest.raises(SpnOptionError, match="--ring does not apply to the spn engine"):
        run_search("spn", "2x2x2", 7, seed=0, ring="Z2")


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(EngineNotFound, match="unknown strategy 'nope'"):
        run_search("spn", "2x2x2", 7, strategy="nope")
    with pytest.raises(SpnOptionError, match="unknown strategy setting 'frobnicate'"):
        get_strategy("als:frobnicate=1")
    with pytest.raises(SpnOptionError):
        get_strategy("als:repair=maybe")
    assert isinstance(SpnOptionError("x"), AlgoDiscoverError)


@pytest.mark.parametrize("bad", [dict(data="sometimes"), dict(coefficients="complex"), dict(batch=0),
                                 dict(steps=-1), dict(data="random", strategy="als")])
def test_bad_option_values(bad):
    with pytest.raises(AlgoDiscoverError):
        run_search("spn", "2x2x2", 7, seed=0, **bad)


def test_every_registered_strategy_runs():
    for name in STRATEGIES:
        it = run_search("spn", "2x2x2", 7, seed=0, budget=Budget(restarts=4), strategy=name, steps=60, batch=4)
        for s in it:
            assert verify(s).ok


def test_paper_strategy_with_random_data_proves():
    # StrassenNets' own setting: Gaussian A, B, ternary quantization phased in with a straight-through estimator
    # (paper's schedule shortened to 300 steps, every phase scaled: its answer is the ternary weights
    # at the last step, so the full 6000 steps cost ~5 s even for the first proof; they are tested in
    # test_spn_gradient.py)
    s = first(run_search("spn", "2x2x2", 7, seed=0, budget=Budget(time_limit=60), data="random",
                         strategy="paper:steps=300,batch=8"))
    assert s is not None and verify(s).ok and s.provenance["options"]["data"] == "random"
    assert s.provenance["completed_by"] == ["gradient"] and s.provenance["strategy"] == "paper"
    assert s.provenance["step"] == 300


def test_time_limit_respected_on_impossible_budget():
    t0 = time.monotonic()
    it = run_search("spn", "3x3x3", 14, seed=0, budget=Budget(time_limit=1.0))
    assert first(it) is None
    assert time.monotonic() - t0 < 5


def test_stop_is_respected():
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    t0 = time.monotonic()
    assert first(run_search("spn", "3x3x3", 14, seed=0, stop=stop)) is None
    assert time.monotonic() - t0 < 5


def test_restart_budget_and_curves():
    curves = []
    it = get_engine("spn").search("2x2x2", 5, seed=0, budget=Budget(restarts=6, count=None), curves=curves,
                                  batch=4, steps=50)
    assert list(it) == []  # rank 5 < 7 = the proven lower bound: nothing can be proven
    assert it.stats["restarts_done"] == 6
    assert curves and {"restart", "step", "residual", "quantized_fraction"} <= set(curves[0])  # batch 4: 4 traced
    assert all(c["residual"] >= 0 for c in curves)
    assert {c["restart"] for c in curves} == set(range(4)) and not any(c.get("proven") for c in curves)


def test_success_rate_2x2x2():
    it = get_engine("spn").search("2x2x2", 7, seed=5, budget=Budget(restarts=64, count=None))
    list(it)
    st = it.stats
    assert st["restarts_done"] == 64
    assert st["successes"] / st["restarts_done"] >= 0.5


# ---------------------------------------------------------------- the CLI
def test_cli_discover_2x2x2():
    r = run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--seed", "0", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "c11 = " in r.stdout
    assert "m7 = " in r.stdout


def test_cli_out_dir_writes_each_distinct_scheme(tmp_path):
    out = tmp_path / "found"
    r = run_cli("discover", "--shape", "2x2x2", "--rank", "7", "--seed", "1", "--count", "3",
                "--out", str(out) + "/", "--quiet", timeout=120)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.json"))
    assert len(files) == 3
    from algodiscover.formats import load
    keys = set()
    for f in files:
        s = load(f)
        assert verify(s).ok
        keys.add(canonical_key(s))
        assert json.loads(f.read_text())["provenance"]["engine"] == "spn"
    assert len(keys) == 3


def test_cli_impossible_budget_exits_1_with_best_residual():
    r = run_cli("discover!", "--shape", "3x3x3", "--rank", "19", "--time-limit", "1", "--seed", "0", timeout=60)
    assert r.returncode == 1
    assert "best residual" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_bad_strategy_and_option():
    r = run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--strategy", "nope")
    assert r.returncode == 2 and "unknown strategy" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--init", "strassen")
    assert r.returncode == 2 and "does not apply to the spn engine" in r.stderr
    r = run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--workers", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("strategy", ["als", "als-round:steps=400,batch=5"])
def test_workers_prove_the_same_schemes_as_one_process(strategy):
    # restart j depends on (seed, j) alone and worker w of W trains restarts w, w+W, ...: a restart
    # budget gives the same distinct schemes whatever the number of processes (als-round: with slot
    # refills and extrapolation state)
    from algodiscover.core.canonical import canonical_key
    keys = {}
    for w in (1, 2, 3):
        it = spn.search("2x2x2", 7, seed=3, budget=Budget(restarts=24, count=None), workers=w, strategy=strategy)
        got = {canonical_key(s): (s.provenance["restart"], s.provenance["step"]) for s in it}
        keys[w] = got
        assert it.stats["restarts_done"] == 24
    assert keys[1] and set(keys[1]) == set(keys[2]) == set(keys[3])
    for w in (2, 3):  # a scheme from the same restart was found at the same step: the same trajectory
        same = [k for k in keys[1] if keys[w][k][0] == keys[1][k][0]]
        assert len(same) >= len(keys[1]) // 2
        assert all(keys[w][k] == keys[1][k] for k in same)


def test_workers_honour_count_stop_and_time():
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(count=2), workers=2)
    got = list(it)
    assert len(got) == 2 and all(verify(s, symbolic=False).ok for s in got)
    assert it.stats["workers"] == 2
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 5

    t0 = time.monotonic()
    assert list(spn.search("3x3x3", 14, seed=0, stop=stop, workers=2)) == []
    assert list(spn.search("3x3x3", 14, seed=0, budget=Budget(time_limit=1.0), workers=2)) == []
    assert time.monotonic() - t0 < 15


def test_worker_run_pickles_for_spawn_start():
    # where fork is unavailable (macOS, Windows) workers are spawned: their run must pickle
    import pickle
    it = spn.search("3x3x3", 23, seed=0, budget=Budget(time_limit=5), workers=2)
    pool = it._run
    assert pool.workers == 2
    back = pickle.loads(pickle.dumps(pool.child_run()))
    assert (back.rank, back.seed, back.strat) == (23, 0, pool.base.strat)


def test_a_failing_worker_stops_the_search_with_a_clear_error(monkeypatch):
    import multiprocessing as mp
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("the patched method reaches the workers only through fork")

    real_loop = spn._Run._loop

    def broken(self):  # worker 0 fails at once; worker 1 would search for the whole budget
        if self.offset == 0:
            raise RuntimeError("simulated failure in a worker")
        yield from real_loop(self)

    monkeypatch.setattr(spn._Run, "_loop", broken)
    t0 = time.monotonic()
    with pytest.raises(AlgoDiscoverError, match="an spn worker failed: RuntimeError: simulated failure"):
        list(spn.search("3x3x4", 20, seed=0, workers=2, budget=Budget(time_limit=40)))  # rank 20: nothing to find
    assert time.monotonic() - t0 < 20  # the failure stopped the other worker too


def test_default_workers_follow_the_cpu_affinity(monkeypatch):
    import os
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert spn.search("3x3x3", 23, seed=0)._run.workers == 3                # m*k*n >= 24: all allowed cores
    assert not isinstance(spn.search("2x2x2", 7, seed=0)._run, spn._Pool)  # small shapes: one process
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5})
    assert not isinstance(spn.search("3x3x3", 23, seed=0)._run, spn._Pool)


def test_workers_option_errors():
    with pytest.raises(SpnOptionError, match="workers must be a positive integer"):
        run_search("spn", "2x2x2", 7, workers=0)
    with pytest.raises(SpnOptionError, match="one process"):
        run_search("spn", "2x2x2", 7, workers=2, curves=[])


def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also where a GPU is present
    from algodiscover.errors import DeviceError
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        run_search("spn", "2x2x2", 7, device="cuda")


def test_strategy_overrides_switch_parts():
    s = get_strategy("als:repair=0,progressive=1,steps=50")
    assert (s.repair, s.progressive, s.steps) == (False, True, 50)
    assert get_strategy("default") == get_strategy(None)
    assert get_strategy(None, (2, 2, 2)).name == "als" and get_strategy("default", (2, 3, 3)).name == "als-long"
    assert get_strategy(None, (3, 3, 3)).name == "als-round"


def test_force_freeze_takes_the_nearest_free_entries():
    torch = pytest.importorskip("torch")
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=1), strategy="als-round:freeze_frac=0.1,freeze_min=3")
    run = it._run
    run._setup()
    F = [torch.full((1, 7, 4), 0.5, dtype=torch.float64) for _ in range(3)]
    F[1][0, 2, 3] = 0.99   # nearest to 1
    F[2][0, 6, 0] = -0.02  # nearest to 0
    F[0][0, 0, 1] = 0.9    # third nearest
    frozen = [torch.zeros_like(f, dtype=torch.bool) for f in F]
    frozen[0][0, 0, 0] = True  # already frozen: stays, not counted again
    run.force_freeze(F, frozen, torch.tensor([True]))
    assert sum(int(z.sum()) for z in frozen) == 1 + 9  # ceil(0.1 * 83 free) = 9 new ones
    assert frozen[1][0, 2, 3] and frozen[2][0, 6, 0] and frozen[0][0, 0, 1]
    before = [z.clone() for z in frozen]
    run.force_freeze(F, frozen, torch.tensor([False]))  # masked slots are left alone
    assert all(bool((a == b).all()) for a, b in zip(before, frozen))


def test_extrapolation_never_raises_the_residual():
    torch = pytest.importorskip("torch")
    it = spn.search("2x2x2", 7, seed=0, budget=Budget(restarts=1), strategy="als-round")
    run = it._run
    run._setup()
    assert run.strat.extrapolate > 0
    g = torch.Generator().manual_seed(0)
    old = [torch.randn(16, 7, 4, generator=g, dtype=torch.float64) for _ in range(3)]
    new = [f + 0.1 * torch.randn(f.shape, generator=g, dtype=torch.float64) for f in old]
    out = run.extrapolate(old, new)
    r_new, r_out = run.residual(new), run.residual(out)
    assert bool((r_out <= r_new + 1e-12).all())
    moved = (r_out < r_new - 1e-12)
    same = torch.stack([(a == b).flatten(1).all(1) for a, b in zip(out, new)]).all(0)
    assert bool((moved | same).all())  # each slot: the extrapolated point where it is better, else unchanged
    # a converging line (old -> new points toward the exact Strassen factors) is extended
    from tests.conftest import STRASSEN
    S = [torch.tensor(STRASSEN["W_a"], dtype=torch.float64), torch.tensor(STRASSEN["W_b"], dtype=torch.float64),
         torch.tensor(STRASSEN["W_c"], dtype=torch.float64).T]
    d = [torch.randn(7, 4, generator=g, dtype=torch.float64) for _ in range(3)]
    run._ext_a = None
    far = [(s + 0.2 * e).unsqueeze(0) for s, e in zip(S, d)]
    near = [(s + 0.1 * e).unsqueeze(0) for s, e in zip(S, d)]
    out = run.extrapolate(far, near)
    assert float(run.residual(out)[0]) < float(run.residual(near)[0])


@pytest.mark.slow
def test_default_finds_a_proven_333_rank_23_deterministically():
    # Laderman's rank 23 is attainable; the default (als-round) must find a ternary scheme and the
    # same seed must give the same scheme
    from algodiscover.core.canonical import canonical_key
    got = []
    for _ in range(2):
        it = spn.search("3x3x3", 23, seed=0, budget=Budget(time_limit=120, count=1), workers=1)
        s = next(iter(it))
        it.close()
        assert s.rank == 23 and s.is_ternary and verify(s, symbolic=False).ok
        got.append(canonical_key(s))
    assert got[0] == got[1]


@pytest.mark.parametrize("tabu", [0, 5])
def test_polish_repairs_a_perturbed_laderman(tabu):
    # Laderman's <3,3,3>:23 (typed from the paper) with one coefficient changed is one move from valid
    import numpy as np

    from tests.conftest import LADERMAN
    it = spn.search("3x3x3", 23, seed=0, budget=Budget(restarts=1))
    run = it._run
    run._setup()
    A = np.array(LADERMAN["W_a"], float)
    B = np.array(LADERMAN["W_b"], float)
    C = np.array(LADERMAN["W_c"], float).T
    B[4, 1] = 1 - B[4, 1]  # 0 <-> 1
    _, before = run.polish([A, B, C], 0)
    assert before > 0
    (A2, B2, C2), after = run.polish([A, B, C], 10, tabu)
    assert after == 0
    from algodiscover import Scheme
    assert verify(Scheme((3, 3, 3), A2.astype(int), B2.astype(int), C2.T.astype(int))).ring == "ZT"
