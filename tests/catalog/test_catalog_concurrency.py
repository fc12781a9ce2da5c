"""Several processes adding to one catalogue at once lose nothing and duplicate nothing."""

import subprocess
import sys

import numpy as np

from algodiscover.catalog import Catalog
from algodiscover.core.canonical import canonical_key
from algodiscover.formats import save
from algodiscover.symmetry import random_element

from tests.conftest import REPO

WORKER = r"""
import sys
from algodiscover.catalog import Catalog
from algodiscover.formats import load
db, files = sys.argv[1], sys.argv[2:]
# one small transaction per scheme, to interleave with the other writers as much as possible
with Catalog(db) as cat:
    for f in files:
        cat.add(load(f))
"""


def test_parallel_writers_lose_nothing(tmp_path, strassen):
    rng = np.random.default_rng(11)
    schemes = [random_element(strassen.shape, rng, rank=7).apply(strassen) for _ in range(24)]
    files = [save(s, tmp_path / f"s{i}.json") for i, s in enumerate(schemes)]
    db = tmp_path / "shared.sqlite"
    n_proc = 4
    # each process adds its own share plus the first 6 files, which all of them add (duplicates)
    shares = [files[:6] + files[6 + i::n_proc] for i in range(n_proc)]
    env = {"PYTHONPATH": str(REPO)}
    import os
    env = {**os.environ, **env}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(db), *map(str, share)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for share in shares]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    expected = {canonical_key(s) for s in schemes}
    with Catalog(db) as cat:
        rows = cat.entries()
        assert len(rows) == len(expected)  # nothing lost, nothing twice
        assert {e.canonical_key for e in rows} == expected
        seen = sum(e.seen for e in rows)
    assert seen == sum(len(s) for s in shares)  # every add was counted: new or seen again
