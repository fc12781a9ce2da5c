"""The weight rules of the GF(3) walk (``--max-weight``, ``--weight-bias``): how far the walk gets from the
standard algorithm with and without them, same shapes, same seeds, same time.

    python benchmarks/gf3_weight.py --shapes 2x3x4:20 3x3x3:23 2x4x5:33 --seeds 0 1 --time 30 \
        --configs 0:0 4:0.3 6:0.3

A config is MAX_WEIGHT:WEIGHT_BIAS (0:0 is the walk without the rules).  Each run is the engine's GF(3)
search (search_gf3, ring Z3: the modular scheme, no lifting) with the engine's defaults otherwise, stopped at
the goal rank or after --time seconds.  Writes benchmarks/results/gf3-weight.md and .json (machine and load
average included).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe, machine  # noqa: E402

from algodiscover.search import Budget, gf3  # noqa: E402


def run(shape: str, goal: int, seed: int, mw: int, wb: float, seconds: float, plateau: int | None = None) -> dict:
    budget = Budget(time_limit=seconds)
    t = time.perf_counter()
    found = None
    it = gf3.search_gf3(shape, goal, seed=seed, budget=budget, ring="Z3", init="standard", max_weight=mw,
                        weight_bias=wb, plateau=plateau, workers=1)
    for sch in it:
        found = sch.rank
        break
    it.close()
    last = gf3.search_gf3.last
    return {"shape": shape, "goal": goal, "seed": seed, "max_weight": mw, "weight_bias": wb,
            "reached": found is not None, "best": int(last["best_rank"]), "seconds": round(time.perf_counter() - t, 2),
            "flips": int(last["flips"]), "levels": {str(k): v for k, v in sorted(last["levels"].items(), reverse=True)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", default=["2x3x4:20", "3x3x3:23", "2x4x5:33"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--time", type=float, default=30.0)
    ap.add_argument("--configs", nargs="+", default=["0:0", "4:0.3", "6:0.3"])
    ap.add_argument("--plateau", type=int, default=None, help="--plateau of every run (default: the engine's)")
    ap.add_argument("--name", default="gf3-weight")
    a = ap.parse_args(argv)
    info = machine()
    gf3.warm_up()
    rows = []
    for spec in a.shapes:
        shape, goal = spec.split(":")
        for cfg in a.configs:
            mw, wb = cfg.split(":")
            for seed in a.seeds:
                rows.append(run(shape, int(goal), seed, int(mw), float(wb), a.time, a.plateau))
                print(rows[-1], flush=True)
    load_end = [round(x, 2) for x in os.getloadavg()]
    cmd = "python benchmarks/gf3_weight.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps({"command": cmd, "machine": info, "load_average_at_end": load_end,
                                                    "rows": rows}, indent=1))
    lines = ["# The GF(3) walk with and without its weight rules", "",
             f"Machine: {describe(info)}; load average at end {load_end} (shared 2-core machine).",
             f"Command: `{cmd}`", "",
             "Each row: the engine's GF(3) search (`discover --engine flip --field 3 --ring Z3 --init standard "
             "--max-weight W --weight-bias B"
             + (f" --plateau {a.plateau}" if a.plateau else "") + "`, defaults otherwise) from the standard algorithm, "
             f"stopped at the goal rank or after {a.time:g} s. W = 0 and B = 0 is the walk without the rules.", "",
             "| shape | goal | max weight | weight bias | seed | reached | best rank mod 3 | seconds | flips | "
             "time to each level (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lv = ", ".join(f"{k}: {v}" for k, v in r["levels"].items())
        lines.append(f"| {r['shape']} | {r['goal']} | {r['max_weight']} | {r['weight_bias']:g} | {r['seed']} | "
                     f"{'yes' if r['reached'] else 'no'} | {r['best']} | {r['seconds']} | {r['flips']:.3g} | {lv} |")
    (out / f"{a.name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
