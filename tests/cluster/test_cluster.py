"""Searches on a Dask cluster: a real scheduler and two one-thread workers on 127.0.0.1 (conftest).

What must hold (issue 15): every scheme reported is proven by the client and catalogued once; a worker
killed with SIGKILL mid-run loses nothing (its task runs again elsewhere) and a restart budget gives the
same set of schemes as a local run; stopping ends the cluster's work within seconds; a resumed run
continues the walk exactly; an unreachable scheduler is one line and exit 2 within 10 s.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.catalog import Catalog
from algodiscover.cli import main
from algodiscover.cluster import ClusterError, parse_address, run_cluster
from algodiscover.cluster import tasks
from algodiscover.cluster.runner import _ClusterRun
from algodiscover.core.canonical import canonical_key
from algodiscover.core.shape import parse_shape
from algodiscover.examples import strassen
from algodiscover.search import Budget, flip, gf2, run_search

from .conftest import free_port

CHUNK = flip.CHUNK


# ------------------------------------------------------------------------------------------- no cluster needed
def test_parse_address():
    assert parse_address("tcp://10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")
    assert parse_address("node7:8786") == ("remote", "tcp://node7:8786")
    assert parse_address("local:3") == ("local", 3)
    for bad in ("", "local:0", "node7", "http//x:1", "tcp://x:99999", "local:two"):
        with pytest.raises(ClusterError):
            parse_address(bad)


def test_unreachable_scheduler_is_one_line_and_exit_2_within_10_s(capsys):
    port = free_port()  # nothing listens there
    t0 = time.monotonic()
    rc = main(["discover", "--shape", "2x2x2", "--rank", "7", "--cluster", f"tcp://127.0.0.1:{port}", "--no-catalog"])
    assert rc == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]


def test_bad_cluster_options_are_refused(capsys, tmp_path):
    assert main(["discover", "--shape", "2x2x2", "--rank", "7", "--cluster", "nowhere", "--no-catalog"]) == 2
    assert "not a scheduler address" in capsys.readouterr().err
    assert main(["discover", "--shape", "2x2x2", "--rank", "7", "--resume", str(tmp_path), "--no-catalog"]) == 2
    assert "--cluster" in capsys.readouterr().err
    # options are checked before any connection is tried
    with pytest.raises(ClusterError, match="--workers does not apply"):
        run_cluster("spn", "2x2x2", 7, cluster="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(ClusterError, match="CPU"):
        run_cluster("spn", "2x2x2", 7, cluster="tcp://127.0.0.1:1", device="cuda")


def test_flip_task_walk_is_the_engine_walk_for_any_segment_split():
    """The walker state travels as JSON; cut into segments anywhere, the walk is the engine's own."""
    s = parse_shape("3x3x3")
    seed = 20240
    gf2.warm_up()
    if tasks.has_run_segment():  # the engine's walker: one run_segment of 12 chunks is the reference
        start = tasks.initial_walker(s, 23, seed=seed, walk=0, walkers=1, options={})
        found, end = flip.run_segment(s, 23, state=start, attempts=12 * CHUNK, options={"workers": 1})
        want = [canonical_key(x) for x in found]
        want_state = dict(end)
    else:  # the adapter follows search.flip._walker
        params = dict(flip.DEFAULTS)
        want = []
        for ev in flip._walker(s, 23, seed, gf2.standard_bits(s), "Z", params, lambda: len(want) >= 2, 0):
            if ev[0] == "scheme":
                want.append(canonical_key(Scheme(s, *ev[1])))
        start = tasks.FlipWalker.initial(s, 23, seed, gf2.standard_bits(s), "Z", params, 0)
        want_state = None

    def walk(segment, total):
        st, keys = json.dumps(start), []
        for _ in range(total // segment):
            out = json.loads(tasks.flip_task(st, segment * CHUNK, None, None, {"workers": 1}))
            assert out["complete"]
            st = json.dumps(out["state"])
            keys += [canonical_key(Scheme(s, c["W_a"], c["W_b"], c["W_c"])) for c in out["candidates"]]
        st = json.loads(st)
        for k in ("seconds", "levels", "segments"):
            st.pop(k, None)
        return keys, st

    k1, s1 = walk(2, 12)
    k2, s2 = walk(3, 12)
    assert s1 == s2  # the same state after the same attempts, whatever the boundaries
    assert k1 == k2 and len(k1) >= 2
    if want_state is not None:
        for k in ("seconds", "levels"):
            want_state.pop(k, None)
        assert s1 == want_state and k1 == want
    else:
        assert k1[:2] == want  # the same walk as search.flip


def test_a_worker_running_another_version_is_refused():
    me = tasks.identity()
    assert tasks.mismatch(me, dict(me)) is None
    assert "0.0.0" in tasks.mismatch(me, {**me, "version": "0.0.0"})
    if me["commit"]:
        assert "commit" in tasks.mismatch(me, {**me, "commit": "f" * 40})
    spec = json.dumps({"shape": [2, 2, 2], "rank": 7, "seed": 0, "options": {}, "expect": {**me, "version": "0.0.0"}})
    with pytest.raises(tasks.VersionMismatch):
        tasks.spn_task(spec, 0, 1)
    st = json.dumps(tasks.FlipWalker.initial((2, 2, 2), 7, 0, gf2.standard_bits(parse_shape("2x2x2")), "Z",
                                             dict(flip.DEFAULTS), 0))
    with pytest.raises(tasks.VersionMismatch):
        tasks.flip_task(st, CHUNK, None, {**me, "version": "0.0.0"})


def test_the_client_proves_every_candidate_itself():
    """A worker's word counts for nothing: wrong, mod-2-only or foreign candidates are rejected."""
    from algodiscover.provenance import search_record
    run = _ClusterRun("flip", parse_shape("2x2x2"), 7, seed=1, budget=Budget(), on_progress=None, stop=None,
                      options={}, task_restarts=None, segment_attempts=None, segments=None, checkpoint=None,
                      resume=None)
    run.prepare()
    run.conn = SimpleNamespace(address="tcp://test:1", workers=dict)
    run._workers = {"w": 1}
    run.record = search_record("flip", seed=1, workers=1)

    def cand(W_a, W_b, W_c, shape=(2, 2, 2)):
        return tasks.scheme_payload(shape, np.array(W_a), np.array(W_b), np.array(W_c), {"worker": 0, "flips": 5})

    good = strassen()
    Wa, Wb, Wc = (np.array(good.W_a, dtype=np.int64), np.array(good.W_b, dtype=np.int64),
                  np.array(good.W_c, dtype=np.int64))
    broken = Wa.copy()
    broken[0, 0] = 0
    mod2 = Wc.copy()
    mod2[mod2 == -1] = 1  # Strassen with -1 -> 1: valid modulo 2 only
    assert run._accept(cand(broken, Wb, Wc), {}) is None
    assert run._accept(cand(Wa, Wb, mod2), {}) is None  # goal Z: a Z2-only scheme is not a result
    assert run._accept({"format": "algodiscover.scheme/1", "shape": [2, 2, 2], "rank": 7, "W_a": "x"}, {}) is None
    assert run._accept(cand(np.ones((8, 4), int), np.ones((8, 4), int), np.ones((4, 8), int)), {}) is None
    assert run.stats["rejected"] == 4
    sch = run._accept(cand(Wa, Wb, Wc), {"task": "t"})
    assert sch is not None and sch.verify().ok
    assert sch.provenance["cluster"]["address"] == "tcp://test:1"
    assert sch.provenance["completed_by"] == ["flip", "lift"] and sch.provenance["seed"] == 1
    assert run._accept(cand(Wa, Wb, Wc), {}) is None  # the same scheme twice: once


# ------------------------------------------------------------------------------------------- a real cluster
def _walk(path) -> dict:
    """A walker state without its clock readings (walking seconds) and segment count."""
    st = json.loads(path.read_text())
    for k in ("seconds", "levels", "segments"):
        st.pop(k, None)
    return st


def _catalogue(db):
    with Catalog(db, readonly=True) as cat:
        return cat.entries(with_data=True)


def test_flip_search_through_cluster_is_proven_and_catalogued_once(dask_cluster, tmp_path, capsys):
    db = tmp_path / "cat.sqlite"
    rc = main(["discover", "--shape", "3x3x3", "--rank", "23", "--engine", "flip", "--count", "3", "--seed", "11",
               "--cluster", dask_cluster.address, "--db", str(db), "--out", str(tmp_path / "out") + "/"])
    assert rc == 0
    err = capsys.readouterr().err
    assert f"cluster {dask_cluster.address}: 2 worker thread(s)" in err
    rows = _catalogue(db)
    assert len(rows) >= 3  # schemes of a segment that arrive together are all kept
    assert len({e.canonical_key for e in rows}) == len(rows)
    assert all(e.seen == 1 for e in rows)
    for e in rows:
        assert e.scheme().verify().ok and e.rank <= 23
        assert e.provenance["cluster"]["address"] == dask_cluster.address
        assert e.provenance["engine"] == "flip" and e.provenance["seed"] == 11
        assert e.provenance["options"]["lift"] == 3  # the lift rule the walkers used (search.lift.LIFT_VERSION)
    assert len(list((tmp_path / "out").glob("*.json"))) == len(rows)


def test_stop_ends_the_cluster_work_within_seconds_and_keeps_the_walk(dask_cluster, tmp_path):
    """A segment far longer than the test (10^5 kernel calls): only the stop event can end it."""
    ck = tmp_path / "ck"
    t_stop = [None]

    def stop():
        if t_stop[0] is None and search.stats["tasks_submitted"] >= 2:
            t_stop[0] = time.monotonic() + 2.0  # let both segments walk for two seconds
        return t_stop[0] is not None and time.monotonic() >= t_stop[0]

    search = run_cluster("flip", "4x4x4", 40, cluster=dask_cluster.address, seed=3, budget=Budget(count=None),
                         stop=stop, checkpoint=ck, segment_attempts=100_000 * CHUNK)
    found = list(search)
    ended = time.monotonic()
    assert found == []  # rank 40 for <4,4,4> is far below anything known (best known 47)
    assert ended - t_stop[0] < 6.0
    c = dask_cluster.client()
    try:
        deadline = time.monotonic() + 5
        while any(c.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(c.processing().values())  # nothing left running on the cluster
    finally:
        c.close()
    states = [json.loads(p.read_text()) for p in sorted((ck / "walkers").glob("walker-*.json"))]
    assert len(states) == 2 and all(st["attempts"] > 0 for st in states)  # the walked part is kept
    assert search.stats["tasks_partial"] == 2


def test_resume_continues_the_walks_exactly(dask_cluster, tmp_path):
    common = dict(cluster=dask_cluster.address, seed=99, budget=Budget(count=None), segment_attempts=4 * CHUNK,
                  workers=2)
    first = {canonical_key(s) for s in run_cluster("flip", "3x3x3", 23, checkpoint=tmp_path / "a", segments=2,
                                                    **common)}
    resumed = run_cluster("flip", "3x3x3", 23, resume=tmp_path / "a", segments=5, **{**common, "seed": None})
    assert resumed.info["resumed"] == len(first)
    later = {canonical_key(s) for s in resumed}
    whole = {canonical_key(s) for s in run_cluster("flip", "3x3x3", 23, checkpoint=tmp_path / "b", segments=5,
                                                    **common)}
    assert first | later == whole and not (first & later)  # nothing reported twice, nothing missed
    for w in (0, 1):
        a = _walk(tmp_path / "a" / "walkers" / f"walker-{w:03d}.json")
        b = _walk(tmp_path / "b" / "walkers" / f"walker-{w:03d}.json")
        assert a == b and a["attempts"] == 5 * 4 * CHUNK
    for d in ("a", "b"):
        assert json.loads((tmp_path / d / "checkpoint.json").read_text())["flip"]["segments"] == [5, 5]
    assert len(list((tmp_path / "a" / "schemes").glob("*.json"))) == len(whole)


def _walk_manifest(d, shape, rank, **opts) -> dict:
    """The manifest the engine itself writes for a symmetric / GF(3) walk that has not moved yet."""
    list(flip.search(shape, rank, seed=5, budget=Budget(restarts=0, count=None), workers=1, checkpoint=str(d),
                     **opts))
    return json.loads((d / "checkpoint.json").read_text())


@pytest.mark.parametrize("shape, rank, opts", [((3, 3, 3), 23, {"symmetry": "c3"}), ((2, 2, 3), 11, {"field": 3})],
                         ids=["c3", "gf3"])
def test_walk_task_segments_are_the_local_walk(tmp_path, shape, rank, opts):
    """A symmetric or GF(3) walker resumed task after task walks exactly what the local engine walks in one go."""
    from algodiscover.search import flip_sym, gf3
    chunk = gf3.CHUNK if opts.get("field") == 3 else flip_sym.CHUNK
    m = _walk_manifest(tmp_path / "m", shape, rank, **opts)
    spec = json.dumps({"manifest": m, "start": None})

    def walk(segment, total):
        st, keys = None, []
        for _ in range(total // segment):
            out = json.loads(tasks.walk_task(spec, None if st is None else json.dumps(st), 0, segment * chunk))
            assert out["complete"] and out["kind"] == "walk"
            st = out["state"]
            keys += [canonical_key(Scheme(shape, c["W_a"], c["W_b"], c["W_c"])) for c in out["candidates"]]
        for k in ("seconds", "levels"):
            st.pop(k, None)
        return keys, st

    k1, s1 = walk(2, 12)
    k2, s2 = walk(3, 12)
    local = {canonical_key(x) for x in flip.search(shape, rank, seed=5, budget=Budget(count=None), workers=1,
                                                    checkpoint=str(tmp_path / "local"), _attempts_to=12 * chunk,
                                                    **opts)}
    s3 = _walk(tmp_path / "local" / "walkers" / "walker-000.json")
    assert s1 == s2 == s3 and s1["attempts"] == 12 * chunk
    assert k1 == k2 and set(k1) == local and local  # each scheme once, all of the local walk's


def _symmetric_on_the_cluster(dask_cluster, tmp_path, shape, rank, symmetry, seed):
    """``discover --symmetry SYMMETRY`` on the cluster: exit 0, the scheme written is exactly verified at the
    rank asked and its recorded walk replays to it (stops at it); returns its provenance."""
    from algodiscover.formats import load
    out = tmp_path / f"{symmetry}.json"
    rc = main(["discover", "--engine", "flip", "--shape", "x".join(map(str, shape)), "--rank", str(rank),
               "--symmetry", symmetry, "--seed", str(seed), "--cluster", dask_cluster.address, "--no-catalog",
               "--out", str(out)])
    assert rc == 0
    sch = load(out)
    p = sch.provenance
    assert sch.verify().ok and sch.rank == rank
    want = canonical_key(sch)
    assert any(canonical_key(x) == want for x in flip.replay(p, shape=shape, rank=rank))  # stops at it
    return p


def test_symmetric_and_gf3_walks_on_the_cluster(dask_cluster, tmp_path, capsys):
    """--symmetry and --field 3 run on the cluster: proven there, invariant, replayable; a missed target
    says how far the walkers got (mod 3)."""
    p = _symmetric_on_the_cluster(dask_cluster, tmp_path, (3, 3, 3), 23, "c3", 4)
    assert p["strategy"] == "symmetric-c3" and p["invariant"] is True and p["seed"] == 4
    assert p["cluster"]["address"] == dask_cluster.address and p["options"]["workers"] == 2
    capsys.readouterr()
    rc = main(["discover", "--engine", "flip", "--shape", "3x3x3", "--rank", "19", "--field", "3", "--seed", "4",
               "--time-limit", "2", "--cluster", dask_cluster.address, "--no-catalog", "--out", str(tmp_path) + "/"])
    err = capsys.readouterr().err
    assert rc == 1 and "best rank reached" in err and "mod 3" in err
    _best_effort_files(tmp_path, 3, 19)


def _best_effort_files(d, p, rank):
    """A missed target's files (issue 12 point 7): the best modular scheme and the best proven one above."""
    from algodiscover.formats import load
    mod = load(d / f"best-modular-z{p}.json")
    assert mod.verify().ring in (f"Z{p}", "ZT", "Z", "Q") and mod.rank > rank
    above = load(d / "best-above-target.json")
    assert above.verify().ok and above.rank > rank
    assert above.provenance["above_target"] is True and above.provenance["target_rank"] == rank
    assert "address" in above.provenance["cluster"]


def test_a_missed_gf2_target_on_the_cluster_writes_the_best_schemes(dask_cluster, tmp_path, capsys):
    rc = main(["discover", "--engine", "flip", "--shape", "3x3x3", "--rank", "20", "--seed", "2", "--time-limit", "2",
               "--cluster", dask_cluster.address, "--no-catalog", "--out", str(tmp_path) + "/"])
    err = capsys.readouterr().err
    assert rc == 1 and "best rank reached" in err and "mod 2" in err
    _best_effort_files(tmp_path, 2, 20)


def test_t2_walk_on_the_cluster_is_proven_invariant_and_replays(dask_cluster, tmp_path):
    """--symmetry t2 (a non-square shape) on the cluster: the workers resume the walk from the manifest, whose
    symmetry they must take before checking the shape (they checked it against the default c3 and failed)."""
    p = _symmetric_on_the_cluster(dask_cluster, tmp_path, (2, 4, 2), 14, "t2", 3)
    assert p["options"]["symmetry"] == "t2" and "address" in p["cluster"]


def test_a_missed_symmetric_target_on_the_cluster_writes_the_best_schemes(dask_cluster, tmp_path, capsys):
    """c3 reaches <3,3,3>:23 in well under a second; no scheme below 23 is known, so rank 20 is missed: the
    lowest level the walkers kept (their archive) gives both files."""
    rc = main(["discover", "--engine", "flip", "--shape", "3x3x3", "--rank", "20", "--symmetry", "c3", "--seed", "2",
               "--time-limit", "2.5", "--cluster", dask_cluster.address, "--no-catalog", "--out", str(tmp_path) + "/"])
    err = capsys.readouterr().err
    assert rc == 1 and "best rank reached" in err and "mod 2" in err
    _best_effort_files(tmp_path, 2, 20)


def test_gf3_walk_on_the_cluster_resumes_exactly_and_keeps_z3_schemes(dask_cluster, tmp_path):
    from algodiscover.core.verify import verify
    from algodiscover.search import gf3
    common = dict(cluster=dask_cluster.address, seed=21, budget=Budget(count=None), segment_attempts=2 * gf3.CHUNK,
                  workers=2, field=3, ring="Z3")
    first = {canonical_key(s) for s in run_cluster("flip", "2x2x3", 11, checkpoint=tmp_path / "a", segments=2,
                                                    **common)}
    resumed = run_cluster("flip", "2x2x3", 11, resume=tmp_path / "a", segments=4, **{**common, "seed": None})
    assert resumed.info["resumed"] == len(first)
    later = {canonical_key(s) for s in resumed}
    whole = list(run_cluster("flip", "2x2x3", 11, checkpoint=tmp_path / "b", segments=4, **common))
    keys = {canonical_key(s) for s in whole}
    assert first | later == keys and not (first & later) and first
    assert all(verify(s, symbolic=False).ring in ("Z3", "ZT", "Z", "Q") for s in whole)
    for w in (0, 1):
        a = _walk(tmp_path / "a" / "walkers" / f"walker-{w:03d}.json")
        b = _walk(tmp_path / "b" / "walkers" / f"walker-{w:03d}.json")
        assert a == b and a["attempts"] == 4 * 2 * gf3.CHUNK


def test_a_walk_continues_between_local_runs_and_the_cluster(dask_cluster, tmp_path):
    """One checkpoint directory: a local GF(3) run's walkers continue on the cluster, and locally again."""
    from algodiscover.search import gf3
    ck = tmp_path / "ck"

    def attempts():
        return [_walk(ck / "walkers" / f"walker-{w:03d}.json")["attempts"] for w in (0, 1)]
    first = {canonical_key(s) for s in flip.search("2x2x3", 11, seed=8, budget=Budget(time_limit=2, count=None),
                                                    workers=2, field=3, ring="Z3", checkpoint=str(ck))}
    before = attempts()
    on = run_cluster("flip", "2x2x3", 11, cluster=dask_cluster.address, resume=ck, budget=Budget(count=None),
                     segments=2, segment_attempts=2 * gf3.CHUNK)
    assert on.info["resumed"] == len(first) and first
    later = {canonical_key(s) for s in on}
    assert not (first & later)
    mid = attempts()
    assert mid == [b + 2 * 2 * gf3.CHUNK for b in before]  # each walker went on from where it was
    again = {canonical_key(s) for s in flip.search("2x2x3", 11, budget=Budget(time_limit=1, count=None),
                                                    resume=str(ck))}
    assert first | later <= again  # the kept schemes come back first
    assert all(e > m for e, m in zip(attempts(), mid))


def test_spn_worker_killed_mid_run_loses_nothing_and_matches_a_local_run(dask_cluster, tmp_path, capsys):
    """kill -9 of a worker while it trains a range of restarts: the range runs again on the other one,
    and the restart budget gives the same set of schemes as one machine.  (Runs last: it kills a worker.)"""
    pids = dask_cluster.wait_workers(2)
    killed = {}

    def killer():
        c = dask_cluster.client()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in c.processing().items() if any(str(k).startswith("spn-") for k in keys)]
                if busy:
                    time.sleep(0.3)  # mid-task
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed["worker"] = busy[0]
                    return
                time.sleep(0.05)
        finally:
            c.close()

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    db, ck = tmp_path / "cat.sqlite", tmp_path / "ck"
    args = ["discover", "--shape", "2x2x2", "--rank", "7", "--seed", "5", "--restarts", "16", "--batch", "4",
            "--steps", "400", "--count", "1000", "--cluster", dask_cluster.address, "--db", str(db), "--checkpoint", str(ck), "-q"]
    assert main(args) == 0
    th.join(5)
    assert killed, "no worker was busy with an SPN task to kill"
    assert sum(p.poll() is None for p in dask_cluster.workers) == 1
    rows = _catalogue(db)
    keys = [e.canonical_key for e in rows]
    assert len(keys) == len(set(keys)) and all(e.seen == 1 for e in rows)
    assert all(e.scheme().verify().ok for e in rows)
    manifest = json.loads((ck / "checkpoint.json").read_text())
    assert manifest["spn"]["done"] == [[0, 16]]  # every restart range finished, the lost one included
    local = {canonical_key(s) for s in run_search("spn", "2x2x2", 7, seed=5, budget=Budget(restarts=16, count=None),
                                                  batch=4, steps=400, workers=1)}
    assert set(keys) == local


@pytest.mark.slow  # about 5 s: the default selection stays as it was
def test_a_stopped_spn_range_and_flip_segment_end_early_and_lose_nothing():
    """stop= ends run_restarts within a step (what it proved is kept, the restarts it finished counted)
    and run_segment at a whole kernel call (its state continues the same walk)."""
    from algodiscover.search import spn
    from algodiscover.core.verify import verify
    opts = {"strategy": "als", "steps": 400, "batch": 4}
    got, st = [], {}
    part = spn.run_restarts("2x2x2", 7, seed=3, restarts=range(8), options=opts, stop=lambda: bool(got),
                            stats=st, on_scheme=got.append)
    assert len(part) == 1 and got == part and verify(part[0], symbolic=False).ok
    assert 0 <= st["restarts_done"] < 8
    s = parse_shape("3x3x3")
    start = tasks.initial_walker(s, 23, seed=7, walk=0, walkers=1, options={})
    _, ref = flip.run_segment(s, 23, state=start, attempts=4 * CHUNK, options={"workers": 1})
    calls = []
    _, half = flip.run_segment(s, 23, state=start, attempts=4 * CHUNK, options={"workers": 1},
                               stop=lambda: calls.append(1) or len(calls) > 2)
    assert 0 < half["attempts"] < ref["attempts"] == 4 * CHUNK
    _, rest = flip.run_segment(s, 23, state=half, attempts=4 * CHUNK - half["attempts"], options={"workers": 1})
    for d in (ref, rest):
        for k in ("seconds", "levels", "segments"):
            d.pop(k, None)
    assert rest == ref


def test_scratch_dirs_of_killed_tasks_are_removed_by_the_next_task(tmp_path, monkeypatch):
    """A worker killed with SIGKILL leaves its task's scratch directory; the next task on that host removes it
    once it is stale, and never a directory of a live process, one touched recently, or another host's."""
    import os
    import subprocess
    import sys
    import tempfile
    from algodiscover.cluster import tasks
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = []
    for _ in range(2):
        p = subprocess.Popen([sys.executable, "-c", "pass"])
        p.wait()
        dead.append(p.pid)
    host = tasks.scratch_dir("walk").name.split("-")[2]  # as a task names it
    old = tasks.time.time() - 2 * tasks.SCRATCH_STALE_SECONDS

    def mk(name, stale):
        d = tmp_path / name
        (d / "walkers").mkdir(parents=True)
        (d / "walkers" / "walker-000.json").write_text("{}")
        if stale:
            for f in (d / "walkers" / "walker-000.json", d / "walkers", d):
                os.utime(f, (old, old))
        return d

    gone = mk(f"algodiscover-walk-{host}-{dead[0]}-abc", True)
    fresh = mk(f"algodiscover-walk-{host}-{dead[1]}-abc", False)
    live = mk(f"algodiscover-walk-{host}-{os.getppid()}-abc", True)
    other = mk(f"algodiscover-walk-otherhost-{dead[0]}-abc", True)
    resolve = mk(f"algodiscover-resolve-{host}-{dead[0]}-abc", True)  # another kind: its own sweep
    d = tasks.scratch_dir("walk")
    assert d.is_dir() and d.name.startswith(f"algodiscover-walk-{host}-{os.getpid()}-")
    assert not gone.exists()
    assert fresh.exists() and live.exists() and other.exists() and resolve.exists()
    tasks.scratch_dir("resolve")
    assert not resolve.exists()
