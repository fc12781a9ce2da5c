"""How long reading (and exactly re-proving) the public AlphaTensor archives takes.

Times ``algodiscover verify FILE --json`` end to end (a fresh process: import, unzip, exact
conversion of the float factors, Brent check, sympy cross-check of the small entries) on
../shared/known-schemes/alphatensor/factorizations_{r,f2}.npz, plus the in-process split
between parsing and verification.  The target is under 2 minutes for the 93 entries of ``_r``.

Writes benchmarks/results/formats.md and formats.json.  Run: python benchmarks/formats.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from algodiscover.core.verify import verify  # noqa: E402
from algodiscover.formats import FORMATS  # noqa: E402

SHARED = Path(os.environ.get("ALGODISCOVER_SHARED", REPO.parent / "shared"))
FILES = ["factorizations_r.npz", "factorizations_f2.npz"]


def cli_seconds(path: Path) -> tuple[float, int, Counter, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "algodiscover", "verify", str(path), "--json"],
                       capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    rings = Counter(json.loads(line)["ring"] for line in r.stdout.splitlines())
    return seconds, r.returncode, rings, sum(rings.values())


def split_seconds(path: Path) -> tuple[float, float]:
    data = path.read_bytes()
    t0 = time.perf_counter()
    items = FORMATS["npz"].parse_many(data, source=str(path))
    t1 = time.perf_counter()
    for _, s in items:
        verify(s)
    return t1 - t0, time.perf_counter() - t1


def main():
    rows = []
    for name in FILES:
        path = SHARED / "known-schemes" / "alphatensor" / name
        if not path.is_file():
            print(f"skip {name}: not found under {SHARED}")
            continue
        runs = [cli_seconds(path) for _ in range(3)]
        parse_s, verify_s = split_seconds(path)
        secs = [r[0] for r in runs]
        _, code, rings, n = runs[0]
        row = {"file": name, "entries": n, "exit_code": code, "rings": dict(sorted(rings.items())),
               "cli_median_s": statistics.median(secs), "cli_runs_s": secs,
               "in_process_parse_s": parse_s, "in_process_verify_s": verify_s}
        rows.append(row)
        print(f"{name}: {n} entries, exit {code}, rings {dict(rings)}, CLI median {row['cli_median_s']:.1f} s "
              f"(parse {parse_s:.1f} s + verify {verify_s:.1f} s in process)", flush=True)
    machine = (f"{platform.node()} {platform.machine()} {platform.processor() or ''} "
               f"python {platform.python_version()}, {os.cpu_count()} CPUs")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "formats.json").write_text(json.dumps({"machine": machine, "cores_shared": True, "rows": rows}, indent=2))
    md = ["# Reading the AlphaTensor archives: `algodiscover verify FILE --json`", "",
          f"Machine: {machine}. The cores were shared with other jobs while this ran, so these",
          "times are upper bounds of what a quiet machine needs (throughput figures would be lower bounds).", "",
          "Command: `python benchmarks/formats.py` (CLI timed end to end, median of 3 runs; target < 120 s for `_r`).", "",
          "| file | entries | exit | rings | CLI median (s) | parse (s) | verify (s) |",
          "|---|---:|---:|---|---:|---:|---:|"]
    md += [f"| {r['file']} | {r['entries']} | {r['exit_code']} | "
           f"{', '.join(f'{k} {v}' for k, v in r['rings'].items())} | {r['cli_median_s']:.1f} | "
           f"{r['in_process_parse_s']:.1f} | {r['in_process_verify_s']:.1f} |" for r in rows]
    (out / "formats.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
