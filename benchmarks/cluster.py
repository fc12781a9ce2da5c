"""The cost of the cluster path: the same search on local engine processes and on a Dask LocalCluster
of the same size (``threads_per_worker=1``), paired and interleaved.

    python benchmarks/cluster.py --workers 2 --time 120 --runs 3

Per run (pair) and per case, both modes run with the same seed and the same wall-clock limit, in
alternating order (local first in odd runs, cluster first in even ones):

- ``spn``: distinct proven <3,3,3>:23 per second (the default strategy; restarts cut into tasks of
  eight batches on the cluster, strided over ``--workers`` processes locally), and beside it restarts
  finished per second: both modes use the same seed, so they train the same restarts (restart j
  depends on (seed, j) alone) and the ratio of restarts/s is the throughput ratio, without the
  noise of which restarts happen to succeed;
- ``flip``: flips per second walking <4,4,4>:47 (kernel flips counted by the walkers themselves).

The LocalCluster (the one ``discover --cluster local:N`` starts) is started once, before the first timed window (its start-up is reported apart),
and its workers are warmed up (torch and both numba kernels loaded, the SPN compute processes started
and run once), as the local engine's processes fork from a parent that has loaded them (and run one
tiny SPN range).  Rates are per wall-clock second of the whole call (start,
walk/train, stop, last results proven).  Overhead = 1 - median(cluster / local).  Results:
``benchmarks/results/cluster.md`` and ``.json``, with the machine and its load.
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

CASES = {"spn": ("3x3x3", 23), "flip": ("4x4x4", 47)}


def _load():
    return [round(x, 2) for x in os.getloadavg()]


def spn_local(seconds, seed, workers):
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import Budget, run_search
    t0 = time.monotonic()
    it = run_search("spn", CASES["spn"][0], CASES["spn"][1], seed=seed, budget=Budget(time_limit=seconds, count=None),
                    workers=workers)
    keys = {canonical_key(s) for s in it}
    wall = time.monotonic() - t0
    done = it.stats.get("restarts_done") or 0
    return {"distinct": len(keys), "seconds": round(wall, 2), "rate": len(keys) / wall,
            "restarts": done, "restarts_rate": done / wall}


def spn_cluster(seconds, seed, client):
    from algodiscover.cluster import run_cluster
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import Budget
    t0 = time.monotonic()
    it = run_cluster("spn", CASES["spn"][0], CASES["spn"][1], cluster=client, seed=seed,
                     budget=Budget(time_limit=seconds, count=None))
    keys = {canonical_key(s) for s in it}
    wall = time.monotonic() - t0
    st = it.stats
    done = st.get("restarts_done") or 0
    return {"distinct": len(keys), "seconds": round(wall, 2), "rate": len(keys) / wall,
            "restarts": done, "restarts_rate": done / wall, "tasks": st.get("tasks_done"),
            "partial": st.get("tasks_partial")}


def flip_local(seconds, seed, workers):
    """The flip engine's own processes; their cumulative flip counts are read from the progress
    messages they send (the engine's progress line shows only the rate)."""
    from algodiscover.search import Budget, flip
    last: dict[int, int] = {}
    orig = flip.receive

    def tap(*a, **k):
        for ev in orig(*a, **k):
            if ev[0] == "progress":
                last[ev[1].get("walk", ev[1].get("worker"))] = ev[1]["flips"]
            yield ev

    flip.receive = tap
    try:
        t0 = time.monotonic()
        n = sum(1 for _ in flip.search(CASES["flip"][0], CASES["flip"][1], seed=seed, workers=workers,
                                       budget=Budget(time_limit=seconds, count=None)))
        wall = time.monotonic() - t0
    finally:
        flip.receive = orig
    flips = sum(last.values())
    return {"flips": flips, "seconds": round(wall, 2), "rate": flips / wall, "proven": n}


def flip_cluster(seconds, seed, client, workers):
    from algodiscover.cluster import run_cluster
    from algodiscover.search import Budget
    t0 = time.monotonic()
    it = run_cluster("flip", CASES["flip"][0], CASES["flip"][1], cluster=client, seed=seed, workers=workers,
                     budget=Budget(time_limit=seconds, count=None))
    n = sum(1 for _ in it)
    wall = time.monotonic() - t0
    st = it.stats
    return {"flips": st.get("flips", 0), "seconds": round(wall, 2), "rate": st.get("flips", 0) / wall, "proven": n,
            "tasks": st.get("tasks_done"), "partial": st.get("tasks_partial")}


def _warm():
    """Load torch and both numba kernels here (the local engine's processes fork from this one; on
    a worker, its flip tasks run here) and start the worker's SPN compute processes."""
    import torch  # noqa: F401
    from algodiscover.search import flipkernel, gf2
    gf2.warm_up()
    flipkernel.warm_up()
    torch.set_num_threads(1)
    try:
        from distributed import get_worker
        get_worker()
    except Exception:
        return os.getpid()
    from algodiscover.cluster.tasks import prestart_compute
    prestart_compute()
    return os.getpid()


WARM_SPN = {"steps": 20, "batch": 4}  # a tiny SPN run: the first torch calls, outside the timed windows


def _warm_spn_local():
    from algodiscover.search import spn
    spn.run_restarts(CASES["spn"][0], CASES["spn"][1], seed=1, restarts=range(4), options=WARM_SPN)


def _warm_spn_cluster(client):
    """One tiny SPN task on every worker, in its compute process (started by _warm)."""
    from algodiscover.cluster.tasks import identity, spn_task
    spec = json.dumps({"shape": [3, 3, 3], "rank": CASES["spn"][1], "seed": 1, "options": WARM_SPN,
                       "expect": identity()})
    futs = [client.submit(spn_task, spec, 0, 4, None, None, key=f"warm-spn-{i}", pure=False, workers=[w])
            for i, w in enumerate(client.nthreads())]
    client.gather(futs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time", type=float, default=120.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", nargs="+", default=["spn", "flip"], choices=sorted(CASES))
    ap.add_argument("--tag", default="")
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    from algodiscover.cluster.connect import connect
    info = machine()
    _warm()
    t0 = time.monotonic()
    conn = connect(f"local:{args.workers}")  # the LocalCluster `discover --cluster local:N` starts
    client = conn.client
    client.wait_for_workers(args.workers)
    startup = time.monotonic() - t0
    client.run(_warm)
    _warm_spn_local()
    _warm_spn_cluster(client)
    warm = time.monotonic() - t0 - startup
    print(f"LocalCluster of {args.workers} up in {startup:.1f} s, warmed in {warm:.1f} s", file=sys.stderr)
    runs = []
    try:
        for i in range(args.runs):
            seed = 1000 + i
            order = ["local", "cluster"] if i % 2 == 0 else ["cluster", "local"]
            for case in args.cases:
                row = {"run": i + 1, "case": case, "seed": seed, "order": order}
                for mode in order:
                    la = _load()
                    if case == "spn":
                        r = spn_local(args.time, seed, args.workers) if mode == "local" else \
                            spn_cluster(args.time, seed, client)
                    else:
                        r = flip_local(args.time, seed, args.workers) if mode == "local" else \
                            flip_cluster(args.time, seed, client, args.workers)
                    r["load_before"], r["load_after"] = la, _load()
                    row[mode] = r
                    print(f"run {i + 1} {case} {mode}: {r}", file=sys.stderr)
                row["ratio"] = row["cluster"]["rate"] / row["local"]["rate"] if row["local"]["rate"] else None
                runs.append(row)
    finally:
        conn.close()
    summary = {}
    for case in args.cases:
        rows = [r for r in runs if r["case"] == case]
        ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
        summary[case] = {"local_median": statistics.median(r["local"]["rate"] for r in rows),
                         "cluster_median": statistics.median(r["cluster"]["rate"] for r in rows),
                         "ratio_median": statistics.median(ratios) if ratios else None}
        if ratios:
            summary[case]["overhead"] = 1 - summary[case]["ratio_median"]
        if case == "spn":  # the same seed in both modes: the same restarts, so this is the throughput
            rr = [r["cluster"]["restarts_rate"] / r["local"]["restarts_rate"] for r in rows
                  if r["local"].get("restarts_rate")]
            summary[case]["restarts_ratio_median"] = statistics.median(rr) if rr else None
            summary[case]["restarts_local_median"] = statistics.median(r["local"]["restarts_rate"] for r in rows)
            summary[case]["restarts_cluster_median"] = statistics.median(r["cluster"]["restarts_rate"] for r in rows)
    cmd = "python benchmarks/cluster.py " + " ".join(sys.argv[1:] if argv is None else argv)
    out = {"machine": info, "command": cmd, "workers": args.workers, "seconds": args.time, "note": args.note,
           "cluster_startup_s": round(startup, 2), "cluster_warmup_s": round(warm, 2), "runs": runs,
           "summary": summary, "load_at_end": _load()}
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    name = "cluster" + (f"-{args.tag}" if args.tag else "")
    (res / f"{name}.json").write_text(json.dumps(out, indent=1))
    unit = {"spn": "distinct proven <3,3,3>:23 per s", "flip": "flips per s, <4,4,4>:47"}
    lines = [f"# Cluster path vs local processes ({name})", "",
             f"Machine: {describe(info)}; load average at end {out['load_at_end']}.", "",
             f"Command: `{cmd}`", "",
             f"{args.workers} local engine processes vs a Dask LocalCluster of {args.workers} workers "
             f"(threads_per_worker=1), {args.runs} paired runs of {args.time:g} s, order alternating; "
             f"LocalCluster start-up {startup:.1f} s and warm-up {warm:.1f} s (not in the timed windows).", ""]
    if args.note:
        lines += [args.note, ""]
    lines += ["| case | unit | local (median) | cluster (median) | cluster/local (median of pairs) | overhead |",
              "|---|---|---|---|---|---|"]
    for case, s in summary.items():
        ov = s.get("overhead")
        ratio = "n/a" if s["ratio_median"] is None else f"{s['ratio_median']:.3f}"
        lines.append(f"| {case} | {unit[case]} | {s['local_median']:.4g} | {s['cluster_median']:.4g} | "
                     f"{ratio} | {'' if ov is None else f'{100 * ov:.1f} %'} |")
    if "spn" in summary and summary["spn"].get("restarts_ratio_median") is not None:
        sp = summary["spn"]
        lines.append(f"| spn | restarts finished per s (same seed: same restarts) | {sp['restarts_local_median']:.4g} | "
                     f"{sp['restarts_cluster_median']:.4g} | {sp['restarts_ratio_median']:.3f} | "
                     f"{100 * (1 - sp['restarts_ratio_median']):.1f} % |")
    lines += ["", "| run | case | order | local rate | cluster rate | ratio | spn restarts/s local / cluster (ratio) "
              "| load before local / cluster |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.3f}"
        rs = ""
        if r["case"] == "spn" and r["local"].get("restarts_rate"):
            rs = (f"{r['local']['restarts_rate']:.3g} / {r['cluster']['restarts_rate']:.3g} "
                  f"({r['cluster']['restarts_rate'] / r['local']['restarts_rate']:.3f})")
        lines.append(f"| {r['run']} | {r['case']} | {' then '.join(r['order'])} | {r['local']['rate']:.4g} | "
                     f"{r['cluster']['rate']:.4g} | {ratio} | {rs} | {r['local']['load_before']} / "
                     f"{r['cluster']['load_before']} |")
    lines += ["", "Figures were taken on a machine shared with other jobs (see the load averages): they are "
              "ratios within one run, not absolute speeds."]
    (res / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
