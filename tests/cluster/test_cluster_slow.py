"""Longer cluster checks (``-m slow``): kill -9 during a flip walk, a worker of another version, Ctrl-C of
the `discover` process, and `--cluster local:N`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from algodiscover.cli import main
from algodiscover.cluster import run_cluster
from algodiscover.core.canonical import canonical_key
from algodiscover.search import Budget, flip

from .conftest import REPO, LocalDask
from .test_cluster import _walk

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_cluster(tmp_path):
    import socket
    d = LocalDask(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", d.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and d.scheduler.poll() is None, "scheduler did not start"
                time.sleep(0.1)
        yield d
    finally:
        d.close()


@pytest.mark.parametrize("kind, opts, calls", [("flip", {}, 64), ("walk", {"symmetry": "c3"}, 64)],
                         ids=["gf2", "symmetric"])
def test_flip_worker_killed_mid_segment_gives_the_same_walks(fresh_cluster, tmp_path, kind, opts, calls):
    d = fresh_cluster
    d.add_worker()
    d.add_worker()
    pids = d.wait_workers(2)
    common = dict(cluster=d.address, seed=7, budget=Budget(count=None), segment_attempts=calls * flip.CHUNK,
                  segments=3, workers=2, **opts)
    killed = {}

    def killer():
        c = d.client()
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in c.processing().items() if any(str(k).startswith(f"{kind}-") for k in keys)]
                if busy and c.processing()[busy[0]]:
                    time.sleep(0.5)
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed["w"] = busy[0]
                    return
                time.sleep(0.05)
        finally:
            c.close()

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    with_kill = run_cluster("flip", "3x3x3", 23, checkpoint=tmp_path / "a", **common)
    a = {canonical_key(s) for s in with_kill}
    th.join(5)
    assert killed  # the scheduler ran the lost segment again on the other worker
    d.add_worker()
    d.wait_workers(2)
    b = {canonical_key(s) for s in run_cluster("flip", "3x3x3", 23, checkpoint=tmp_path / "b", **common)}
    assert a == b
    for w in (0, 1):
        sa = _walk(tmp_path / "a" / "walkers" / f"walker-{w:03d}.json")
        sb = _walk(tmp_path / "b" / "walkers" / f"walker-{w:03d}.json")
        assert sa == sb and sa["attempts"] == 3 * calls * flip.CHUNK


def test_a_worker_of_another_version_is_refused(fresh_cluster, tmp_path, capsys):
    stub = tmp_path / "stub" / "algodiscover" / "cluster"
    stub.mkdir(parents=True)
    (stub.parent / "__init__.py").write_text("")
    (stub / "__init__.py").write_text("")
    (stub / "tasks.py").write_text("def identity():\n    return {'version': '0.0.0-other', 'commit': None, "
                                   "'dirty': False}\n")
    env = {**fresh_cluster.env, "PYTHONPATH": str(tmp_path / "stub")}
    fresh_cluster.add_worker(env=env)
    fresh_cluster.wait_workers(1)
    rc = main(["discover", "--shape", "2x2x2", "--rank", "7", "--cluster", fresh_cluster.address, "--no-catalog"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "refusing to run" in err and "0.0.0-other" in err and len(err.strip().splitlines()) == 1


def test_ctrl_c_of_discover_ends_the_cluster_work_and_keeps_what_is_proven(fresh_cluster, tmp_path):
    d = fresh_cluster
    d.add_worker()
    d.add_worker()
    d.wait_workers(2)
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "algodiscover", "discover", "--shape", "3x3x3", "--rank", "23",
                          "--engine", "flip", "--count", "100000", "--cluster", d.address, "--no-catalog",
                          "--out", str(out) + "/"], env=d.env, cwd=REPO, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(out.glob("*.json"))) < 3:
        time.sleep(0.2)
    assert len(list(out.glob("*.json"))) >= 3
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10
    assert p.returncode == 0 and "interrupted; everything proven so far is kept" in err
    c = d.client()
    try:
        t1 = time.monotonic()
        while any(c.processing().values()) and time.monotonic() - t1 < 5:
            time.sleep(0.1)
        assert not any(c.processing().values())
    finally:
        c.close()


def test_local_n_cluster_through_the_cli(tmp_path):
    db = tmp_path / "cat.sqlite"
    rc = main(["discover", "--shape", "2x2x2", "--rank", "7", "--seed", "2", "--restarts", "16", "--batch", "8",
               "--count", "100", "--cluster", "local:2", "--db", str(db), "-q"])
    assert rc == 0
    from algodiscover.catalog import Catalog
    from algodiscover.search import run_search
    with Catalog(db, readonly=True) as cat:
        keys = {e.canonical_key for e in cat.entries()}
    local = {canonical_key(s) for s in run_search("spn", "2x2x2", 7, seed=2, budget=Budget(restarts=16, count=None),
                                                  batch=8, workers=1)}
    assert keys == local
