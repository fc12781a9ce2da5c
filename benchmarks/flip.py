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
    code = "import sys; sys.path.insert(0, %r); from algodiscover.search import gf2, lift, flipkernel; import time; " \
           "t=time.perf_counter(); gf2.warm_up(); flipkernel.warm_up(); print(time.perf_counter()-t)" % str(ROOT)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d)
        out = {}
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out[label] = {"kernel_s": float(r.stdout.strip()), "process_s": time.perf_counter() - t0}
    return out


def _pool_start(text: str):
    """A scheme near the frontier for the kernel table ("pool scheme at best known + 2"): our own
    results/ file where one exists (<4,4,4>: 49 = 47 mod-2 record + 2), else AlphaTensor's mod-2
    <5,5,5> of rank 96 (record 93 + 3) from ../shared, labelled as such; None when neither exists."""
    from algodiscover.search import gf2
    s = parse_shape(text)
    own = {"4x4x4": ROOT / "results" / "4x4x4-r49.json", "3x3x3": ROOT / "results" / "3x3x3-r23.json"}
    if text in own and own[text].exists():
        from algodiscover.formats import load
        F, r = gf2.scheme_to_bits(load(own[text]))
        return F, r, f"results/{own[text].name} (ours)"
    f2 = ROOT.parent / "shared" / "known-schemes" / "alphatensor" / "factorizations_f2.npz"
    if text == "5x5x5" and f2.exists():
        u, v, w = np.load(f2, allow_pickle=True)["5,5,5"]
        m = k = n = 5
        r = u.shape[1]
        F = np.zeros((3, r), dtype=np.uint64)
        F[0] = gf2.pack_rows(np.asarray(u.T) % 2)
        F[1] = gf2.pack_rows(np.asarray(v.T) % 2)
        # AlphaTensor's third factor indexes C^T: entry l*m + i belongs to C[i, l]
        wt = np.asarray(w.T) % 2
        c = np.zeros((r, m * n), dtype=np.int64)
        for i in range(m):
            for l in range(n):
                c[:, i * n + l] = wt[:, l * m + i]
        F[2] = gf2.pack_rows(c)
        assert gf2.is_valid_mod2(s, F, r)
        return F, r, f"AlphaTensor mod-2 rank {r} (published; ../shared, kernel speed only)"
    return None


def _kernel_at(rev: str):
    """flipkernel.py as it was at git revision ``rev``, loaded as its own module (numba caches it
    under a temporary directory), for a "before" row measured in the same run."""
    import importlib.util
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:algodiscover/search/flipkernel.py"],
                         capture_output=True, text=True, check=True).stdout
    d = Path(tempfile.mkdtemp(prefix="flipkernel-"))
    path = d / f"flipkernel_{rev}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"flipkernel_{rev}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def kernel_speed(shapes=("4x4x4", "5x5x5"), seconds=10.0, reps=3, versions=(1, 2), before_rev=None) -> list[dict]:
    """The walk kernel, one thread, as the engine runs it (default plateau and climb, reductions checked
    after every flip): 10-s runs, from the standard algorithm and from a pool scheme near the record,
    median of ``reps``, for each kernel version (1: before, 2: now; interleaved run by run, so the
    two see the same machine load).  Rates per wall second and per CPU second of this thread (the
    machine is shared: the CPU-second figure is what one thread does when it has the core)."""
    from algodiscover.search import flip, flipkernel as fk, gf2
    gf2.warm_up()
    fk.warm_up()
    # (label, module, version): the kernel at before_rev (its only walk), then this tree's versions
    kernels = [(f"v{v}", fk, v) for v in versions]
    if before_rev:
        old = _kernel_at(before_rev)
        kernels.insert(0, (f"git {before_rev}", old, None))
    rows = []
    for text in shapes:
        s = parse_shape(text)
        starts = [("standard", gf2.standard_bits(s), "standard algorithm")]
        pool = _pool_start(text)
        if pool is not None:
            starts.append(("pool", (pool[0], pool[1]), pool[2]))
        for label, (F0, r0), source in starts:
            runs = {k[0]: [] for k in kernels}
            for rep in range(reps):
                for name, mod, version in kernels:
                    cap = r0 + 32
                    F = np.zeros((3, cap), dtype=np.uint64)
                    F[:, :r0] = F0[:, :r0]
                    r = r0
                    ix = mod.make_index(cap)
                    state = np.array([12345 + rep], dtype=np.uint64)
                    c = mod.new_counters()
                    best = r
                    load0 = os.getloadavg()[0]
                    extra = () if version is None else (version,)
                    t0, c0 = time.perf_counter(), time.thread_time()
                    while time.perf_counter() - t0 < seconds:
                        r = mod.walk(ix, F, r, best - 1, flip.CHUNK, flip.DEFAULTS["plateau"],
                                     best + flip.DEFAULTS["climb"], state, c, *extra)
                        best = min(best, r)
                    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
                    assert gf2.is_valid_mod2(s, F, r)
                    runs[name].append({"wall_s": wall, "cpu_s": cpu, "flips": int(c[fk.FLIPS]),
                                          "attempts": int(c[fk.ATTEMPTS]), "reductions": int(c[fk.REMOVED]),
                                          "plus": int(c[fk.PLUS]), "noflip": int(c[fk.NOFLIP]),
                                          "rank_after": int(r), "best": int(best), "load_1min": load0})
            for name, mod, version in kernels:
                rs = runs[name]
                med = lambda key, per: statistics.median(x[key] / x[per] for x in rs)  # noqa: E731
                klabel = (f"before: indexed kernel at {name[4:]} (version 1 walk, old index code)" if version is None
                         else f"indexed v{version}" + (" walk, today's index code" if version < fk.LATEST else " (now)"))
                row = {"kernel": klabel, "version": version, "shape": text, "start": label, "source": source, "rank_start": r0,
                       "runs": rs, "flips_per_s": med("flips", "wall_s"), "flips_per_cpu_s": med("flips", "cpu_s"),
                       "attempts_per_s": med("attempts", "wall_s"), "attempts_per_cpu_s": med("attempts", "cpu_s"),
                       "reductions_per_s": med("reductions", "wall_s"), "reductions_per_cpu_s": med("reductions", "cpu_s"),
                       "plus_per_cpu_s": med("plus", "cpu_s"), "best": min(x["best"] for x in rs),
                       "load_1min": statistics.median(x["load_1min"] for x in rs)}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "runs"}, default=float), flush=True)
    return rows


def time_to_rank(shape: Shape, goal: int, ring: str, seed: int, workers: int, time_limit: float,
                 save_dir: Path | None, options: dict | None = None) -> dict:
    levels: dict[int, float] = {}
    t0 = time.monotonic()
    last = {}

    def on_progress(p):
        rk = p.best_rank
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
    st = getattr(it, "stats", {}) or {}
    if st.get("levels"):  # the engine's own clock: seconds from the search start to each rank level
        levels = {int(k): v for k, v in st["levels"].items()}
    row = {"shape": f"{shape.m}x{shape.k}x{shape.n}", "goal": goal, "ring_goal": ring, "seed": seed,
           "workers": workers, "time_limit": time_limit, "options": options or {},
           "reached": found is not None, "seconds": total if found is not None else None,
           "best_rank_mod2": min(levels) if levels else None,
           "levels": {str(k): round(v, 3) for k, v in sorted(levels.items(), reverse=True)},
           "last_flips_per_s": last.get("fps"), "flips": st.get("flips"), "restarts": st.get("restarts_done"),
           "best_lifted": st.get("best_lifted")}
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
    ap.add_argument("--kernel-only", action="store_true", help="only the start-up and kernel tables")
    ap.add_argument("--kernel-seconds", type=float, default=10.0)
    ap.add_argument("--before-rev", default=None, help="also time flipkernel.py as of this git revision (a 'before' row)")
    ap.add_argument("--skip-compile", action="store_true", help="skip the cold/warm numba start-up figures")
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
        if not args.skip_compile:
            out["compile"] = compile_seconds()
        out["kernel"] = kernel_speed(seconds=args.kernel_seconds, before_rev=args.before_rev)
        out["kernel_seconds"] = args.kernel_seconds
        print(json.dumps(out.get("compile")), flush=True)
    if args.kernel_only:
        args.seeds_333, args.shapes = 0, []
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
                  f"from cache {c['warm']['kernel_s']:.2f} s (fresh process {c['warm']['process_s']:.2f} s).", ""]
    if "kernel" in out:
        lines += ["## Kernel speed (one thread)", "",
                  f"Each row: the walk as the engine runs it (default plateau and climb; the reduction check after "
                  f"every flip), {out.get('kernel_seconds', 10):g}-s runs, median of 3, interleaved run by run: the kernel file "
                  "as of `--before-rev` (when given), this tree's version-1 walk and version 2 (now). Version 1 spends an attempt on a scheme where no two products share "
                  "a factor (waiting out the plateau); version 2 makes a plus transition at once, so an attempt is "
                  "a flip or a plus transition. Per wall second and per CPU second of the thread: the machine was "
                  "shared (load in the last column), so the CPU-second figures are what one thread does when it "
                  "has the core.", "",
                  "| kernel | shape | start | flips/s (wall) | flips/s (CPU) | attempts/s (CPU) | reductions/s (CPU) "
                  "| plus/s (CPU) | best rank | load |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for k in out["kernel"]:
            lines.append(f"| {k['kernel']} | {k['shape']} | {k['start']}: {k['source']}, rank {k['rank_start']} | "
                         f"{k['flips_per_s']:.3g} | {k['flips_per_cpu_s']:.3g} | {k['attempts_per_cpu_s']:.3g} | "
                         f"{k['reductions_per_cpu_s']:.3g} | {k.get('plus_per_cpu_s', float('nan')):.3g} | "
                         f"{k.get('best', '-')} | {k['load_1min']:.1f} |")
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
