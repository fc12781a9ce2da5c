"""Flip-graph engine figures: kernel speed, compile/load time, and time to each rank level.

Writes benchmarks/results/flip.md and flip.json (machine named; numbers from this run only)
and saves every proven scheme that reaches a shape's goal rank to results/{m}x{k}x{n}-r{rank}.json.

    python benchmarks/flip.py                         # kernel speed + <3,3,3>:23 over 5 seeds
    python benchmarks/flip.py --shapes 2x2x3 3x3x4 --time 120 --workers 2
    python benchmarks/flip.py --shapes 4x4x4:47:Z2 --time 300   # goal rank and ring per shape

Every time includes start-up: loading (or compiling) the numba kernels and starting workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from algodiscover.core.bounds import best_known_rank  # noqa: E402
from algodiscover.core.shape import Shape, parse_shape  # noqa: E402
from algodiscover.search import Budget, run_search  # noqa: E402


def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"node": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_avg_1min_at_start": load}


def compile_seconds() -> dict:
    """numba start-up in fresh processes: cold (empty cache dir) and warm (the cache just written)."""
    code = "import sys; sys.path.insert(0, %r); from algodiscover.search import gf2, lift; import time; " \
           "t=time.perf_counter(); gf2.warm_up(); print(time.perf_counter()-t)" % str(ROOT)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        out = {}
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out[label] = {"kernel_s": float(r.stdout.strip()), "process_s": time.perf_counter() - t0}
    return out


def kernel_speed(shapes=("3x3x3", "4x4x4", "5x5x5"), seconds=3.0) -> list[dict]:
    """Flips per second of the walk kernel (one thread), from the standard algorithm."""
    from algodiscover.search import gf2
    gf2.warm_up()
    rows = []
    for text in shapes:
        s = parse_shape(text)
        F, r = gf2.standard_bits(s, cap=s.naive_rank + 32)
        state = np.array([12345], dtype=np.uint64)
        counters = np.zeros(4, dtype=np.int64)
        iters, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            r = gf2.walk(F, r, 0, 1 << 18, 20_000, r + 1, state, counters)
            iters += 1 << 18
        dt = time.perf_counter() - t0
        assert gf2.is_valid_mod2(s, F, r)
        rows.append({"shape": text, "seconds": dt, "flips": int(counters[0]), "flips_per_s": counters[0] / dt,
                     "attempts_per_s": iters / dt, "reductions": int(counters[1]), "plus": int(counters[2]),
                     "rank_after": r})
    return rows


def time_to_rank(shape: Shape, goal: int, ring: str, seed: int, workers: int, time_limit: float,
                 save_dir: Path | None, options: dict | None = None) -> dict:
    levels: dict[int, float] = {}
    t0 = time.monotonic()
    last = {}

    def on_progress(p):
        rk = p.extra.get("rank")
        if isinstance(rk, int) and rk not in levels:
            levels[rk] = time.monotonic() - t0
        last["fps"] = p.extra.get("flips/s")

    found = None
    it = run_search("flip", shape, goal, seed=seed, workers=workers, ring=ring,
                    budget=Budget(time_limit=time_limit), on_progress=on_progress, **(options or {}))
    try:
        found = next(it, None)
    finally:
        it.close()
    total = time.monotonic() - t0
    row = {"shape": f"{shape.m}x{shape.k}x{shape.n}", "goal": goal, "ring_goal": ring, "seed": seed,
           "workers": workers, "time_limit": time_limit, "options": options or {},
           "reached": found is not None, "seconds": total if found is not None else None,
           "best_rank_mod2": min(levels) if levels else None,
           "levels": {str(k): round(v, 3) for k, v in sorted(levels.items(), reverse=True)},
           "last_flips_per_s": last.get("fps")}
    if found is not None:
        v = found.verify(symbolic=False)
        row.update(ring=v.ring, rank=found.rank, nnz=found.nnz, max_abs=str(found.max_abs_coefficient))
        if save_dir is not None and (v.ok or ring == "Z2"):
            from algodiscover.formats import save
            tag = "-mod2" if not v.ok else ""
            path = save_dir / f"{shape.m}x{shape.k}x{shape.n}-r{found.rank}{tag}.json"
            if not path.exists():
                save(found, path)
            row["saved"] = str(path.relative_to(ROOT))
    return row


def cli_runs(shape: str, goal: int, seeds: int, workers: int, time_limit: float) -> dict:
    """Fresh `discover` processes: Python start, imports, numba cache load, workers, search,
    lifting, verification and the CLI's own sympy cross-check all inside the wall time."""
    code = "import sys; sys.path.insert(0, %r); from algodiscover.cli import discover_main; sys.exit(discover_main())" % str(ROOT)
    rows = []
    for seed in range(seeds):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code, "--engine", "flip", "--shape", shape, "--rank", str(goal),
                            "--seed", str(seed), "--workers", str(workers), "--time-limit", str(time_limit), "--quiet"],
                           capture_output=True, text=True)
        rows.append({"seed": seed, "rc": r.returncode, "wall_s": time.perf_counter() - t0,
                     "ring": next((ln.split("proven over ")[1].split()[0] for ln in r.stdout.splitlines()
                                   if "proven over " in ln), None)})
    ok = [x["wall_s"] for x in rows if x["rc"] == 0]
    return {"shape": shape, "goal": goal, "workers": workers, "runs": rows, "reached": len(ok),
            "median_wall_s": statistics.median(ok) if ok else None}


def parse_target(text: str):
    parts = text.split(":")
    shape = parse_shape(parts[0])
    goal = int(parts[1]) if len(parts) > 1 and parts[1] else None
    ring = parts[2].upper() if len(parts) > 2 else "Z"
    if goal is None:
        goal = best_known_rank(shape, "mod2" if ring == "Z2" else "integer")
    return shape, goal, ring


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="*", default=[], help="SHAPE[:RANK[:RING]] (default rank: best known integer rank)")
    ap.add_argument("--time", type=float, default=60.0, help="time cap per shape in seconds")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds-333", type=int, default=5, help="seeds for the <3,3,3>:23 figure (0 to skip)")
    ap.add_argument("--skip-kernel", action="store_true")
    ap.add_argument("--name", default="flip", help="results file stem (benchmarks/results/NAME.md/.json)")
    ap.add_argument("--no-save", action="store_true", help="do not write schemes to results/")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=INT",
                    help="engine option for the shapes, e.g. plateau=200 (repeatable)")
    ap.add_argument("--render", action="store_true", help="only rewrite NAME.md from an existing NAME.json")
    args = ap.parse_args(argv)
    if args.render:
        out = json.loads((HERE / "results" / f"{args.name}.json").read_text())
        (HERE / "results" / f"{args.name}.md").write_text(markdown(out, args))
        return 0
    save_dir = None if args.no_save else ROOT / "results"
    if save_dir is not None:
        save_dir.mkdir(exist_ok=True)
    out = {"machine": machine(), "note": "the CPU cores were shared with other jobs: figures are lower bounds on speed",
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "command": " ".join(sys.argv[1:])}
    if not args.skip_kernel:
        out["compile"] = compile_seconds()
        out["kernel"] = kernel_speed()
        print(json.dumps(out["compile"]), json.dumps(out["kernel"], default=float), flush=True)
    runs = []
    if args.seeds_333:
        rows = [time_to_rank(Shape(3, 3, 3), 23, "Z", seed, args.workers, args.time, save_dir)
                for seed in range(args.seeds_333)]
        for r in rows:
            print(json.dumps(r), flush=True)
        times = [r["seconds"] for r in rows if r["reached"]]
        out["333_23"] = {"runs": rows, "reached": len(times), "median_s": statistics.median(times) if times else None,
                         "cli": cli_runs("3x3x3", 23, args.seeds_333, args.workers, args.time)}
        print(json.dumps(out["333_23"]["cli"]), flush=True)
        runs += rows
    for text in args.shapes:
        shape, goal, ring = parse_target(text)
        opts = {k: (int(v) if v.isdigit() else v) for k, v in (o.split("=", 1) for o in args.option)}
        row = time_to_rank(shape, goal, ring, args.seed, args.workers, args.time, save_dir, opts)
        print(json.dumps(row), flush=True)
        runs.append(row)
    out["shapes"] = [r for r in runs if not (r["shape"] == "3x3x3" and r["goal"] == 23 and args.seeds_333)]
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    (res / f"{args.name}.json").write_text(json.dumps(out, indent=1, default=float) + "\n")
    (res / f"{args.name}.md").write_text(markdown(out, args))
    return 0


def markdown(out: dict, args) -> str:
    m = out["machine"]
    lines = [f"# Flip-graph engine ({args.name})", "",
             f"Machine: {m['node']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
             f"load average at start {m['load_avg_1min_at_start']}. {out['note']}.",
             f"Started {out['started']}. Command: `python benchmarks/flip.py {out.get('command', '')}`", "",
             "Times per shape are in-process wall times from the call to the engine to the first proven scheme "
             "(worker processes, walks, Hensel lifting and exact verification included; the numba kernels were "
             "already loaded in the benchmark process, see Start-up). Each shape ran once, with one seed, under "
             "its time cap.", ""] + ([out["note_code"], ""] if out.get("note_code") else [])
    if "compile" in out:
        c = out["compile"]
        lines += ["## Start-up", "",
                  f"numba kernels: cold compile {c['cold']['kernel_s']:.2f} s (fresh process {c['cold']['process_s']:.2f} s), "
                  f"from cache {c['warm']['kernel_s']:.2f} s (fresh process {c['warm']['process_s']:.2f} s).", "",
                  "## Kernel speed (one thread, from the standard algorithm)", "",
                  "| shape | flips/s | attempts/s | rank after |", "|---|---|---|---|"]
        for k in out["kernel"]:
            lines.append(f"| {k['shape']} | {k['flips_per_s']:.3g} | {k['attempts_per_s']:.3g} | {k['rank_after']} |")
        lines.append("")
    if "333_23" in out:
        o = out["333_23"]
        med = f"{o['median_s']:.2f} s" if o["median_s"] is not None else "n/a"
        lines += ["## <3,3,3>:23 over Z", "",
                  f"{o['reached']}/{len(o['runs'])} seeds proven in-process; median time {med} (worker start-up, walk, "
                  f"lifting and exact verification included; numba kernels already loaded in this process: "
                  f"add the start-up figures above, or see the fresh-process runs).", ""]
        c = o.get("cli") or {"median_wall_s": None, "workers": "-", "runs": [], "reached": 0}
        cmed = f"{c['median_wall_s']:.2f} s" if c["median_wall_s"] is not None else "n/a"
        lines += [] if not c["runs"] else [f"Fresh `discover --engine flip --shape 3x3x3 --rank 23 --workers {c['workers']} --seed S` processes "
                  f"(everything from Python start-up to the printed, cross-checked scheme): {c['reached']}/{len(c['runs'])} "
                  f"proven, median wall time {cmed}; per seed: "
                  + ", ".join(f"{x['seed']}: {x['wall_s']:.2f} s ({x['ring']})" for x in c["runs"]), ""]
        lines += _table(o["runs"])
    if out["shapes"]:
        lines += ["## Shapes", ""] + _table(out["shapes"])
    return "\n".join(lines) + "\n"


def _table(rows) -> list[str]:
    lines = ["| shape | goal | seed | workers | cap s | proven | ring | s | best mod-2 rank | time to each level (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lv = ", ".join(f"{k}: {v}" for k, v in list(r["levels"].items())[-6:])
        secs = f"{r['seconds']:.2f}" if r["seconds"] is not None else "-"
        opt = " ".join(f"{k}={v}" for k, v in (r.get("options") or {}).items())
        lines.append(f"| {r['shape']} | {r['goal']} {r['ring_goal']}{' ' + opt if opt else ''} | {r['seed']} | {r['workers']} | {r['time_limit']:g} | "
                     f"{'yes' if r['reached'] else 'no'} | {r.get('ring', '-')} | {secs} | {r['best_rank_mod2']} | {lv} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    sys.exit(main())
