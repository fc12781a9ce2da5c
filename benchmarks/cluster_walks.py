"""The symmetric and GF(3)/ZT walks on a Dask LocalCluster against the same walks in local walker processes.

    python benchmarks/cluster_walks.py --workers 2 --time 45 --runs 2

Cases (each run pairs both modes with the same seed and wall-clock limit, alternating which goes first):

- ``c3``: <5,5,5>:93 mod 2, ``--symmetry c3`` (Moosbauer & Poole's diagonal cubes), orbit flips;
- ``zt``: <4,4,5>:61, ``--field 3 --ternary`` from the standard algorithm, GF(3) flips.

Local: ``flip.search(..., workers=W)`` (``search._parallel``: W forked walker processes).  Cluster:
``run_cluster`` on the LocalCluster ``--cluster local:W`` starts (started once, its workers warmed: the numba
kernels loaded), walkers in segments of ``tasks.walk_task``.  Walker w walks the same walk in both modes, so
the ratio of flips per wall-clock second is the cost of the cluster path (client set-up, segment boundaries,
state round trips).  Results: ``benchmarks/results/cluster-walks.md`` and ``.json``, with the machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402

CASES = {"c3": ("5x5x5", 93, {"symmetry": "c3", "ring": "Z2"}),
         "zt": ("4x4x5", 61, {"field": 3, "ternary": True})}


def _load():
    return [round(x, 2) for x in os.getloadavg()]


def run_local(case, seconds, seed, workers):
    from algodiscover.search import Budget, flip
    shape, rank, opts = CASES[case]
    t0 = time.monotonic()
    it = flip.search(shape, rank, seed=seed, budget=Budget(time_limit=seconds, count=None), workers=workers, **opts)
    n = sum(1 for _ in it)
    wall = time.monotonic() - t0
    st = it.stats
    return {"flips": int(st.get("flips", 0)), "seconds": round(wall, 2), "rate": st.get("flips", 0) / wall,
            "best_rank": st.get("best_rank"), "proven": n}


def run_on_cluster(case, seconds, seed, client, workers):
    from algodiscover.cluster import run_cluster
    from algodiscover.search import Budget
    shape, rank, opts = CASES[case]
    t0 = time.monotonic()
    it = run_cluster("flip", shape, rank, cluster=client, seed=seed, budget=Budget(time_limit=seconds, count=None),
                     workers=workers, **opts)
    n = sum(1 for _ in it)
    wall = time.monotonic() - t0
    st = it.stats
    return {"flips": int(st.get("flips", 0)), "seconds": round(wall, 2), "rate": st.get("flips", 0) / wall,
            "best_rank": st.get("best_rank"), "proven": n, "tasks": st.get("tasks_done")}


def _warm():
    from algodiscover.search import flip_sym, gf3, gf3kernel
    flip_sym.warm_up()
    gf3.warm_up()
    gf3kernel.warm_up()
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time", type=float, default=45.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args(argv)
    info = machine()
    cmd = "python benchmarks/cluster_walks.py " + " ".join(sys.argv[1:] if argv is None else argv)
    _warm()
    from algodiscover.cluster.connect import connect
    t0 = time.monotonic()
    conn = connect(f"local:{args.workers}")
    client = conn.client
    client.run(_warm)
    print(f"LocalCluster of {args.workers} up and warmed in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    rows = []
    try:
        for case in args.cases:
            for run in range(args.runs):
                seed = args.seed + run
                order = ("local", "cluster") if run % 2 == 0 else ("cluster", "local")
                got = {}
                for mode in order:
                    load = _load()
                    r = (run_local(case, args.time, seed, args.workers) if mode == "local"
                         else run_on_cluster(case, args.time, seed, client, args.workers))
                    got[mode] = {**r, "load_before": load}
                    print(f"{case} run {run} {mode}: {r}", file=sys.stderr)
                rows.append({"case": case, "run": run, "seed": seed, "order": list(order), **got,
                             "ratio": got["cluster"]["rate"] / got["local"]["rate"] if got["local"]["rate"] else None})
    finally:
        conn.close()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "cluster-walks.json").write_text(json.dumps({"command": cmd, "machine": info, "rows": rows}, indent=1))
    lines = ["# Symmetric and GF(3)/ZT walks: Dask LocalCluster vs local walker processes", "",
             f"Command: `{cmd}`", "", f"Machine: {describe(info)}", "",
             f"{args.workers} walkers in both modes, {args.time:.0f} s per run, same seed per pair, order alternating; "
             "flips/s = the walkers' flips (orbit flips for c3) per wall-clock second of the whole call.", "",
             "| case | run | seed | local flips/s | cluster flips/s | cluster/local | best rank local / cluster | "
             "cluster tasks | load before (local, cluster) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['run']} | {r['seed']} | {r['local']['rate']:.3g} | {r['cluster']['rate']:.3g} | "
                     f"{r['ratio']:.3f} | {r['local']['best_rank']} / {r['cluster']['best_rank']} | "
                     f"{r['cluster'].get('tasks')} | {r['local']['load_before'][0]}, {r['cluster']['load_before'][0]} |")
    for case in args.cases:
        rs = [r["ratio"] for r in rows if r["case"] == case and r["ratio"]]
        if rs:
            lines.append("")
            lines.append(f"{case}: median cluster/local {statistics.median(rs):.3f} over {len(rs)} run(s).")
    (out / "cluster-walks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
