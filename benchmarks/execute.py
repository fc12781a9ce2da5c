"""Executors against BLAS: square and rectangular sizes, float32/float64, numpy/torch, 1 and 2 threads.

Ours and the backend's own matmul are timed paired and interleaved in one process (the order flips each
repetition), median of 5 (3 at n >= 8192).  Writes benchmarks/results/execute[-NAME].md and .json.

    python benchmarks/execute.py                                  # the full table (long: run it in the background)
    python benchmarks/execute.py --sizes 4096 --dtypes float64 --threads 1 --backends numpy --name key
    python benchmarks/execute.py --list                           # the candidates
    python benchmarks/execute.py --continue                       # run only the cells missing from execute.json

When benchmarking, unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the command alone
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/execute.py ...``); the file records
both variables and the BLAS kernel threadpoolctl reports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks._machine import describe, machine  # noqa: E402

SQUARE = [1024, 2048, 4096]
BIG = [8192]
RECT = [(3001, 2999, 3003), (4096, 1024, 4096), (8192, 2048, 1024)]


def candidates():
    """name -> (description, factory returning (schemes, executor kwargs))."""
    from algodiscover import load
    from algodiscover.examples import laderman, strassen, winograd
    from algodiscover.execute.optimize import optimize

    def opt(path, seconds):
        def make():
            res = optimize(load(HERE.parent / path), seconds=seconds)
            from algodiscover.execute import attach_programs
            attach_programs(res.scheme, res.programs)
            return res.scheme
        return make

    c = {}
    for L in (1, 2, 3):
        c[f"strassen-L{L}"] = (f"Strassen 1969 form (18 additions), {L} level(s)", lambda L=L: (strassen(), dict(levels=L, cutoff=1)))
        c[f"winograd-L{L}"] = (f"Winograd 1971 form (15 additions), {L} level(s)", lambda L=L: (winograd(), dict(levels=L, cutoff=1)))
    c["winograd-auto"] = ("Winograd form, levels=None (tuned cutoff if cached, else default)", lambda: (winograd(), {}))
    c["results222-opt-L2"] = ("results/2x2x2-r7.json after `algodiscover optimize` (15), 2 levels",
                              lambda: (opt("results/2x2x2-r7.json", 2)(), dict(levels=2, cutoff=1)))
    c["laderman-L1"] = ("Laderman 1976 <3,3,3>:23, 1 level", lambda: (laderman(), dict(levels=1, cutoff=1)))
    c["winograd-laderman"] = ("Winograd at level 0, Laderman at level 1 (compile([s1, s2]))",
                              lambda: ([winograd(), laderman()], dict(cutoff=1)))
    c["winograd-pad-L2"] = ("Winograd form, 2 levels, zero padding instead of peeling",
                            lambda: (winograd(), dict(levels=2, cutoff=1, fringe="pad")))
    c["winograd-program-L2"] = ("Winograd form, 2 levels, numpy ufunc programs instead of fused numba kernels",
                                lambda: (winograd(), dict(levels=2, cutoff=1, mode="program")))
    return c


DEFAULT_CANDIDATES = ["strassen-L1", "strassen-L2", "winograd-L1", "winograd-L2", "results222-opt-L2",
                      "laderman-L1", "winograd-pad-L2", "winograd-program-L2"]
BEST_TWO = ["winograd-L3", "winograd-L2"]  # the two best at 8192 in execute-key8192*.md


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=None, help="comma list of N or PxQxS (default: the full table)")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--backends", default="numpy,torch")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--candidates", default=None, help="comma list (default: all for n <= 4096, the best two above)")
    ap.add_argument("--repeats", type=int, default=None, help="default 5, 3 at n >= 8192")
    ap.add_argument("--name", default=None, help="results file suffix: execute-NAME.md/json")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--continue", dest="cont", action="store_true",
                    help="keep the rows already in the results file and run only the missing cells (a long table "
                         "measured over several sittings; each row records its own load and time)")
    args = ap.parse_args(argv)
    cands = candidates()
    if args.list:
        for k, (d, _) in cands.items():
            print(f"{k:22} {d}")
        return 0
    from algodiscover.execute import Executor
    from algodiscover.execute.bench import bench, environment_notes, parse_sizes
    if args.sizes:
        sizes = parse_sizes(args.sizes)
    else:
        sizes = [(n, n, n) for n in SQUARE + BIG] + RECT
    names = args.candidates.split(",") if args.candidates else None
    for n in names or []:
        if n not in cands:
            ap.error(f"unknown candidate {n!r}; see --list")
    dtypes = args.dtypes.split(",")
    backends = args.backends.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    info = machine()
    env_start = environment_notes()
    command = "python " + " ".join([str(Path(sys.argv[0]))] + sys.argv[1:])
    built = {}
    rows = []
    done = set()
    out_json = HERE / "results" / (f"execute-{args.name}.json" if args.name else "execute.json")
    out_md = out_json.with_suffix(".md")
    t_start = time.time()
    if args.cont and out_json.exists():
        prev = json.loads(out_json.read_text())
        rows = prev["rows"]
        done = {_cell(r) for r in rows}
        command = prev["command"] + " ; continued: " + command
        print(f"continuing {out_json}: {len(rows)} rows kept", flush=True)

    def save(final=False):
        data = {"command": command, "machine": info, "environment_at_start": env_start,
                "environment_now": environment_notes(), "rows": rows, "complete": final,
                "seconds": round(time.time() - t_start, 1)}
        out_json.write_text(json.dumps(data, indent=1))
        out_md.write_text(markdown(data))

    for (p, q, s) in sizes:
        big = max(p, q, s) >= 8192
        use = names or (BEST_TWO if big else DEFAULT_CANDIDATES)
        reps = args.repeats or (3 if big else 5)
        for backend in backends:
            for dtype in dtypes:
                for th in threads:
                    for name in use:
                        if backend == "torch" and ("program" in name or "pad" in name):
                            continue  # numpy-only variants
                        if (name, (p, q, s), dtype, backend, th) in done:
                            continue
                        key = (name, backend)
                        if key not in built:
                            schemes, kw = cands[name][1]()
                            built[key] = Executor(schemes, backend=backend, **kw)
                        f = built[key]
                        r = bench(None, [(p, q, s)], dtype=dtype, backend=backend, n_threads=th, repeats=reps,
                                  executor=f)[0]
                        r["candidate"] = name
                        r["loadavg"] = [round(x, 2) for x in os.getloadavg()]
                        rows.append(r)
                        print(json.dumps({k: r.get(k) for k in ("candidate", "size", "dtype", "backend", "threads", "seconds",
                                                                "blas_seconds", "ratio", "cpu_ratio", "max_rel_error")}),
                              flush=True)
                        save()
    save(final=True)
    print(f"wrote {out_md} and {out_json}")
    return 0


def markdown(data) -> str:
    L = ["# Executors against BLAS (issue 13)", "",
         f"Command: `{data['command']}`  ", f"Machine: {describe(data['machine'])} (shared with other jobs, see the load column: "
         "figures are ratios of paired, interleaved runs in one process)  ",
         f"BLAS: {json.dumps(data['environment_at_start']['blas'])}  ",
         f"OPENBLAS_CORETYPE={data['environment_at_start']['OPENBLAS_CORETYPE']}, "
         f"OPENBLAS_L2_SIZE={data['environment_at_start']['OPENBLAS_L2_SIZE']}  ",
         f"Load average at start {data['environment_at_start']['loadavg']}, at end {data['environment_now']['loadavg']}; "
         f"{'complete' if data['complete'] else 'PARTIAL (still running or cut)'}, {data['seconds']} s", "",
         "ratio = BLAS seconds / our seconds (> 1: ours faster); medians of paired runs; max rel error vs the "
         "backend's own product in the same dtype, relative to max|A@B|.", "",
         "CPU ratio = the same with the process's CPU seconds (time descheduled by other users' jobs left out; "
         "with 1 thread the steadier figure on this oversubscribed machine).", "",
         "| candidate | size | dtype | backend | threads | levels | ours s | BLAS s | ratio | ratio per pair | "
         "CPU ratio | CPU ratio per pair | max rel err | load |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["rows"]:
        sz = r["size"] if isinstance(r["size"], int) else "×".join(map(str, r["size"]))
        L.append(f"| {r['candidate']} | {sz} | {r['dtype']} | {r['backend']} | {r['threads']} | {r['levels']} | "
                 f"{r['seconds']:.3f} | {r['blas_seconds']:.3f} | **{r['ratio']:.3f}** | "
                 f"{' '.join(f'{x:.2f}' for x in _pairs(r))} | "
                 f"{r.get('cpu_ratio', float('nan')):.3f} | {' '.join(f'{x:.2f}' for x in r.get('cpu_ratio_per_pair', []))} | "
                 f"{r['max_rel_error']:.1e} | "
                 f"{r['loadavg'][0]} |")
    return "\n".join(L) + "\n"


def _cell(r):
    size = r["size"]
    size = (size, size, size) if isinstance(size, int) else tuple(size)
    return (r["candidate"], size, r["dtype"], r["backend"], r["threads"])


def _pairs(r):
    if "ratio_per_pair" in r:
        return r["ratio_per_pair"]
    return [b / o for b, o in zip(r.get("blas_seconds_all", []), r.get("seconds_all", []))]


if __name__ == "__main__":
    sys.exit(main())
