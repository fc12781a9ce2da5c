"""A real Dask cluster on 127.0.0.1: `dask scheduler` and two `dask worker --nthreads 1` processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the cluster tests need dask[distributed] (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalDask:
    """Scheduler and worker processes started from this checkout (PYTHONPATH = the repository)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.env.pop("ALGODISCOVER_DB", None)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
                                     "scheduler")

    def _spawn(self, args, name, env=None):
        log = open(self.tmp / f"{name}.log", "w")
        p = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                             env=env or self.env, cwd=self.tmp, start_new_session=True)
        self.procs.append(p)
        return p

    def add_worker(self, env=None):
        i = len(self.workers)
        p = self._spawn(["worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}",
                         "--death-timeout", "60"], f"worker{i}", env)
        self.workers.append(p)
        return p

    def client(self):
        from distributed import Client
        return Client(self.address, timeout="30s", set_as_default=False)

    def wait_workers(self, n: int, timeout: float = 60.0) -> dict:
        """{worker address: pid} once n workers are connected."""
        c = self.client()
        try:
            c.wait_for_workers(n, timeout=timeout)
            return c.run(os.getpid)
        finally:
            c.close()

    def alive_workers(self) -> list[subprocess.Popen]:
        return [p for p in self.workers if p.poll() is None]

    def close(self):
        for p in self.workers:  # nothing of theirs is kept: no need to wait for a clean exit
            if p.poll() is None:
                p.kill()
        if self.scheduler.poll() is None:
            self.scheduler.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    d = LocalDask(tmp_path_factory.mktemp("dask"))
    try:
        deadline = time.monotonic() + 30
        while True:  # the scheduler is up when its port answers
            try:
                socket.create_connection(("127.0.0.1", d.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or d.scheduler.poll() is not None:
                    raise RuntimeError("dask scheduler did not start: " + (d.tmp / "scheduler.log").read_text())
                time.sleep(0.1)
        d.add_worker()
        d.add_worker()
        d.wait_workers(2)
        yield d
    finally:
        d.close()


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())
