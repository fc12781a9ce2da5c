"""`algodiscover catalog classes --time-limit T` ends within T + 2 s, whatever the catalogue holds.

A catalogue of Laderman's scheme and N random images of it under the symmetry group (rational basis changes,
product permutations and scalings: all equivalent, so every check has to find its transformation) is
classified by a fresh `python -m algodiscover catalog classes --time-limit T` process; the wall time of the
whole process (interpreter start-up included) is compared with T + 2 s.

    python benchmarks/classes_time_limit.py [--images 60] [--limits 2 5 10]

Writes benchmarks/results/classes-time-limit.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _machine import describe, machine  # noqa: E402


def build(db: Path, images: int, seed: int) -> int:
    import numpy as np

    from algodiscover import examples
    from algodiscover.catalog import Catalog
    from algodiscover.symmetry import random_element
    lad = examples.laderman()
    rng = np.random.default_rng(seed)
    ims = [random_element(lad.shape, rng, rank=23, rational=True).apply(lad) for _ in range(images)]
    with Catalog(db) as cat:
        return sum(new for _, new in cat.add_many([lad, *ims]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--limits", type=float, nargs="+", default=[2.0, 5.0, 10.0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    info = machine()
    tmp = Path(tempfile.mkdtemp(prefix="classes-bench-"))
    try:
        base = tmp / "base.sqlite"
        n = build(base, args.images, args.seed)
        rows = []
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        for T in args.limits:
            db = tmp / f"c{T}.sqlite"
            shutil.copy(base, db)
            cmd = [sys.executable, "-m", "algodiscover", "catalog", "classes", "--db", str(db), "--time-limit", f"{T:g}"]
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=T + 120)
            wall = time.monotonic() - t0
            first = r.stdout.splitlines()[0] if r.stdout else r.stderr.strip()
            rows.append({"time_limit": T, "wall_s": round(wall, 2), "within_limit_plus_2": wall <= T + 2,
                         "exit": r.returncode, "summary": first,
                         "not_reached": "not reached" in r.stdout})
            print(f"--time-limit {T:g}: {wall:.2f} s wall; {first}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/classes_time_limit.py " + " ".join(sys.argv[1:])
    (out / "classes-time-limit.json").write_text(json.dumps(
        {"command": command.strip(), "machine": info, "schemes": n, "runs": rows}, indent=2) + "\n")
    lines = ["# `catalog classes --time-limit` bounds the whole command", "",
             f"Machine: {describe(info)}. Shared machine: figures are upper bounds on the time needed.",
             f"Command: `{command.strip()}`", "",
             f"Catalogue: Laderman's ⟨3,3,3⟩:23 and {n - 1} random images of it under the symmetry group "
             f"({n} schemes, all equivalent). Wall time of a fresh `python -m algodiscover catalog classes "
             f"--time-limit T` process, interpreter start-up included.", "",
             "| --time-limit T | wall time | within T + 2 s | classified |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['time_limit']:g} s | {r['wall_s']:.2f} s | {'yes' if r['within_limit_plus_2'] else 'NO'} | "
                     f"{r['summary']} |")
    (out / "classes-time-limit.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'classes-time-limit.md'}")
    return 0 if all(r["within_limit_plus_2"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
