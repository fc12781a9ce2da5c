"""The issue's flip targets: long checkpointed runs, summarised from their checkpoint directories.

Each run is a `discover --engine flip ... --checkpoint DIR` started by hand (niced, one worker, a seed;
the exact commands are in benchmarks/flip_results.sh and in the table).  This script reads, for each
run, DIR/checkpoint.json (shape, rank, seed, resolved options), DIR/walkers/walker-000.json (best rank
mod 2, the time and flips to reach each rank level, flips, walking seconds, pools) and DIR/schemes/
(the proven schemes), plus the run's final message (best proven rank above the target) and its CPU
seconds when given, and writes benchmarks/results/flip-targets-long.json and the "Long runs" section
of benchmarks/results/flip-targets.md (the section is replaced, the rest of the file kept).

    python benchmarks/flip_targets_long.py --run DIR[,LOG[,CPU_SECONDS[,WALL_SECONDS]]] ...

Times are walking wall seconds of the walker (from its start, without numba compilation); on a shared
machine the CPU seconds (utime + stime of the process) say how much of that time the run really had.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _machine import describe, machine as machine_info  # noqa: E402

BEGIN, END = "<!-- long runs: begin (benchmarks/flip_targets_long.py) -->", "<!-- long runs: end -->"


def diversity(snaps: list[list[str]]) -> float | None:
    """Mean over pairs of pool schemes of the fraction of products (a, b, c) one has and the other lacks."""
    sets = []
    for rows in snaps:
        r = len(rows[0]) // 16
        sets.append({tuple(rows[s][16 * t:16 * t + 16] for s in range(3)) for t in range(r)})
    pairs = [(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))][:2000]
    if not pairs:
        return None
    return round(sum(1 - len(sets[i] & sets[j]) / max(len(sets[i]), 1) for i, j in pairs) / len(pairs), 3)


def _default(opts: dict, key: str):
    from algodiscover.search.flip import DEFAULTS, POOL_DEFAULTS
    return {**DEFAULTS, **(POOL_DEFAULTS if opts.get("policy") == "pool" else {})}[key]


def summarise(ck: Path, log: str | None, cpu: float | None, wall: float | None) -> dict:
    m = json.loads((ck / "checkpoint.json").read_text())
    w = json.loads((ck / "walkers" / "walker-000.json").read_text())
    opts = m["options"]
    shape = "x".join(map(str, m["shape"]))
    levels = {int(k): v for k, v in w["levels"].items()}
    proven = []
    for f in sorted((ck / "schemes").glob("*.json")):
        d = json.loads(f.read_text())
        proven.append({"file": f.name, "rank": d.get("rank") or len(d.get("W_a", [])),
                       "ring": (d.get("verified") or {}).get("ring") or d.get("ring")})
    final = None
    best_lifted = w.get("lifted_best")
    if log and Path(log).exists():
        lines = [ln for ln in Path(log).read_text().splitlines() if ln.strip()]
        final = next((ln for ln in reversed(lines) if "best rank reached" in ln or "rank" in ln), None)
        if final:
            mm = re.search(r"best proven (\d+) \((\w+)\)", final)
            if mm and best_lifted is None:
                best_lifted = f"{mm.group(1)} ({mm.group(2)}, above the target)"
    flips = int(w["counters"][0])
    secs = float(w["seconds"])
    cmd = (f"nice -n 15 python -m algodiscover discover --engine flip --workers 1 --no-catalog --shape {shape} "
           f"--rank {m['rank']} --ring {opts['ring']} --seed {m['seed']} --init {opts['init']}"
           + (f" --policy {opts['policy']}" if opts.get("policy", "walk") != "walk" else "")
           + "".join(f" --{k.replace('_', '-')} {opts[k]}" for k in ("plateau", "restart_after", "pool_size", "climb", "grow")
                     if k in opts and opts[k] != _default(opts, k))
           + f" --checkpoint {ck}")
    return {"shape": shape, "rank": m["rank"], "ring": opts["ring"], "seed": m["seed"], "workers": opts["workers"],
            "options": opts, "command": cmd, "best_mod2": w["best"], "best_lifted": best_lifted,
            "reached": bool(proven) and min(p["rank"] for p in proven) <= m["rank"], "proven": proven,
            "levels": {str(k): {"seconds": v["seconds"], "flips": v["flips"]} for k, v in sorted(levels.items(), reverse=True)},
            "flips": flips, "walk_seconds": round(secs, 1), "flips_per_s_wall": flips / max(secs, 1e-9),
            "cpu_seconds": cpu, "flips_per_cpu_s": flips / cpu if cpu else None, "wall_seconds": wall,
            "restarts_or_paths": w["restarts"], "pool": w.get("pool"),
            "pools": {k: len(v) for k, v in w["pools"].items()},
            "pool_diversity": {k: diversity(v) for k, v in w["pools"].items() if len(v) > 1},
            "final_message": final}


def table(rows, info) -> str:
    out = [BEGIN, "## Long runs", "",
           f"Machine: {describe(info)}; the 2 cores were shared with three other engineers' jobs and the lead's "
           f"(load 4-7): runs were niced (nice -n 15) and had the CPU seconds below, a fraction of their wall time. "
           f"Written {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} by `python benchmarks/flip_targets_long.py "
           + " ".join(f"--run {r['_arg']}" for r in rows) + "`.", "",
           "| shape | goal | ring | seed | policy | reached | best mod 2 | best lifted | wall s | walk s | CPU s | "
           "flips | flips/s (wall) | flips/CPU-s | paths/restarts | pools (rank: schemes, diversity) | "
           "time to each level (walk s) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lv = ", ".join(f"{k}: {v['seconds']}" for k, v in list(r["levels"].items())[-8:])
        out.append(f"| {r['shape']} | {r['rank']} | {r['ring']} | {r['seed']} | {r['options'].get('policy', 'walk')} | "
                   f"{'yes' if r['reached'] else 'no'} | {r['best_mod2']} | {r['best_lifted'] if r['best_lifted'] is not None else '-'} | "
                   f"{r['wall_seconds'] or '-'} | {r['walk_seconds']} | {r['cpu_seconds'] or '-'} | {r['flips']:.3g} | "
                   f"{r['flips_per_s_wall']:.3g} | {('%.3g' % r['flips_per_cpu_s']) if r['flips_per_cpu_s'] else '-'} | "
                   f"{r['restarts_or_paths']} | "
                   + ", ".join(f"{k}: {n}" + (f" ({r['pool_diversity'][k]})" if k in r["pool_diversity"] else "")
                               for k, n in sorted(r["pools"].items()))
                   + f" | {lv} |")
    out += ["", "Commands (each also in the checkpoint's checkpoint.json and, for a reached target, in the result "
            "file's provenance):", ""]
    out += [f"- `{r['command']} --time-limit T`" for r in rows]
    out += ["", "Diversity of a pool: the mean, over pairs of its schemes, of the fraction of products one scheme has "
            "and the other lacks (0: copies; 1: no product in common)."]
    out += ["", END]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, help="DIR[,LOG[,CPU_SECONDS[,WALL_SECONDS]]]")
    ap.add_argument("--out", default=str(HERE / "results" / "flip-targets"))
    a = ap.parse_args(argv)
    info = machine_info()
    rows = []
    for spec in a.run:
        parts = spec.split(",")
        ck = Path(parts[0])
        log = parts[1] if len(parts) > 1 and parts[1] else None
        cpu = float(parts[2]) if len(parts) > 2 and parts[2] else None
        wall = float(parts[3]) if len(parts) > 3 and parts[3] else None
        r = summarise(ck, log, cpu, wall)
        r["_arg"] = spec
        rows.append(r)
    md = Path(a.out + ".md")
    old = md.read_text() if md.exists() else "# Flip-graph engine (flip-targets)\n"
    if BEGIN in old:
        old = old[:old.index(BEGIN)].rstrip() + "\n" + old[old.index(END) + len(END):].lstrip("\n")
    md.write_text(old.rstrip() + "\n\n" + table(rows, info) + "\n")
    Path(a.out + "-long.json").write_text(json.dumps({"machine": info, "runs": rows}, indent=1, default=str))
    print(md)


if __name__ == "__main__":
    main()
