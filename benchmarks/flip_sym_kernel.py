"""The c3 kernels of the symmetric flip search side by side: c3_walk (kernel 1) and c3_walk2 (kernel 2).

``kernel``: <5,5,5> from the diagonal cubes 10001,01010,00100, c3, one kernel call after another (chunks of
2 * CHUNK draws, plus transitions every 16667 orbit flips up to the seed's rank, the search's defaults) for
``--seconds`` (10) each, old and new paired with the same seed, ``--repeats`` (3) pairs, medians reported.
Columns: orbit flips/s (an orbit flip of the symmetric search counts as one flip), draws/s (kernel 1: its
attempts, a random value whose bucket may hold no partner; kernel 2: its draws, all with a partner),
reductions/s (orbits removed), plus transitions, best rank, load average after each run.

``search``: time to each rank level on <5,5,5>:93 with --symmetry c3 over Z (``search_symmetric`` with the
options of ``discover --engine flip --shape 5x5x5 --rank 93 --symmetry c3 --ring Z --seed S --time-limit T
--no-catalog``, the kernel set explicitly), kernels 1 and 2 for each seed, interleaved with runs of
symmetric-flips (their r5-93-1.txt with NUMBER_OF_SOLVES 10000 and a fixed RANDOM_SEED, stopped after T
seconds).  Their code is fetched with the ``fetch`` tool and built outside the repository
(see benchmarks/flip_sym.py); their levels are the times at which a run that reached the level ended
(they print a run's best when it ends), so they are upper bounds.  One search at a time; run it niced.

    nice -n 10 python benchmarks/flip_sym_kernel.py kernel
    nice -n 10 python benchmarks/flip_sym_kernel.py search --seeds 1 2 3 --seconds 300 --theirs DIR

Writes benchmarks/results/flip-sym-kernel.md and .json (each mode keeps the other's section).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402

OUT = HERE / "results" / "flip-sym-kernel"


def _load():
    return [round(x, 2) for x in os.getloadavg()]


def kernel_run(kernel: int, seconds: float, seed: int, n: int = 5) -> dict:
    import numpy as np
    from algodiscover.search import flip_sym as fs
    grp = fs.Group("c3", n)
    fixed, orb = fs.symmetric_seed(n, grp)
    no0 = orb.shape[1] // 3
    V = np.zeros((3, no0 + 8), dtype=np.uint64)
    V[:, :no0] = fs.c3_values(orb, n)
    no = best = no0
    state = np.array([seed], dtype=np.uint64)
    c = np.zeros(6, dtype=np.int64)
    attempts = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while time.perf_counter() - t0 < seconds:
        if kernel == 1:
            no = fs.c3_walk(V, no, 0, 2 * fs.CHUNK, fs.DEFAULTS["plateau"], no0, state, c, fs.INDEX_BITS)
            attempts += 2 * fs.CHUNK
        else:
            walk = fs.c3_walk2 if kernel == 2 else fs.c3_walk3
            no = walk(V, no, 0, 2 * fs.CHUNK, fs.DEFAULTS["plateau"], no0, state, c)
        best = min(best, no)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    draws = attempts if kernel == 1 else int(c[5])
    nf = fixed.shape[1]
    return {"kernel": kernel, "seed": seed, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "orbit_flips": int(c[0]), "draws": draws, "reductions": int(c[1]), "plus": int(c[2]),
            "flips_per_s": c[0] / wall, "flips_per_cpu_s": c[0] / cpu, "draws_per_s": draws / wall,
            "reductions_per_s": c[1] / wall, "best_rank": 3 * best + nf, "load": _load()}


def mode_kernel(args) -> dict:
    from algodiscover.search import flip_sym as fs
    fs.warm_up()
    rows = []
    kernels = sorted(set(args.kernels) | {1})
    for r in range(args.repeats):
        for k in kernels:
            rows.append(kernel_run(k, args.seconds, args.seed + r))
            print(json.dumps(rows[-1]), flush=True)
    med = {}
    for k in kernels:
        mine = [x for x in rows if x["kernel"] == k]
        med[k] = {f: statistics.median(x[f] for x in mine)
                  for f in ("flips_per_s", "flips_per_cpu_s", "draws_per_s", "reductions_per_s")}
    ratios, ratios_cpu = {}, {}
    for k in kernels[1:]:  # against kernel 1 of the same repeat (same seed, adjacent in time)
        base = [x for x in rows if x["kernel"] == 1]
        mine = [x for x in rows if x["kernel"] == k]
        ratios[str(k)] = [b["flips_per_s"] / a["flips_per_s"] for a, b in zip(base, mine)]
        ratios_cpu[str(k)] = [b["flips_per_cpu_s"] / a["flips_per_cpu_s"] for a, b in zip(base, mine)]
    return {"rows": rows, "median": {str(k): v for k, v in med.items()}, "paired_ratios": ratios,
            "median_ratio": {k: statistics.median(v) for k, v in ratios.items()}, "paired_ratios_cpu": ratios_cpu,
            "median_ratio_cpu": {k: statistics.median(v) for k, v in ratios_cpu.items()}, "seconds": args.seconds}


def ours_search(kernel: int, seed: int, seconds: float, rank: int = 93) -> dict:
    from algodiscover.search import Budget
    from algodiscover.search import flip_sym as fs
    t0 = time.monotonic()
    c0 = time.process_time()
    gen = fs.search_symmetric((5, 5, 5), rank, seed=seed, budget=Budget(time_limit=seconds), symmetry="c3",
                              ring="Z", kernel=kernel, workers=1)
    found = next(gen, None)
    gen.close()
    wall = time.monotonic() - t0
    cpu = time.process_time() - c0
    if found is None:  # the generator ran out: its summary is fresh
        last = getattr(fs.search_symmetric, "last", None) or {}
        levels = {str(k): v for k, v in sorted(last.get("levels", {}).items(), reverse=True)}
        best = last.get("best_rank")
    else:  # stopped at the first proven scheme: what the walk did up to it is in the scheme's provenance
        last = {"flips": found.provenance.get("flips")}
        levels = dict(found.provenance.get("rank_levels") or {})
        levels.setdefault(str(found.rank), found.provenance.get("seconds"))
        best = found.rank
    return {"who": f"ours kernel {kernel}", "seed": seed, "best_rank": best, "levels": levels,
            "proven": None if found is None else {"rank": found.rank, "ring": found.verify(symbolic=False).ring,
                                                  "seconds": found.provenance.get("seconds")},
            "orbit_flips": last.get("flips"), "flips_per_s": (last.get("flips") or 0) / wall,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load": _load()}


def theirs_search(code_dir: Path, seed: int, seconds: float) -> dict:
    base = (code_dir / "r5-93-1.txt").read_text()
    cfg = re.sub(r"^NUMBER_OF_SOLVES:.*$", "NUMBER_OF_SOLVES: 10000", base, flags=re.M)
    cfg = re.sub(r"^RANDOM_SEED:.*$", f"RANDOM_SEED: {seed}", cfg, flags=re.M)
    cfg = re.sub(r"^WRITE_LOG:.*$", "WRITE_LOG: NO", cfg, flags=re.M)
    levels: dict[int, float] = {}
    runs = []
    with tempfile.TemporaryDirectory(dir="/tmp") as td:
        work = Path(td)
        for f in ("MatrixMult22.py", "FlipSolver22"):
            os.symlink(code_dir / f, work / f)
        (work / "cfg.txt").write_text(cfg)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-u", "MatrixMult22.py", "cfg.txt"], cwd=work, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        buf = ""
        while True:
            left = seconds - (time.monotonic() - t0)
            if left <= 0 or p.poll() is not None:
                break
            if sel.select(timeout=min(left, 1.0)):
                chunk = os.read(p.stdout.fileno(), 65536).decode(errors="replace")
                if not chunk:
                    break
                buf += chunk
                while "\n" in buf:
                    line, buf = buf.split("\n", 1)
                    m = re.search(r"Run: (\d+) Best: (\d+) .*?Flips: (\d+)", line)
                    if m:
                        t = round(time.monotonic() - t0, 1)
                        b = int(m.group(2))
                        runs.append({"run": int(m.group(1)), "best": b, "flips": int(m.group(3)), "ended_s": t})
                        for lv in range(b, 136, 3):
                            levels.setdefault(lv, t)
        wall = time.monotonic() - t0
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    flips = sum(r["flips"] for r in runs)
    return {"who": "symmetric-flips", "seed": seed, "best_rank": min((r["best"] for r in runs), default=None),
            "levels": {str(k): v for k, v in sorted(levels.items(), reverse=True)}, "runs_finished": len(runs),
            "run_bests": [r["best"] for r in runs], "orbit_flips_finished_runs": flips // 3,
            "wall_s": round(wall, 1), "cpu_s_children": round(cpu, 1), "load": _load(),
            "note": "levels: end time of the first finished run at or below the level (upper bounds); the run "
                    "cut at the time limit is not counted"}


def mode_search(args) -> dict:
    from algodiscover.search import flip_sym as fs
    fs.warm_up()
    rows = []
    for i, seed in enumerate(args.seeds):
        for k in args.kernels:
            rows.append(ours_search(k, seed, args.seconds))
            print(json.dumps(rows[-1]), flush=True)
        if args.theirs is not None and i < args.their_runs:
            rows.append(theirs_search(args.theirs, args.their_seed + i, args.seconds))
            print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "seconds": args.seconds}


def render(res: dict) -> str:
    def g(x):
        return "-" if x is None else f"{x:.3g}"
    lines = ["# c3 kernels of the symmetric flip search: c3_walk (kernel 1) vs c3_walk2 (kernel 2)", "",
             "Shared machine (2 cores, other engineers' jobs beside ours: see the load column); one core per run.",
             ""]
    k = res.get("kernel")
    if k:
        lines += [f"## Kernel: <5,5,5>, c3, from the diagonal cubes 10001,01010,00100, {k['seconds']:g}-s runs",
                  "", f"`{k['command']}`", "", f"Machine: {k['machine_text']}", "",
                  "| kernel | seed | orbit flips/s | per CPU-s | draws/s | reductions/s | plus | best rank | load after |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in k["rows"]:
            lines.append(f"| {r['kernel']} | {r['seed']} | {g(r['flips_per_s'])} | {g(r['flips_per_cpu_s'])} | "
                         f"{g(r['draws_per_s'])} | {g(r['reductions_per_s'])} | {r['plus']} | {r['best_rank']} | "
                         f"{r['load'][0]} |")
        lines += ["", "Medians:", "", "| kernel | orbit flips/s | per CPU-s | draws/s | reductions/s |", "|---|---|---|---|---|"]
        for kk, m in k["median"].items():
            lines.append(f"| {kk} | {g(m['flips_per_s'])} | {g(m['flips_per_cpu_s'])} | {g(m['draws_per_s'])} | "
                         f"{g(m['reductions_per_s'])} |")
        lines.append("")
        for kk in k["paired_ratios"]:
            lines.append(f"Paired ratios (kernel {kk} / kernel 1, orbit flips/s): "
                         f"{', '.join(f'{x:.2f}' for x in k['paired_ratios'][kk])}; median "
                         f"{k['median_ratio'][kk]:.2f}; per CPU-second (less sensitive to the other jobs on the "
                         f"machine): {', '.join(f'{x:.2f}' for x in k['paired_ratios_cpu'][kk])}; median "
                         f"{k['median_ratio_cpu'][kk]:.2f}.")
        lines.append("")
    s = res.get("search")
    if s:
        lines += [f"## Search: <5,5,5>:93, --symmetry c3, --ring Z, {s['seconds']:g} s each, interleaved", "",
                  *[f"`{c}`" for c in s.get("commands", [s.get("command")])], "",
                  *[f"Machine: {m}" for m in s.get("machine_texts", [s.get("machine_text")])], "",
                  "| run | seed | best rank | time to each rank level (s) | proven | orbit flips/s (wall) | wall s | CPU s "
                  "| load after |", "|---|---|---|---|---|---|---|---|---|"]
        for r in s["rows"]:
            lv = ", ".join(f"{a}: {b}" for a, b in r["levels"].items() if int(a) <= 111)
            pr = "-" if not r.get("proven") else f"{r['proven']['rank']} {r['proven']['ring']}"
            fps = g(r.get("flips_per_s")) if r.get("flips_per_s") else \
                g(r.get("orbit_flips_finished_runs", 0) / max(r["wall_s"], 1e-9)) + " (finished runs)"
            cpu = r.get("cpu_s", r.get("cpu_s_children"))
            lines.append(f"| {r['who']} | {r['seed']} | {r['best_rank']} | {lv} | {pr} | {fps} | {r['wall_s']} | "
                         f"{cpu} | {r['load'][0]} |")
        lines += ["", "symmetric-flips: levels are the end times of their runs (a run prints its best when it ends), "
                      "so they are upper bounds; its run bests: "
                      + "; ".join(f"seed {r['seed']}: {r['run_bests']}" for r in s["rows"]
                                  if r["who"] == "symmetric-flips"), ""]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["kernel", "search"], nargs="?", default="kernel")
    ap.add_argument("--seconds", type=float, default=None, help="per run (kernel: 10, search: 300)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11, help="kernel mode: first seed (one per pair)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="search mode")
    ap.add_argument("--theirs", type=Path, default=None, help="symmetric-flips code directory (built)")
    ap.add_argument("--their-seed", type=int, default=12345)
    ap.add_argument("--their-runs", type=int, default=1)
    ap.add_argument("--kernels", type=int, nargs="+", default=None,
                    help="c3 kernels (kernel mode: 1 2 3; search mode: 1 2)")
    ap.add_argument("--append", action="store_true", help="search mode: add rows to the stored section (a row of "
                                                           "the same run and seed is replaced)")
    args = ap.parse_args(argv)
    if args.seconds is None:
        args.seconds = 10.0 if args.mode == "kernel" else 300.0
    if args.kernels is None:
        args.kernels = [1, 2, 3] if args.mode == "kernel" else [1, 2]
    info = machine()
    res = json.loads(OUT.with_suffix(".json").read_text()) if OUT.with_suffix(".json").exists() else {}
    part = mode_kernel(args) if args.mode == "kernel" else mode_search(args)
    info["load_average_at_end"] = _load()
    part["command"] = "nice -n 10 python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    part["machine"] = info
    part["machine_text"] = describe(info) + f", load average at end {info['load_average_at_end']}"
    if args.mode == "search":
        old = res.get("search") if args.append else None
        if old:
            keep = [r for r in old["rows"] if (r["who"], r["seed"]) not in {(x["who"], x["seed"]) for x in part["rows"]}]
            part["rows"] = keep + part["rows"]
            part["commands"] = old.get("commands", [old.get("command")]) + [part["command"]]
            part["machine_texts"] = old.get("machine_texts", [old.get("machine_text")]) + [part["machine_text"]]
        else:
            part["commands"], part["machine_texts"] = [part["command"]], [part["machine_text"]]
    res[args.mode] = part
    OUT.parent.mkdir(exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    OUT.with_suffix(".md").write_text(render(res))
    print(OUT.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
