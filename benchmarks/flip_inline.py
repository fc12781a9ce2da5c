"""Cold compile time and speed of the GF(2) flip kernel: this tree's flipkernel.py against the file as of a git
revision, both at their default walk version, paired and interleaved in one process.

    python benchmarks/flip_inline.py --before-rev REV [--seconds 5] [--reps 3]

Each kernel file is loaded as its own module from a temporary directory (so numba compiles it cold, into
that directory's cache); then 5-s walks from the standard algorithm on <4,4,4> and <5,5,5> (default plateau
and climb, the reduction check after every flip, as the engine runs it), order alternating run by run.
Writes benchmarks/results/flip-kernel-inline.md/.json with the command and the machine."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_kernel(src: str, name: str):
    src = src.replace("from ..", "from algodiscover.").replace("from .", "from algodiscover.search.")
    d = Path(tempfile.mkdtemp(prefix="flipkernel-"))
    path = d / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    t0 = time.perf_counter()
    mod.warm_up()
    return mod, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before-rev", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    from algodiscover.core.shape import Shape
    from algodiscover.search import flip, gf2
    gf2.warm_up()
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{a.before_rev}:algodiscover/search/flipkernel.py"],
                         capture_output=True, text=True, check=True).stdout
    new = (ROOT / "algodiscover" / "search" / "flipkernel.py").read_text()
    mods, compile_s = {}, {}
    for label, src in ((f"git {a.before_rev}", old), ("this tree", new)):
        mods[label], compile_s[label] = load_kernel(src, "fk_" + ("before" if label.startswith("git") else "now"))
    rows = []
    for text in ("4x4x4", "5x5x5"):
        s = Shape(*map(int, text.split("x")))
        F0, r0 = gf2.standard_bits(s)
        runs = {k: [] for k in mods}
        for rep in range(a.reps):
            for label in (list(mods) if rep % 2 == 0 else list(mods)[::-1]):
                mod = mods[label]
                cap = r0 + 32
                F = np.zeros((3, cap), dtype=np.uint64)
                F[:, :r0] = F0[:, :r0]
                r, best = r0, r0
                ix = mod.make_index(cap)
                state = np.array([12345 + rep], dtype=np.uint64)
                c = mod.new_counters()
                t0, c0 = time.perf_counter(), time.thread_time()
                while time.perf_counter() - t0 < a.seconds:
                    r = mod.walk(ix, F, r, best - 1, flip.CHUNK, flip.DEFAULTS["plateau"],
                                 best + flip.DEFAULTS["climb"], state, c)
                    best = min(best, r)
                cpu = time.thread_time() - c0
                assert gf2.is_valid_mod2(s, F, r)
                runs[label].append(c[0] / cpu)
        med = {k: statistics.median(v) for k, v in runs.items()}
        rows.append({"shape": text, "flips_per_cpu_s": med, "runs": runs})
    labels = list(mods)
    cmd = "python benchmarks/flip_inline.py " + " ".join(sys.argv[1:])
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    out = {"command": cmd, "machine": machine, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "compile_s": compile_s, "rows": rows}
    res = ROOT / "benchmarks" / "results"
    (res / "flip-kernel-inline.json").write_text(json.dumps(out, indent=1))
    lines = ["# GF(2) flip kernel: cold compile and speed, paired", "",
             f"Command: `{cmd}`. Machine: {machine}. {out['started']}.", "",
             "Both kernel files loaded as modules from temporary directories (cold numba compile each), then "
             f"{a.seconds:g}-s walks from the standard algorithm, default walk version, order alternating; "
             f"median of {a.reps} runs, flips per CPU second of the thread.", "",
             f"| | {labels[0]} | {labels[1]} | ratio |", "|---|---|---|---|",
             f"| cold compile (s) | {compile_s[labels[0]]:.1f} | {compile_s[labels[1]]:.1f} | "
             f"{compile_s[labels[1]] / compile_s[labels[0]]:.2f} |"]
    for row in rows:
        m = row["flips_per_cpu_s"]
        lines.append(f"| {row['shape']} flips/s (CPU) | {m[labels[0]]:.3g} | {m[labels[1]]:.3g} | "
                     f"{m[labels[1]] / m[labels[0]]:.3f} |")
    (res / "flip-kernel-inline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
