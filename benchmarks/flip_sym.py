"""Symmetric flip search side by side with symmetric-flips (Moosbauer & Poole 2025), <5,5,5> under c3.

For each seed: one run of their solver (MatrixMult22.py + FlipSolver22, their r5-93-1.txt with
NUMBER_OF_SOLVES 1 and RANDOM_SEED = seed: <5,5,5> invariant under the cyclic symmetry, diagonal
cubes 10001 01010 00100, plus transitions every 50000 flips up to the start rank, flip limit 1e8
reset at every new best), then ours (``search_symmetric``, symmetry c3, the same diagonal cubes,
ring Z2) with a wall-clock limit equal to the wall time their run took, so that both see the same
window of machine load.  CPU seconds (their driver and solver processes; our process) are recorded
too.  Their code is fetched with the ``fetch`` tool and built outside the repository, e.g.

    git --git-dir=/work/.mirror/jakobmoosbauer+symmetric-flips/repo archive HEAD | tar x -C /tmp/symflips
    g++ -O3 -march=native -o /tmp/symflips/code/FlipSolver22 /tmp/symflips/code/FlipSolver22.cpp
    sed -i "s|^fastsolver=.*|fastsolver='/tmp/symflips/code/FlipSolver22'|" /tmp/symflips/code/MatrixMult22.py

    python benchmarks/flip_sym.py --theirs /tmp/symflips/code --seeds 1 2 3 4 5

Writes benchmarks/results/flip-sym.md and flip-sym.json (never their code or output files).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import re
import resource
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


def run_theirs(code_dir: Path, seed: int, n: int, target: int, timeout: float) -> dict:
    base = (code_dir / f"r{n}-{target}-1.txt").read_text()
    cfg = re.sub(r"^NUMBER_OF_SOLVES:.*$", "NUMBER_OF_SOLVES: 1", base, flags=re.M)
    cfg = re.sub(r"^RANDOM_SEED:.*$", f"RANDOM_SEED: {seed}", cfg, flags=re.M)
    cfg = re.sub(r"^WRITE_LOG:.*$", "WRITE_LOG: NO", cfg, flags=re.M)
    with tempfile.TemporaryDirectory(dir="/tmp") as td:
        work = Path(td)
        for f in ("MatrixMult22.py", "FlipSolver22"):
            os.symlink(code_dir / f, work / f)
        (work / "cfg.txt").write_text(cfg)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        # its own process group: on timeout the whole group goes (MatrixMult22.py runs FlipSolver22 as a child,
        # which a plain subprocess.run timeout would leave running)
        p = subprocess.Popen([sys.executable, "MatrixMult22.py", "cfg.txt"], cwd=work, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        finally:
            if p.poll() is None:  # an exception while waiting (Ctrl-C): do not leave the solver behind
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        out = out or ""
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = re.findall(r"Run: \d+ Best: (\d+) .*?Flips: (\d+) Speed: (\d+) megaflips/min", out)
    best = int(m[-1][0]) if m else None
    flips = int(m[-1][1]) if m else None
    # they count every single flip (3 per orbit flip of the cyclic symmetry): report orbit flips
    oflips = flips / 3 if flips else None
    return {"best": best, "flips": flips, "orbit_flips": oflips,
            "flips_per_s_wall": (oflips / wall) if oflips else None,
            "flips_per_cpu_s": (oflips / cpu) if oflips and cpu else None, "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2)}


def run_ours(n: int, target: int, seed: int, seconds: float, symmetry: str) -> dict:
    from algodiscover.search import Budget
    from algodiscover.search import flip_sym as fs
    t0 = time.monotonic()
    c0 = time.process_time()
    found = next(fs.search_symmetric((n, n, n), target, seed=seed, budget=Budget(time_limit=seconds),
                                     symmetry=symmetry, ring="Z2", workers=1), None)
    cpu = time.process_time() - c0
    wall = time.monotonic() - t0
    last = getattr(fs.search_symmetric, "last", None) or {}
    best = found.rank if found is not None else last.get("best_rank")
    flips = last.get("flips")
    return {"best": best, "flips": flips, "flips_per_s_wall": (flips / wall) if flips else None,
            "flips_per_cpu_s": (flips / cpu) if flips and cpu else None, "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "levels": {str(k): v for k, v in sorted(last.get("levels", {}).items())}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theirs", type=Path, default=Path("/tmp/symflips/code"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--target", type=int, default=93)
    ap.add_argument("--symmetry", default="c3")
    ap.add_argument("--timeout", type=float, default=120.0, help="cap on one run of theirs (wall seconds)")
    ap.add_argument("--out", default="flip-sym")
    args = ap.parse_args(argv)
    from algodiscover.search import flip_sym as fs
    fs.warm_up()  # compile/load our kernels before timing
    info = machine()
    rows = []
    for seed in args.seeds:
        th = run_theirs(args.theirs, seed, args.n, args.target, args.timeout)
        ours = run_ours(args.n, args.target, seed, max(th["wall_s"], 1.0), args.symmetry)
        rows.append({"seed": seed, "theirs": th, "ours": ours, "load": [round(x, 2) for x in os.getloadavg()]})
        print(json.dumps(rows[-1]), flush=True)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    res = {"command": cmd, "machine": info, "rows": rows,
           "best_theirs": min((r["theirs"]["best"] for r in rows if r["theirs"]["best"]), default=None),
           "best_ours": min((r["ours"]["best"] for r in rows if r["ours"]["best"]), default=None)}
    outdir = HERE / "results"
    outdir.mkdir(exist_ok=True)
    (outdir / f"{args.out}.json").write_text(json.dumps(res, indent=1) + "\n")

    def f(x, fmt="{:.3g}"):
        return "-" if x is None else fmt.format(x)
    lines = [f"# Symmetric flip search: <{args.n},{args.n},{args.n}> under {args.symmetry}, ours vs symmetric-flips",
             "", f"Command: `{cmd}`", "", f"Machine: {describe(info)}; load average at end "
             f"{info['load_average_at_end']} (a shared machine: 2 cores, 8 engineers; wall times are noisy, "
             "CPU seconds are the fairer clock).", "",
             "Each row: one run of symmetric-flips (their r5-93-1.txt, NUMBER_OF_SOLVES 1, RANDOM_SEED = seed), then "
             "ours with a wall-clock limit equal to that run's wall time.  One orbit flip (3 flips at once) counts as "
             "one flip in both columns (their solver counts 3; its figure is divided by 3).  Their CPU seconds include "
             "their Python driver.  Ranks are mod 2.", "",
             "| seed | their best | their wall s | their CPU s | their orbit flips/CPU-s | our best | our wall s | our CPU s "
             "| our orbit flips/CPU-s | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t, o = r["theirs"], r["ours"]
        lines.append(f"| {r['seed']} | {t['best']} | {t['wall_s']} | {t['cpu_s']} | {f(t['flips_per_cpu_s'])} | "
                     f"{o['best']} | {o['wall_s']} | {o['cpu_s']} | {f(o['flips_per_cpu_s'])} | {r['load']} |")
    lines += ["", f"Best rank over the seeds: theirs {res['best_theirs']}, ours {res['best_ours']}.", ""]
    (outdir / f"{args.out}.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
