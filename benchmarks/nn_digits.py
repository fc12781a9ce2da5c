"""Digits: the default `algodiscover nn train --dataset digits` over 3 seeds, and ablations (no distillation,
r ∈ {0.5x, 1x, 2x}, p ∈ {1, 2}); writes benchmarks/results/nn-digits.md and .json.

    PYTHONPATH=$PWD python benchmarks/nn_digits.py [--quick]

Each configuration runs the CLI in a subprocess (as a user would), timed by wall clock; the load average is
recorded before and after each run (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe, machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

CONFIGS = [  # (label, extra CLI args)
    ("default (1.0x, p=1, distill), seed 0", ["--seed", "0"]),
    ("default (1.0x, p=1, distill), seed 1", ["--seed", "1"]),
    ("default (1.0x, p=1, distill), seed 2", ["--seed", "2"]),
    ("no distillation", ["--no-distill"]),
    ("r = 0.5x", ["--budget", "0.5x"]),
    ("r = 2x", ["--budget", "2.0x"]),
    ("p = 2 (r = 1.0x)", ["--p", "2"]),
    ("p = 2, r = 2x", ["--p", "2", "--budget", "2.0x"]),
]


def run(args, out):
    cmd = [sys.executable, "-m", "algodiscover", "nn", "train", "--dataset", "digits", "--out", str(out), "--quiet",
           *args]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    la0 = os.getloadavg()
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()[-500:]}")
    rep = json.loads((out / "report.json").read_text())
    return rep, wall, [round(x, 2) for x in la0], [round(x, 2) for x in os.getloadavg()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="few epochs (a smoke test of the script)")
    a = ap.parse_args()
    info = machine()
    extra = ["--teacher-epochs", "2", "--student-epochs", "1,1,1"] if a.quick else []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, args) in enumerate(CONFIGS):
            rep, wall, la0, la1 = run(args + extra, Path(tmp) / f"run{i}")
            rows.append({"label": label, "args": args + extra, "teacher_accuracy": rep["teacher"]["accuracy"],
                         "student_accuracy": rep["student"]["accuracy"],
                         "teacher_multiplications": rep["teacher"]["multiplications"],
                         "student_multiplications": rep["student"]["multiplications"],
                         "student_additions": rep["student"]["additions"],
                         "teacher_additions": rep["teacher"]["additions"],
                         "multiplications_cut": rep["multiplications_cut"], "ranks": rep["student"]["ranks"],
                         "deployed_accuracy_256": rep["student"]["deployed"]["accuracy"],
                         "wall_s": round(wall, 1), "report_seconds": rep["seconds"], "load_before": la0,
                         "load_after": la1})
            print(json.dumps(rows[-1]), flush=True)
    seeds = rows[:3]
    mean_t = sum(r["teacher_accuracy"] for r in seeds) / 3
    mean_s = sum(r["student_accuracy"] for r in seeds) / 3
    summary = {"teacher_accuracy_mean3": mean_t, "student_accuracy_mean3": mean_s,
               "drop_points_mean3": 100 * (mean_t - mean_s), "multiplications_cut": seeds[0]["multiplications_cut"],
               "max_wall_s_default": max(r["wall_s"] for r in seeds)}
    cmd = "PYTHONPATH=$PWD python benchmarks/nn_digits.py" + (" --quick" if a.quick else "")
    name = "nn-digits-quick" if a.quick else "nn-digits"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"command": cmd, "machine": info, "rows": rows,
                                                      "summary": summary}, indent=1))
    lines = [f"# nn: digits, SPN student vs teacher ({'quick smoke run' if a.quick else 'defaults'})", "",
             f"Command: `{cmd}` (each row: `algodiscover nn train --dataset digits --out DIR ARGS`).", "",
             f"Machine: {describe(info)}. **Shared machine** (other engineers' jobs running): wall times and load "
             f"averages per row below; torch uses 1 thread (the nn default).", "",
             "Teacher (pinned, seed 0): conv 1→16 3×3 pad 1, ReLU, conv 16→32 3×3 pad 1, ReLU, 2×2 max pool, "
             "linear 512→10. Multiplications per image: 64·16·9 + 64·32·144 + 512·10 = 309 248.",
             "Student, p = 1, r = 1.0x (r = each layer's outputs): the r products with â per output position: "
             "64·16 + 64·32 + 10 = 3 082, i.e. 99.003 % fewer. With p = 2 the r products are per 2×2 patch "
             "(16 patches): 16·16 + 16·32 + 10 = 778 at 1.0x.", "",
             "| configuration | teacher acc | student acc | Δ points | teacher mults | student mults | cut | "
             "student adds | wall s | load before → after |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['teacher_accuracy']:.4f} | {r['student_accuracy']:.4f} | "
                     f"{100 * (r['teacher_accuracy'] - r['student_accuracy']):+.2f} | {r['teacher_multiplications']} | "
                     f"{r['student_multiplications']} | {100 * r['multiplications_cut']:.3f} % | "
                     f"{r['student_additions']} | {r['wall_s']} | {r['load_before'][0]} → {r['load_after'][0]} |")
    lines += ["", f"Mean of the 3 default seeds: teacher {mean_t:.4f}, student {mean_s:.4f}, "
                  f"drop {summary['drop_points_mean3']:.2f} points; multiplications cut "
                  f"{100 * summary['multiplications_cut']:.3f} %; slowest default run {summary['max_wall_s_default']} s.",
              "", "Additions: the ternary W_b, W_c sums (nnz − 1 per row, after training) for the student; "
                  "the dense sums for the teacher. Bias, pooling and ReLU are reported separately in each "
                  "report.json and not counted here."]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
