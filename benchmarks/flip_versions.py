"""Flip kernel versions side by side: time to a goal rank with kernel version 1 (before) and 2 (now).

Each (shape, seed) runs once per version, the versions interleaved so that they see the same machine
load; engine defaults otherwise (one worker, the given init and ring).  Writes
benchmarks/results/NAME.md and NAME.json.

    python benchmarks/flip_versions.py                          # <3,3,3>:23 and <4,4,4>:49 mod 2, seeds 0-2
    python benchmarks/flip_versions.py --targets 4x4x4:49:Z2 --seeds 5 --time 120
    python benchmarks/flip_versions.py --configs default 4:2 --name flip-kernel4-climb2   # kernel:climb pairs

A config is a kernel version (``2``), a version with a ``--climb`` (``4:2``), or ``default`` (the engine's
default kernel for the shape and its default climb): ``--configs`` replaces ``--versions``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from flip import machine, parse_target, time_to_rank  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="*", default=["3x3x3:23:Z2", "4x4x4:49:Z2"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--time", type=float, default=60.0, help="time cap per run in seconds")
    ap.add_argument("--init", default="standard")
    ap.add_argument("--versions", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--configs", nargs="*", default=None,
                    help="kernel[:climb] or default, e.g. default 4:2 (replaces --versions)")
    ap.add_argument("--name", default="flip-versions")
    args = ap.parse_args(argv)
    from algodiscover.search import flipkernel
    flipkernel.warm_up()
    out = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "command": "python benchmarks/flip_versions.py " + " ".join(sys.argv[1:]), "rows": []}
    configs = args.configs if args.configs is not None else [str(v) for v in args.versions]
    for text in args.targets:
        shape, goal, ring = parse_target(text)
        for seed in range(args.seeds):
            for v in configs:
                row = time_to_rank(shape, goal, ring, seed, 1, args.time, None, {"init": args.init, **_config(v)})
                row["kernel"] = v
                print(json.dumps(row), flush=True)
                out["rows"].append(row)
    res = HERE / "results"
    (res / f"{args.name}.json").write_text(json.dumps(out, indent=1, default=float) + "\n")
    m = out["machine"]
    lines = [f"# Flip kernel versions ({args.name})", "",
             f"Machine: {m['node']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average at start "
             f"{m['load_avg_1min_at_start']} (shared with other jobs). Started {out['started']}. "
             f"Command: `{out['command']}`", "",
             "In-process wall time from the call to the engine to the first scheme at the goal (one worker, "
             f"--init {args.init}, engine defaults otherwise, numba kernels already loaded); versions interleaved.", "",
             "| shape | goal | seed | kernel | reached | s | best mod-2 rank | flips |", "|---|---|---|---|---|---|---|---|"]
    for r in out["rows"]:
        secs = f"{r['seconds']:.2f}" if r["seconds"] is not None else "-"
        lines.append(f"| {r['shape']} | {r['goal']} {r['ring_goal']} | {r['seed']} | {_label(r['kernel'])} | "
                     f"{'yes' if r['reached'] else 'no'} | {secs} | {r['best_rank_mod2']} | {r['flips']} |")
    lines += ["", "| shape | kernel | reached | median s (reached runs) |", "|---|---|---|---|"]
    for text in args.targets:
        shape, goal, ring = parse_target(text)
        name = f"{shape.m}x{shape.k}x{shape.n}"
        for v in configs:
            rs = [r for r in out["rows"] if r["shape"] == name and r["goal"] == goal and r["kernel"] == v]
            ok = [r["seconds"] for r in rs if r["reached"]]
            med = f"{statistics.median(ok):.2f}" if ok else "-"
            lines.append(f"| {name}:{goal} {ring} | {_label(v)} | {len(ok)}/{len(rs)} | {med} |")
    (res / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    return 0


def _config(text: str) -> dict:
    """'default' -> {}; '4' -> {'kernel': 4}; '4:2' -> {'kernel': 4, 'climb': 2}."""
    if text == "default":
        return {}
    k, _, c = text.partition(":")
    return {"kernel": int(k), **({"climb": int(c)} if c else {})}


def _label(v) -> str:
    """How a config is shown: 'default', 'v4', 'v4 climb 2' (rows of older runs hold a kernel number)."""
    c = _config(str(v))
    return "default" if not c else f"v{c['kernel']}" + (f" climb {c['climb']}" if "climb" in c else "")


if __name__ == "__main__":
    sys.exit(main())
