"""Time the ``discover`` CLI end to end (wall clock, torch import included) for the issue-2 criteria:

    <2,2,2>:7   median of 5 seeds under 30 s
    <2,2,3>:11 and <2,3,3>:15   each within 10 minutes

    python benchmarks/discover_cli.py [--seeds 5] [--cases 2x2x2:7 2x2x3:11 2x3x3:15] [--limit 600]

Every run is ``discover --shape S --rank R --seed K --quiet --out FILE`` in a fresh process; the
written file is re-proven with ``algodiscover.load``.  Results: benchmarks/results/discover-cli-TAG.{md,json}.
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402


def one(shape, rank, seed, limit):
    from algodiscover import load
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "s.json"
        cmd = [sys.executable, "-c", "import sys; from algodiscover.cli import discover_main; sys.exit(discover_main())",
               "--shape", shape, "--rank", str(rank), "--seed", str(seed), "--quiet", "--out", str(out),
               "--time-limit", str(limit)]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.monotonic() - t0
        ok = r.returncode == 0 and out.exists() and load(out).verify().ok
    return {"shape": shape, "rank": rank, "seed": seed, "exit": r.returncode, "proven": bool(ok),
            "seconds": round(wall, 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", default=["2x2x2:7", "2x2x3:11", "2x3x3:15"])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--limit", type=float, default=600.0, help="--time-limit passed to discover")
    p.add_argument("--tag", default=None)
    a = p.parse_args(argv)
    info = machine("cpu")
    tag = a.tag or time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for case in a.cases:
        shape, rank = case.split(":")
        for seed in range(a.seeds):
            r = one(shape, int(rank), seed, a.limit)
            rows.append(r)
            print(json.dumps(r), flush=True)
    lines = [f"# `discover` CLI wall clock ({tag})", "", f"Machine: {describe(info)}.",
             "The 2 CPU cores were shared with other jobs while this ran: the figures are upper bounds on time.", "",
             f"Command: `python benchmarks/discover_cli.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             "Each run: `discover --shape S --rank R --seed K --quiet --out FILE --time-limit LIMIT` in a fresh process "
             "(torch import included); the file is re-proven.", "",
             "| case | seeds | proven | median s | max s | per seed (s) |", "|---|---|---|---|---|---|"]
    summary = []
    for case in a.cases:
        shape, rank = case.split(":")
        rs = [r for r in rows if r["shape"] == shape and r["rank"] == int(rank)]
        secs = [r["seconds"] for r in rs]
        s = {"case": case, "seeds": len(rs), "proven": sum(r["proven"] for r in rs),
             "median_s": statistics.median(secs), "max_s": max(secs)}
        summary.append(s)
        lines.append(f"| <{shape.replace('x', ',')}>:{rank} | {len(rs)} | {s['proven']}/{len(rs)} | {s['median_s']:.1f} | "
                     f"{s['max_s']:.1f} | {', '.join(f'{x:.1f}' for x in secs)} |")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"discover-cli-{tag}.json").write_text(json.dumps({"benchmark": "discover-cli", "machine": info,
                                                              "summary": summary, "runs": rows}, indent=1) + "\n")
    (out / f"discover-cli-{tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
