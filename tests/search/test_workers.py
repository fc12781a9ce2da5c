"""The worker processes both engines start (search/_workers.py): they never outlive their parent,
and a crash inside one is an internal error whose traceback is kept in a log file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from algodiscover.errors import InternalError
from algodiscover.search import Budget, run_search
from tests.conftest import REPO


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)

psutil = pytest.importorskip("psutil")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # dead, waiting for init to reap it
    except psutil.NoSuchProcess:
        return True


def _start_cli(*args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ALGODISCOVER_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "algodiscover", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)  # its own process group


def _wait_for_children(proc: subprocess.Popen, n: int, timeout: float = 90.0) -> list[int]:
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        kids = [c.pid for c in parent.children(recursive=True)]
        if len(kids) >= n:
            time.sleep(1.0)  # let them get into their loops
            return [c.pid for c in parent.children(recursive=True)]
        time.sleep(0.1)
    raise AssertionError(f"the command did not start {n} workers within {timeout} s")


@pytest.mark.parametrize("engine_args", [
    ["--shape", "3x3x3", "--rank", "23"],
    ["--engine", "flip", "--shape", "5x5x5", "--rank", "93", "--ring", "Z2"],
], ids=["spn", "flip"])
def test_workers_die_with_a_sigkilled_parent(engine_args):
    proc = _start_cli("discover", *engine_args, "--workers", "2", "--time-limit", "60", "--count", "100000",
                      "--no-catalog", "--quiet")
    workers = []
    try:
        workers = _wait_for_children(proc, 2)
        assert len(workers) >= 2
        # a worker ignores SIGINT (the parent decides when Ctrl-C stops it) but ends on SIGTERM
        first, rest = workers[0], workers[1:]
        os.kill(first, signal.SIGINT)
        time.sleep(1.0)
        assert not _gone(first), "a worker must ignore SIGINT"
        os.kill(first, signal.SIGTERM)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and not _gone(first):
            time.sleep(0.1)
        assert _gone(first), "a worker must end on SIGTERM"
        assert proc.poll() is None  # the run goes on with the other worker
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: not its process group
        workers = rest
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not all(_gone(p) for p in workers):
            time.sleep(0.1)
        survivors = [p for p in workers if not _gone(p)]
        assert survivors == [], f"workers {survivors} outlived their SIGKILLed parent"
    finally:
        for pid in [proc.pid, *workers]:  # clean up what this test started, if an assertion failed
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stderr.close()


# ---------------------------------------------------------------- a crashing worker
def _log_named_in(message: str) -> Path:
    m = re.search(r"worker traceback in (\S+?)\)", message)
    assert m, message
    return Path(m.group(1))


def _patch_spn_worker_failure(monkeypatch):
    from algodiscover.search import spn
    real_loop = spn._Run._loop

    def broken(self):  # worker 0 fails at once; worker 1 would search for the whole budget
        if self.offset == 0:
            raise RuntimeError("simulated failure in a worker")
        yield from real_loop(self)

    monkeypatch.setattr(spn._Run, "_loop", broken)  # reaches the workers through fork


def _patch_flip_worker_failure(monkeypatch):
    from algodiscover.search import flip
    real = flip.Walker.run

    def walker(self, *args, **kwargs):  # walker 0 fails at once; walker 1 would walk for the whole budget
        if self.walk == 0:
            raise RuntimeError("simulated failure in a walker")
        yield from real(self, *args, **kwargs)

    monkeypatch.setattr(flip.Walker, "run", walker)


# rank 20 for <3,3,4> and 14 for <3,3,3> are below the proven lower bounds: only the failure ends them
CRASHES = {
    "spn": (_patch_spn_worker_failure, dict(shape="3x3x4", rank=20), "an spn worker failed", "broken"),
    "flip": (_patch_flip_worker_failure, dict(shape="3x3x3", rank=14), "a flip-engine worker failed", "walker"),
}


@pytest.mark.parametrize("engine", sorted(CRASHES))
def test_a_crashing_worker_is_an_internal_error_with_its_traceback_logged(engine, monkeypatch, tmp_path):
    patch, problem, prefix, frame = CRASHES[engine]
    patch(monkeypatch)
    t0 = time.monotonic()
    with pytest.raises(InternalError, match=prefix + ": RuntimeError: simulated failure") as info:
        list(run_search(engine, problem["shape"], problem["rank"], seed=0, workers=2,
                        budget=Budget(time_limit=40, count=None)))
    assert time.monotonic() - t0 < 20  # the failure stopped the other worker too
    log = _log_named_in(str(info.value))
    assert log.parent == tmp_path / "logs"  # $ALGODISCOVER_LOG_DIR (set by conftest)
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: simulated failure" in text
    assert f"in {frame}" in text  # the frame that raised, inside the worker


@pytest.mark.parametrize("engine", sorted(CRASHES))
def test_cli_reports_a_crashing_worker_with_exit_3_and_one_line(engine, monkeypatch, tmp_path, capsys):
    from algodiscover.cli import main
    patch, problem, prefix, _ = CRASHES[engine]
    patch(monkeypatch)
    monkeypatch.delenv("ALGODISCOVER_DEBUG", raising=False)
    args = ["discover", "--engine", engine, "--shape", problem["shape"], "--rank", str(problem["rank"]),
            "--force", "--workers", "2", "--seed", "0", "--time-limit", "40", "--no-catalog", "--quiet"]
    assert main(args) == 3  # an internal error, not bad input (2)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "internal error" in err[0] and prefix in err[0], err
    assert "simulated failure" in _log_named_in(err[0]).read_text()


def test_a_worker_killed_by_a_signal_is_an_internal_error(monkeypatch):
    from algodiscover.search import flip
    real = flip.Walker.run

    def walker(self, *args, **kwargs):
        if self.walk == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        yield from real(self, *args, **kwargs)

    monkeypatch.setattr(flip.Walker, "run", walker)
    with pytest.raises(InternalError, match=r"worker 1 \(pid \d+\) was killed by signal SIGKILL"):
        list(run_search("flip", "3x3x3", 14, seed=0, workers=2, budget=Budget(time_limit=30, count=None)))


# ---------------------------------------------------------------- the helpers themselves
WATCHED = r"""
import os, sys, time
from algodiscover.search._workers import die_with_parent
parent = os.getpid()
pid = os.fork()
if pid == 0:
    die_with_parent(parent, deathsig=False)  # the portable watcher alone, no PR_SET_PDEATHSIG
    while True:
        time.sleep(0.05)
print(pid, flush=True)
time.sleep(600)
"""


def test_the_portable_watcher_alone_ends_an_orphan():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", WATCHED], env=env, stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(p.stdout.readline())
        time.sleep(0.3)
        assert not _gone(child)
        p.kill()
        p.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not _gone(child):
            time.sleep(0.05)
        assert _gone(child)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)
        p.stdout.close()


def _raises_at_once(out_queue, stop_event):
    raise ValueError("boom outside the engine's handler")


def test_an_exception_that_escapes_the_target_is_an_internal_error_with_a_log():
    from algodiscover.search._workers import receive, start_workers, stop_workers
    procs, q, stop_event = start_workers(_raises_at_once, lambda w: (), 2)
    try:
        with pytest.raises(InternalError, match=r"search worker \d failed: ValueError: boom") as info:
            for _ in receive(procs, q, stop_event, lambda: False):
                pass
    finally:
        stop_workers(procs, q, stop_event)
    assert "boom outside" in _log_named_in(str(info.value)).read_text()


def test_workers_stop_at_the_count_while_the_consumer_holds_the_search():
    """A notebook takes next() of a search and moves on: the workers stop once the count is reached
    rather than search on unseen until the time limit."""
    from algodiscover.search import spn
    it = spn.search("2x2x2", 7, seed=0, workers=2, budget=Budget(count=1, time_limit=120))
    try:
        s = next(iter(it))
        assert s.verify(symbolic=False).ok
        # the workers stop searching: they exit, or wait idle (a worker whose last messages the suspended
        # consumer has not read yet cannot flush its queue; it dies with its parent, see above)
        def cpu(c):
            try:
                t = c.cpu_times()
                return t.user + t.system
            except psutil.Error:
                return None

        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            kids = [c for c in psutil.Process().children() if not _gone(c.pid)]
            before = {c.pid: cpu(c) for c in kids}
            time.sleep(1.0)
            busy = [c.pid for c in kids if before[c.pid] is not None and cpu(c) is not None
                    and cpu(c) - before[c.pid] > 0.2]
            if not busy:
                break
        assert busy == [], "workers still searching while the generator is suspended"
    finally:
        it.close()


def test_both_engines_default_workers_the_same_way(monkeypatch):
    """Issue 10 point 19: one default for --workers: all cores from m*k*n = 24, one process below."""
    from algodiscover.search import _workers, flip
    monkeypatch.setattr(_workers, "available_cores", lambda: 7)
    assert _workers.default_workers((2, 2, 2)) == 1 and _workers.default_workers((2, 3, 4)) == 7
    assert _workers.default_workers((3, 3, 3), device="cuda") == 1
    from algodiscover.core.shape import parse_shape
    # the flip engine resolves its recorded options through the same function
    assert flip.resolve_options(parse_shape("2x2x2"), 7)["workers"] == 1
    assert flip.resolve_options(parse_shape("3x3x3"), 23)["workers"] == 7
