"""Symmetric flip walks with one walker against several (``--workers``), same seeds, interleaved.

For each seed, ``search_symmetric`` on <n,n,n> with ``--symmetry`` and ``--ring Z2`` runs with 1 walker and
then with W walkers for the same wall time (the search stops at its first scheme of the target rank); the
table gives the best rank mod 2, the time to each rank level (for W walkers, the first walker to reach it),
orbit flips summed over the walkers and orbit flips per wall second.  Walker 0 of a W-walker run is the
one-walker walk of the same seed, so the W-walker run can only be as good or better at equal wall time when
the machine has W free cores: the ratio of flips/s says how many it had.

    python benchmarks/flip_sym_workers.py --n 5 --rank 93 --seeds 0 1 2 --seconds 120 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe, machine  # noqa: E402


def run(n: int, rank: int, seed: int, seconds: float, workers: int, symmetry: str) -> dict:
    from algodiscover.search import Budget
    from algodiscover.search import flip_sym as fs
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = time.process_time()
    t0 = time.monotonic()
    gen = fs.search_symmetric((n, n, n), rank, seed=seed, budget=Budget(time_limit=seconds), symmetry=symmetry,
                              ring="Z2", workers=workers)
    found = next(gen, None)
    gen.close()
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - c0 + (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    last = getattr(fs.search_symmetric, "last", None) or {}
    levels = {int(k): v for k, v in (last.get("levels") or {}).items()}
    if found is not None:
        levels.update({int(k): v for k, v in (found.provenance.get("rank_levels") or {}).items() if int(k) not in levels})
    return {"seed": seed, "workers": workers, "best_rank": found.rank if found is not None else last.get("best_rank"),
            "found": found is not None, "levels": dict(sorted(levels.items(), reverse=True)),
            "orbit_flips": last.get("flips"), "flips_per_s": (last.get("flips") or 0) / wall,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--rank", type=int, default=93)
    ap.add_argument("--symmetry", default="c3")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--name", default="flip-sym-workers")
    args = ap.parse_args()
    info = machine()
    from algodiscover.search import Budget
    from algodiscover.search import flip_sym as fs
    next(fs.search_symmetric((2, 2, 2), 7, seed=0, budget=Budget(time_limit=600), symmetry="c3", workers=1))  # compile
    rows = []
    for seed in args.seeds:
        for w in (1, args.workers):
            r = run(args.n, args.rank, seed, args.seconds, w, args.symmetry)
            print(json.dumps(r), flush=True)
            rows.append(r)
    out = Path(__file__).resolve().parent / "results"
    cmd = "python benchmarks/flip_sym_workers.py " + " ".join(sys.argv[1:])
    lines = [f"# Symmetric walks: 1 walker against {args.workers} (`--workers`)", "",
             f"Command: `{cmd}`", "", f"Machine: {describe(info)}", "",
             f"<{args.n},{args.n},{args.n}>, target {args.rank} mod 2, `--symmetry {args.symmetry}`, default options, "
             f"{args.seconds:g} s per run (a run stops at its first scheme of the target rank). Levels: seconds to "
             "each rank (for several walkers, the first walker there). CPU s: this process and its walkers.", "",
             "| seed | walkers | best rank mod 2 | time to each level (s) | orbit flips | orbit flips/s | wall s | CPU s | load after |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lv = ", ".join(f"{k}: {v:.1f}" for k, v in r["levels"].items())
        lines.append(f"| {r['seed']} | {r['workers']} | {r['best_rank']}{' (found)' if r['found'] else ''} | {lv} | "
                     f"{r['orbit_flips']:.3g} | {r['flips_per_s']:.3g} | {r['wall_s']} | {r['cpu_s']} | {r['load']} |")
    ratios = [b["flips_per_s"] / a["flips_per_s"] for a, b in zip(rows[0::2], rows[1::2]) if a["flips_per_s"]]
    if ratios:
        lines += ["", f"Orbit flips/s, {args.workers} walkers over 1, per seed: "
                  + ", ".join(f"{x:.2f}" for x in ratios) + "."]
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    (out / f"{args.name}.json").write_text(json.dumps({"command": cmd, "machine": info, "rows": rows}, indent=1))
    print(f"wrote {out / (args.name + '.md')}")


if __name__ == "__main__":
    main()
