"""The catalogue survives kill -9 of a writer in the middle of a transaction: nothing committed is lost,
the file is not corrupt, the interrupted batch is all or nothing, and the next writer can add."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

from algodiscover.catalog import Catalog
from algodiscover.core.canonical import canonical_key
from algodiscover.symmetry import random_element
from tests.conftest import REPO

# Adds random images of Strassen in batches of 10, one transaction each.  Before a batch it prints
# "B <keys>", after its commit "C <ids>" (flushed), so the parent knows what is committed.  Each INSERT
# is slowed by 5 ms (test-only wrapper around the connection) so that a kill lands inside a transaction.
WRITER = r"""
import json, sys, time
import numpy as np
from algodiscover.catalog import Catalog
from algodiscover.catalog.store import prepare
from algodiscover.symmetry import random_element
from tests.tests_helpers import strassen_scheme

class SlowInserts:
    def __init__(self, con):
        self._con = con
    def execute(self, sql, *args):
        if sql.lstrip().upper().startswith("INSERT"):
            time.sleep(0.005)
        return self._con.execute(sql, *args)
    def __getattr__(self, name):
        return getattr(self._con, name)

db, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
s = strassen_scheme()
with Catalog(db) as cat:
    cat._con = SlowInserts(cat._con)
    while True:
        batch = [prepare(random_element(s.shape, rng, rank=7).apply(s)) for _ in range(10)]
        print("B " + json.dumps([p.key for p in batch]), flush=True)
        out = cat.add_prepared(batch)
        print("C " + json.dumps([[rid, new, p.key] for (rid, new), p in zip(out, batch)]), flush=True)
"""


def _kill_writer_mid_batch(db, seed: int, commits_before: int):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(seed)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    committed, pending, seen_commits = [], None, 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            kind, payload = line[0], json.loads(line[2:])
            if kind == "C":
                committed += payload
                pending = None
                seen_commits += 1
            else:
                pending = payload
                if seen_commits >= commits_before:
                    time.sleep(0.02)  # inside the ~50 ms transaction of this batch
                    break
        else:
            raise AssertionError("the writer did not commit in time")
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()
    assert p.returncode == -signal.SIGKILL
    return committed, pending


def test_kill_minus_9_mid_transaction_loses_nothing_committed(tmp_path, strassen):
    db = tmp_path / "catalog.sqlite"
    for round_, seed in enumerate((1, 2)):  # two writers killed, one after the other, on the same file
        committed, pending = _kill_writer_mid_batch(db, seed, commits_before=3)
        assert len(committed) >= 30
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = dict(con.execute("SELECT id, canonical_key FROM schemes"))
        finally:
            con.close()
        for rid, new, key in committed:  # every add that had committed is there, as it was reported
            assert rows.get(rid) == key
        # the batch in flight is all or nothing (one transaction)
        in_db = set(rows.values())
        present = [k for k in pending if k in in_db]
        assert len(present) in (0, len(pending)), (round_, len(present))

    # the catalogue still opens, reads and accepts a new scheme
    with Catalog(db) as cat:
        n = cat.count()
        new = random_element(strassen.shape, np.random.default_rng(99), rank=7).apply(strassen)
        rid, was_new = cat.add(new)
        assert was_new and cat.count() == n + 1
        assert cat.get(rid).canonical_key == canonical_key(new)
        for e in cat.entries()[:5]:
            assert cat.get(e.id).scheme().verification.ok  # stored data re-reads and re-proves
