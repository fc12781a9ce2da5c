"""CIFAR-10 path timing on a synthetic directory in the python-pickle layout, read by the real reader.

    PYTHONPATH=$PWD python benchmarks/nn_cifar_synthetic.py [--device cuda] [--per-batch N] [--epochs T,A,B,C]

Random images and labels: accuracies are meaningless (chance); only the timings and counts are reported.
Writes benchmarks/results/nn-cifar-synthetic-{device}.md and .json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe, machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def write_dir(root: Path, per_batch: int, n_test: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, n in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        with open(root / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": [int(v) for v in rng.integers(0, 10, n)],
                         b"batch_label": name.encode()}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--per-batch", type=int, default=200)
    ap.add_argument("--epochs", default="1,1,1,1", help="teacher, full-precision, ternary, fine-tune epochs")
    a = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from algodiscover.nn.experiment import train_experiment
    te, *se = (int(v) for v in a.epochs.split(","))
    info = machine(a.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cifar-10-batches-py"
        write_dir(root, a.per_batch, a.per_batch)
        t = time.perf_counter()
        rep = train_experiment("cifar10", Path(tmp) / "out", data_dir=root, teacher_epochs=te, student_epochs=se,
                               device=a.device, log=lambda *x: None)
        wall = time.perf_counter() - t
    rows = {"device": a.device, "n_train": 5 * a.per_batch, "n_test": a.per_batch, "epochs": a.epochs,
            "wall_s": round(wall, 2), "teacher_multiplications": rep["teacher"]["multiplications"],
            "student_multiplications": rep["student"]["multiplications"],
            "multiplications_cut": rep["multiplications_cut"], "ranks": rep["student"]["ranks"]}
    cmd = "PYTHONPATH=$PWD python benchmarks/nn_cifar_synthetic.py " + " ".join(sys.argv[1:])
    name = f"nn-cifar-synthetic-{a.device.split(':')[0]}"
    out = REPO / "benchmarks" / "results"
    (out / f"{name}.json").write_text(json.dumps({"command": cmd, "machine": info, "result": rows}, indent=1))
    (out / f"{name}.md").write_text(
        f"# nn: CIFAR-10 path on a synthetic pickle-layout directory (timing only)\n\n"
        f"Command: `{cmd}`\n\nMachine: {describe(info)} (shared machine).\n\n"
        f"Random images: accuracies are chance and not reported. {rows['n_train']} training and {rows['n_test']} "
        f"test images, epochs (teacher, full precision, ternary, fine-tune) {a.epochs}: **{rows['wall_s']} s** "
        f"in all (data read, teacher, student, counts, deployed check, files).\n\n"
        f"Multiplications per image: teacher {rows['teacher_multiplications']}, student "
        f"{rows['student_multiplications']} ({100 * rows['multiplications_cut']:.2f} % fewer), ranks {rows['ranks']}.\n")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
