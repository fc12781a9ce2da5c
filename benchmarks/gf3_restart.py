"""The GF(3) walk's ``restart_after`` (``--restart-after``) with kernel 2: time to a rank level.

    python benchmarks/gf3_restart.py --values 4000000 40000000 400000000 --seeds 0 1 2 3 --time 60

The default (4x10^6 flips without a new best level, then a restart from a pool scheme at the best level or
one above) was set for the scan walk (kernel 1, ~3x10^5 flips/s: a restart every ~13 s); kernel 2 makes
~8x10^6 flips/s, so it restarts about twice a second.  Each run is a whole process
(``python -m algodiscover discover --engine flip --field 3 ...``, one core), the values interleaved seed by
seed; the seconds are the walker's own (from its checkpoint).  Cases: this toolkit's own results as starts.
Writes benchmarks/results/gf3-restart.md and .json (command, machine, load average).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe, machine  # noqa: E402

#: (name, shape, rank asked, extra arguments)
CASES = (("445-62-ZT-from-555-93", "4x4x5", 62, ["--ternary", "--start", "results/5x5x5-r93.json"]),
         ("245-34-Z3-from-345-47", "2x4x5", 34, ["--ring", "Z3", "--start", "results/3x4x5-r47.json"]))


def run_one(shape, rank, extra, seed, value, seconds, tmp: Path) -> dict:
    ck = tmp / f"ck-{shape}-{seed}-{value}"
    cmd = [sys.executable, "-m", "algodiscover", "discover", "--engine", "flip", "--field", "3", "--shape", shape,
           "--rank", str(rank), "--seed", str(seed), "--time-limit", str(seconds), "--restart-after", str(value),
           "--workers", "1", "--no-catalog", "--quiet", "--checkpoint", str(ck), *extra]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    st = json.loads((ck / "walkers" / "walker-000.json").read_text())
    levels = {int(k): v for k, v in st["levels"].items()}
    return {"rc": p.returncode, "reached": st["best"] <= rank, "best": st["best"],
            "seconds_to_rank": levels.get(rank), "walk_seconds": st["seconds"], "flips": st["counters"][0],
            "restarts": st["restarts"], "levels": levels}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--values", type=int, nargs="+", default=[4_000_000, 40_000_000, 400_000_000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--time", type=float, default=60.0)
    ap.add_argument("--cases", nargs="+", default=[c[0] for c in CASES])
    ap.add_argument("--name", default="gf3-restart")
    args = ap.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gf3-restart-") as td:
        tmp = Path(td)
        run_one("2x2x2", 7, [], 0, 4_000_000, 60, tmp)  # compile once (numba caches the kernels)
        for name, shape, rank, extra in CASES:
            if name not in args.cases:
                continue
            for seed in args.seeds:
                for v in args.values:
                    r = run_one(shape, rank, extra, seed, v, args.time, tmp)
                    r.update(case=name, seed=seed, restart_after=v)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
    out = ROOT / "benchmarks" / "results"
    command = "python benchmarks/gf3_restart.py " + " ".join(sys.argv[1:])
    (out / f"{args.name}.json").write_text(json.dumps({"command": command, "started": started, "machine": machine(),
                                                       "load_before": load0, "rows": rows}, indent=1))
    lines = ["# The GF(3) walk's restart_after with kernel 2", "", f"Started {started}. Command: `{command}`", "",
             f"Machine: {describe(machine())}; load average before {[round(x, 2) for x in load0]}. Whole processes, "
             f"one core, values interleaved seed by seed; walker seconds, capped at {args.time:g} s; a run that "
             f"misses counts as {args.time:g} s in the mean.", "",
             "| case | restart_after | seeds reaching the rank | median s (reached) | mean s (misses = cap) | restarts/s |",
             "|---|---|---|---|---|---|"]
    for name, *_ in CASES:
        for v in args.values:
            rs = [r for r in rows if r["case"] == name and r["restart_after"] == v]
            if not rs:
                continue
            ok = [r["seconds_to_rank"] for r in rs if r["reached"]]
            mean = statistics.mean(r["seconds_to_rank"] if r["reached"] else args.time for r in rs)
            rps = sum(r["restarts"] for r in rs) / max(sum(r["walk_seconds"] for r in rs), 1e-9)
            med = f"{statistics.median(ok):.1f}" if ok else "-"
            lines.append(f"| {name} | {v:.0e} | {len(ok)}/{len(rs)} | {med} | {mean:.1f} | {rps:.2f} |")
    lines += ["", "Per run: seconds to the rank, or the best rank reached.", "",
              "| case | seed | " + " | ".join(f"{v:.0e}" for v in args.values) + " |",
              "|---|---|" + "---|" * len(args.values)]
    for name, *_ in CASES:
        for seed in args.seeds:
            cells = []
            for v in args.values:
                r = next((r for r in rows if r["case"] == name and r["seed"] == seed and r["restart_after"] == v), None)
                cells.append("-" if r is None else (f"{r['seconds_to_rank']:.1f} s" if r["reached"]
                                                     else f"best {r['best']}"))
            if any(c != "-" for c in cells):
                lines.append(f"| {name} | {seed} | " + " | ".join(cells) + " |")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
