"""What the catalogue costs a search: ``discover`` with and without ``--no-catalog`` on the same seed.

Writes benchmarks/results/discover_catalog_overhead.md and .json.
Run:  python benchmarks/discover_catalog_overhead.py [--shape 2x2x2 --rank 7 --count 40 --repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run(args, extra, env):
    cmd = [sys.executable, "-c", "import sys; from algodiscover.cli import discover_main; sys.exit(discover_main())",
           "--shape", args.shape, "--rank", str(args.rank), "--count", str(args.count), "--seed", "0", "--quiet",
           *extra]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="2x2x2")
    ap.add_argument("--rank", type=int, default=7)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with_cat, without = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(a.repeats):
            without.append(run(a, ["--no-catalog"], env))
            with_cat.append(run(a, ["--db", str(Path(d) / f"c{i}.sqlite")], env))
    w, wo = statistics.median(with_cat), statistics.median(without)
    result = {"machine": {"node": platform.node(), "cpus": os.cpu_count(),
                          "note": "2 CPU cores shared with other processes; whole-process wall times"},
              "params": vars(a), "with_catalogue_s": with_cat, "without_catalogue_s": without,
              "median_with": round(w, 2), "median_without": round(wo, 2), "overhead_s": round(w - wo, 2)}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "discover_catalog_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    md = ["# What the catalogue costs a search",
          "",
          f"`python benchmarks/discover_catalog_overhead.py --shape {a.shape} --rank {a.rank} --count {a.count} "
          f"--repeats {a.repeats}` on {platform.node()} ({os.cpu_count()} CPUs shared with other processes; "
          "whole-process wall times, same seed, same work).",
          "",
          f"- `discover` finding {a.count} distinct schemes: median {wo:.2f} s with `--no-catalog`, "
          f"{w:.2f} s adding them to a new catalogue (difference {w - wo:+.2f} s; single runs "
          f"{[round(x, 2) for x in without]} without vs {[round(x, 2) for x in with_cat]} with: compare the "
          f"difference with the spread between runs)"]
    (out / "discover_catalog_overhead.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
