"""Several processes adding to one catalogue at once: nothing lost, nothing twice, and how fast.

Each of P processes adds N schemes (random group images of Strassen, all distinct, pre-verified) through
the batched CatalogWriter, plus a shared block of D schemes that every process adds (duplicates).
Writes benchmarks/results/catalog_concurrency.md and .json.
Run:  python benchmarks/catalog_concurrency.py [--procs 4] [--per-proc 200] [--shared 50] [--batch 16]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

from algodiscover import Scheme  # noqa: E402
from algodiscover.catalog import Catalog, CatalogWriter  # noqa: E402
from algodiscover.core.canonical import canonical_key  # noqa: E402
from algodiscover.symmetry import random_element  # noqa: E402

STRASSEN = dict(
    W_a=[[1, 0, 0, 1], [0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 0, 0], [-1, 0, 1, 0], [0, 1, 0, -1]],
    W_b=[[1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, -1], [-1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]],
    W_c=[[1, 0, 0, 1, -1, 0, 1], [0, 0, 1, 0, 1, 0, 0], [0, 1, 0, 1, 0, 0, 0], [1, -1, 1, 0, 0, 1, 0]])


def schemes(seed: int, count: int) -> list[Scheme]:
    rng = np.random.default_rng(seed)
    s = Scheme((2, 2, 2), **STRASSEN)
    out = []
    for _ in range(count):
        t = random_element(s.shape, rng, rational=True, rank=7).apply(s)
        t.verify(symbolic=False)
        out.append(t)
    return out


def worker(args):
    db, seed, count, shared, batch, barrier = args
    mine = schemes(seed, count) + schemes(10_000, shared)
    barrier.wait()  # start writing together
    t0 = time.perf_counter()
    w = CatalogWriter(db, batch_size=batch, interval=3600)
    for s in mine:
        w.add(s)
    w.close()
    return time.perf_counter() - t0, w.added, w.duplicates, w.failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--per-proc", type=int, default=200)
    ap.add_argument("--shared", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "bench.sqlite")
        Catalog(db).close()
        ctx = mp.get_context("spawn")
        with ctx.Manager() as mgr:
            barrier = mgr.Barrier(a.procs)
            t0 = time.perf_counter()
            with ctx.Pool(a.procs) as pool:
                res = pool.map(worker, [(db, 1 + i, a.per_proc, a.shared, a.batch, barrier) for i in range(a.procs)])
            wall = time.perf_counter() - t0
        expected = {canonical_key(s) for i in range(a.procs) for s in schemes(1 + i, a.per_proc)}
        expected |= {canonical_key(s) for s in schemes(10_000, a.shared)}
        with Catalog(db) as cat:
            rows = cat.entries()
            keys = [e.canonical_key for e in rows]
            seen = sum(e.seen for e in rows)
    total_adds = a.procs * (a.per_proc + a.shared)
    result = {
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 CPU cores shared with other processes: rates are lower bounds"},
        "params": vars(a),
        "rows": len(rows), "expected_distinct": len(expected), "duplicate_rows": len(keys) - len(set(keys)),
        "lost": len(expected - set(keys)), "adds_counted": seen, "adds_made": total_adds,
        "writer_seconds": [round(r[0], 2) for r in res], "failed": sum(r[3] for r in res),
        "adds_per_second_all_processes": round(total_adds / max(r[0] for r in res), 1),
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "catalog_concurrency.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# Catalogue: several processes adding at once",
        "",
        f"Produced by `python benchmarks/catalog_concurrency.py --procs {a.procs} --per-proc {a.per_proc} "
        f"--shared {a.shared} --batch {a.batch}` on {result['machine']['node']} ({result['machine']['cpus']} CPUs, "
        f"shared with other processes: rates are lower bounds).",
        "",
        f"- {a.procs} processes, each adding {a.per_proc} own schemes and the same {a.shared} shared ones "
        f"(rational images of Strassen; batches of {a.batch}, one `BEGIN IMMEDIATE` transaction each)",
        f"- rows: **{len(rows)}** of {len(expected)} distinct expected; lost **{result['lost']}**; "
        f"duplicate rows **{result['duplicate_rows']}**; adds counted {seen} of {total_adds}; failed {result['failed']}",
        f"- writer time per process (fingerprint + canonical key + SQLite, after the schemes were proven): "
        f"{result['writer_seconds']} s; {result['adds_per_second_all_processes']} adds/s over all processes",
    ]
    (out / "catalog_concurrency.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
