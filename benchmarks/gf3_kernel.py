"""The GF(3) walk's two kernels side by side: kernel 1 (the scan walk, ``gf3.walk3``) and kernel 2 (the indexed
walk, ``gf3kernel.walk3ix``; ``discover --field 3 --kernel 1|2``).

    python benchmarks/gf3_kernel.py --seconds 3 --reps 3 --search-time 60 --seeds 0 1 2

Part 1, the kernel table: per shape, from the standard algorithm and from a committed result of ours reduced
mod 3, each kernel walks for --seconds (kernel calls of 2^16 attempts, target one below the best rank reached,
plus transitions up to 2 above it, plateau 2000, no weight rules), the two kernels interleaved, median of
--reps: flips/s, attempts/s (kernel 1 counts an attempt whose scan finds no partner), reductions/s, and the
best rank reached.  Part 2: the engine's GF(3) search (search_gf3, ring Z3, defaults otherwise) to a goal
rank, each kernel and seed, capped at --search-time seconds: seconds to the goal and the best rank.  Writes
benchmarks/results/gf3-kernel.md and .json (command, machine, load average).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe, machine  # noqa: E402

from algodiscover.core.shape import Shape, parse_shape  # noqa: E402
from algodiscover.search import Budget, gf3, gf3kernel  # noqa: E402

KERNELS = {1: gf3.walk3, 2: gf3kernel.walk3ix}
STARTS = {"2x4x5": "results/2x4x5-r33.json", "3x3x3": "results/3x3x3-r23.json", "4x4x5": "results/4x4x5-r62.json",
          "5x5x5": "results/5x5x5-r93.json"}


def _planes(shape: Shape, start: str | None, cap: int):
    if start is None:
        return gf3.standard_planes(shape, cap)
    (P0, Q0, r), _ = gf3._start_planes(str(ROOT / start), shape)
    P = np.zeros((3, cap), dtype=np.uint64)
    Q = np.zeros_like(P)
    P[:, :r], Q[:, :r] = P0, Q0
    return P, Q, r


def kernel_run(kernel: int, shape: Shape, start: str | None, seconds: float, seed: int) -> dict:
    cap = shape.m * shape.k * shape.n + 40
    P, Q, r = _planes(shape, start, cap)
    best = r0 = r
    state = np.array([seed * 7919 + 1], dtype=np.uint64)
    counters = np.zeros(5, dtype=np.int64)
    fn = KERNELS[kernel]
    calls = 0
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        r = fn(P, Q, r, best - 1, 1 << 16, 2000, best + 2, state, counters, 0, 0.0)
        calls += 1
        best = min(best, r)
    el = time.perf_counter() - t
    assert gf3.is_valid_mod3(shape, P, Q, r)
    return {"flips_s": counters[0] / el, "attempts_s": calls * (1 << 16) / el, "reductions_s": counters[1] / el,
            "start_rank": r0, "best": best}


def search_run(kernel: int, shape: str, goal: int, seed: int, seconds: float) -> dict:
    t = time.perf_counter()
    found = None
    it = gf3.search_gf3(shape, goal, seed=seed, budget=Budget(time_limit=seconds), ring="Z3", kernel=kernel,
                        workers=1)
    for sch in it:
        found = sch.rank
        break
    it.close()
    last = gf3.search_gf3.last
    return {"kernel": kernel, "shape": shape, "goal": goal, "seed": seed, "reached": found is not None,
            "best": int(last["best_rank"]), "seconds": round(time.perf_counter() - t, 2), "flips": int(last["flips"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", default=["2x4x5", "3x3x3", "4x4x5", "5x5x5"])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--searches", nargs="+", default=["2x3x4:20", "3x3x3:23"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--search-time", type=float, default=60.0)
    ap.add_argument("--name", default="gf3-kernel")
    a = ap.parse_args(argv)
    info = machine()
    gf3.warm_up()
    gf3kernel.warm_up()
    table = []
    for name in a.shapes:
        shape = parse_shape(name)
        for start in (None, *([STARTS[name]] if name in STARTS else [])):
            runs = {1: [], 2: []}
            for rep in range(a.reps):
                for k in (1, 2):  # interleaved: the shared machine's load falls on both alike
                    runs[k].append(kernel_run(k, shape, start, a.seconds, rep))
            for k in (1, 2):
                med = {f: statistics.median(x[f] for x in runs[k]) for f in ("flips_s", "attempts_s", "reductions_s")}
                table.append({"shape": name, "start": start or "standard", "kernel": k, **med,
                              "start_rank": runs[k][0]["start_rank"], "best": min(x["best"] for x in runs[k])})
                print(table[-1], flush=True)
    searches = []
    for spec in a.searches:
        shape, goal = spec.split(":")
        for seed in a.seeds:
            for k in (1, 2):
                searches.append(search_run(k, shape, int(goal), seed, a.search_time))
                print(searches[-1], flush=True)
    load_end = [round(x, 2) for x in os.getloadavg()]
    cmd = "python benchmarks/gf3_kernel.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps({"command": cmd, "machine": info, "load_average_at_end": load_end,
                                                    "kernels": table, "searches": searches}, indent=1))
    ratio = {}
    for row in table:
        ratio.setdefault((row["shape"], row["start"]), {})[row["kernel"]] = row["flips_s"]
    lines = ["# GF(3) walk: the scan kernel (1) against the indexed kernel (2)", "",
             f"Machine: {describe(info)}; load average at end {load_end} (shared 2-core machine, one thread per run).",
             f"Command: `{cmd}`", "",
             f"## Kernel table ({a.seconds:g}-s walks, median of {a.reps}, kernels interleaved)", "",
             "Target one below the best rank reached, plus transitions up to 2 above it, plateau 2000, no weight "
             "rules. Kernel 1 counts an attempt whose scan found no partner; kernel 2 flips at every attempt.", "",
             "| shape | start | kernel | flips/s | attempts/s | reductions/s | start rank | best rank mod 3 | "
             "flips/s ratio 2:1 |", "|---|---|---|---|---|---|---|---|---|"]
    for row in table:
        rr = ratio[(row["shape"], row["start"])]
        rt = f"{rr[2] / rr[1]:.1f}x" if row["kernel"] == 2 and rr.get(1) else ""
        lines.append(f"| {row['shape']} | {row['start']} | {row['kernel']} | {row['flips_s']:.3g} | "
                     f"{row['attempts_s']:.3g} | {row['reductions_s']:.3g} | {row['start_rank']} | {row['best']} | {rt} |")
    lines += ["", f"## Search to a goal rank (search_gf3, ring Z3, from the standard algorithm, at most "
              f"{a.search_time:g} s, compile excluded)", "",
              "| shape | goal | seed | kernel | reached | seconds | best rank mod 3 | flips |", "|---|---|---|---|---|---|---|---|"]
    for r in searches:
        lines.append(f"| {r['shape']} | {r['goal']} | {r['seed']} | {r['kernel']} | {'yes' if r['reached'] else 'no'} | "
                     f"{r['seconds']} | {r['best']} | {r['flips']:.3g} |")
    (out / f"{a.name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
