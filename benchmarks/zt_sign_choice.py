"""The ZT walk (``discover --field 3 --ternary``) with and without the sign choice, side by side.

    python benchmarks/zt_sign_choice.py --baseline 72aacf6 --seeds 0 1 2 3 4 5 6 7 --time 60

A ZT flip ``b_i + alpha b_j``, ``c_j - sg alpha c_i`` is refused when its integer result has an entry +-2.
Before the sign choice the walk drew alpha and refused; now it tries -alpha before refusing.  This runs the
engine as whole processes (``python -m algodiscover discover ...``) from the baseline commit (checked out
with ``git worktree`` in a temporary directory outside the repository) and from this tree, interleaved seed
by seed on one core, for each case: the seconds to the rank asked (the walker's own clock, from its
checkpoint), the flips made, the flips refused and the best rank.  Writes
benchmarks/results/zt-sign-choice.md and .json (command, machine, load average).
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

#: (name, shape, rank asked, extra arguments): the start files are this toolkit's own results
CASES = (("333-23-standard", "3x3x3", 23, []),
         ("445-62-from-555-93", "4x4x5", 62, ["--start", "results/5x5x5-r93.json"]))


def run_one(tree: Path, shape: str, rank: int, extra: list[str], seed: int, seconds: float, tmp: Path) -> dict:
    ck = tmp / f"ck-{tree.name}-{shape}-{seed}"
    cmd = [sys.executable, "-m", "algodiscover", "discover", "--engine", "flip", "--field", "3", "--ternary",
           "--shape", shape, "--rank", str(rank), "--seed", str(seed), "--time-limit", str(seconds),
           "--workers", "1", "--no-catalog", "--quiet", "--checkpoint", str(ck), *extra]
    t = time.monotonic()
    p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    wall = time.monotonic() - t
    st = json.loads((ck / "walkers" / "walker-000.json").read_text())
    levels = {int(k): v for k, v in st["levels"].items()}
    reached = st["best"] <= rank
    return {"rc": p.returncode, "reached": reached, "best": st["best"],
            "seconds_to_rank": levels.get(rank) if reached else None, "walk_seconds": st["seconds"],
            "flips": st["counters"][0], "refused": st["counters"][4], "wall": round(wall, 2),
            "last_line": (p.stdout.strip().splitlines() or p.stderr.strip().splitlines() or [""])[-1][:300]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default="72aacf6", help="commit of the walk without the sign choice")
    ap.add_argument("--candidate", default=None,
                    help="commit of the walk with the sign choice (default: this tree; the sign choice was not "
                         "adopted, see benchmarks/results/zt-sign-choice.md: use the commit that had it)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5, 6, 7])
    ap.add_argument("--time", type=float, default=60.0, help="time limit of each run (seconds)")
    ap.add_argument("--cases", nargs="+", default=[c[0] for c in CASES])
    ap.add_argument("--name", default="zt-sign-choice")
    args = ap.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="zt-sign-") as td:
        tmp = Path(td)
        base = tmp / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=ROOT, check=True,
                       capture_output=True)
        cand = ROOT
        if args.candidate:
            cand = tmp / "candidate"
            subprocess.run(["git", "worktree", "add", "--detach", str(cand), args.candidate], cwd=ROOT, check=True,
                           capture_output=True)
        try:
            trees = {"baseline (blind sign)": base, "sign choice": cand}
            for tree in trees.values():  # compile each tree's kernels (numba caches them beside its sources)
                run_one(tree, "2x2x2", 7, [], 0, 60, tmp)
            for name, shape, rank, extra in CASES:
                if name not in args.cases:
                    continue
                for seed in args.seeds:
                    for label, tree in trees.items():
                        r = run_one(tree, shape, rank, extra, seed, args.time, tmp)
                        r.update(case=name, walk=label, seed=seed)
                        rows.append(r)
                        print(json.dumps(r), flush=True)
        finally:
            for t in {base, cand} - {ROOT}:
                subprocess.run(["git", "worktree", "remove", "--force", str(t)], cwd=ROOT, capture_output=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/zt_sign_choice.py " + " ".join(sys.argv[1:])
    (out / f"{args.name}.json").write_text(json.dumps({"command": command, "started": started, "machine": machine(),
                                                       "load_before": load0, "rows": rows}, indent=1))
    lines = [f"# The ZT walk with and without the sign choice", "",
             f"Started {started}. Command: `{command}`", "",
             f"Machine: {describe(machine())}; load average before {[round(x, 2) for x in load0]}. Each run is a whole "
             f"process on one core (`discover --engine flip --field 3 --ternary --workers 1`), the two walks "
             f"interleaved seed by seed; seconds are the walker's own (compile excluded), capped at {args.time:g} s.",
             "", "| case | walk | seeds reaching the rank | median s to the rank (reached) | flips/s | refused / (flips + refused) |",
             "|---|---|---|---|---|---|"]
    for name, *_ in CASES:
        for label in ("baseline (blind sign)", "sign choice"):
            rs = [r for r in rows if r["case"] == name and r["walk"] == label]
            if not rs:
                continue
            ok = [r["seconds_to_rank"] for r in rs if r["reached"]]
            fl = sum(r["flips"] for r in rs)
            rf = sum(r["refused"] for r in rs)
            ws = sum(r["walk_seconds"] for r in rs)
            lines.append(f"| {name} | {label} | {len(ok)}/{len(rs)} | "
                         f"{statistics.median(ok):.2f} | " if ok else f"| {name} | {label} | 0/{len(rs)} | - | ")
            lines[-1] += f"{fl / max(ws, 1e-9):.3g} | {rf / max(fl + rf, 1):.3f} |"
    lines += ["", "Per run (seconds to the rank, or the best rank when it was not reached):", "",
              "| case | seed | " + " | ".join(("baseline (blind sign)", "sign choice")) + " |", "|---|---|---|---|"]
    for name, *_ in CASES:
        for seed in args.seeds:
            cells = []
            for label in ("baseline (blind sign)", "sign choice"):
                r = next((r for r in rows if r["case"] == name and r["walk"] == label and r["seed"] == seed), None)
                if r is None:
                    cells.append("-")
                else:
                    cells.append(f"{r['seconds_to_rank']:.2f} s" if r["reached"] else f"not reached (best {r['best']})")
            if any(c != "-" for c in cells):
                lines.append(f"| {name} | {seed} | " + " | ".join(cells) + " |")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
