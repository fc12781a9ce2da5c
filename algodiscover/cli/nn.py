"""``algodiscover nn train``: StrassenNets for networks (SPN layers, distillation) on digits, CIFAR-10 or text."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import AlgoDiscoverError


def _epochs3(text):
    try:
        v = tuple(int(s) for s in text.split(","))
    except ValueError:
        v = ()
    if len(v) != 3 or min(v) < 0:
        raise argparse.ArgumentTypeError(f"--student-epochs must be three non-negative integers A,B,C, got {text!r}")
    return v


def _nonneg_int(name):
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be an integer, got {text!r}") from None
        if v < 0:
            raise argparse.ArgumentTypeError(f"--{name} must be non-negative, got {v}")
        return v
    conv.__name__ = name
    return conv


def _float(name):
    def conv(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be a number, got {text!r}") from None
        if v != v or v in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"--{name} must be finite, got {text!r}")
        return v
    conv.__name__ = name
    return conv


def _budget(text):
    """R (a positive integer) or F followed by x (a positive factor); checked without importing torch."""
    import re
    m = re.fullmatch(r"\s*(?:(\d+)|(\d+(?:\.\d*)?|\.\d+)[xX])\s*", text)
    if not m or (m.group(1) and int(m.group(1)) < 1) or (m.group(2) and not float(m.group(2)) > 0):
        raise argparse.ArgumentTypeError(f"--budget must be a positive integer R or a factor like 1.0x, got {text!r}")
    return text.strip()


def register(sub) -> None:
    p = sub.add_parser("nn", help="SPN layers for networks (StrassenNets): train a student with a multiplication budget",
                       description="StrassenNets for networks: replace the matrix products of a network's layers by "
                                   "SPNs with ternary weights and a budget of r multiplications.")
    nsub = p.add_subparsers(dest="nn_command", metavar="ACTION", parser_class=type(p))
    nsub.required = True
    t = nsub.add_parser("train", help="train the teacher and its SPN student, write model, curves and report.json",
                        description="Train the pinned teacher and its SPN student (every conv, linear and LSTM layer "
                                    "replaced), with distillation; write the model, curves.png and report.json to --out.")
    t.add_argument("--dataset", required=True, choices=["digits", "cifar10", "text"])
    t.add_argument("--out", required=True, metavar="DIR", help="output directory")
    t.add_argument("--budget", type=_budget, default=None, metavar="R|Fx",
                   help="hidden units r per layer: an integer, or a multiple of each layer's outputs like 1.0x "
                        "(default 1.0x; text 2.0x)")
    t.add_argument("--p", type=_nonneg_int("p"), default=None, help="output patch size of SPN convolutions (default 1)")
    t.add_argument("--distill", action=argparse.BooleanOptionalAction, default=True,
                   help="knowledge distillation from the teacher (default on)")
    t.add_argument("--lambda", dest="lam", type=_float("lambda"), default=None, metavar="L",
                   help="distillation weight λ in (1-λ)·CE + λ·T²·KL (default 0.7; text 0.5)")
    t.add_argument("--temperature", type=_float("temperature"), default=None, metavar="T",
                   help="distillation temperature (default 4; text 2)")
    t.add_argument("--seed", type=_nonneg_int("seed"), default=0, help="student seed (the teacher is pinned to seed 0)")
    t.add_argument("--data-dir", default=None, metavar="DIR",
                   help="cifar10: python-pickle layout directory (required); text: a PTB directory instead of the "
                        "standard-library sources")
    t.add_argument("--teacher-epochs", type=_nonneg_int("teacher-epochs"), default=None)
    t.add_argument("--student-epochs", type=_epochs3, default=None, metavar="A,B,C",
                   help="epochs of the three stages: full-precision SPN, ternary, fine-tune â")
    t.add_argument("--limit", type=_nonneg_int("limit"), default=None,
                   help="use only this many examples per split (characters in all for text); for quick runs")
    t.add_argument("--threads", type=_nonneg_int("threads"), default=None, help="torch CPU threads (default 1)")
    t.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    t.add_argument("--quiet", "-q", action="store_true", help="no per-epoch lines")
    t.set_defaults(func=run_train)
    e = nsub.add_parser("eval", help="load a saved student and measure it on its data set's test split",
                        description="Load the student saved in DIR (algodiscover nn train --out DIR) and print its "
                                    "test accuracy (perplexity for text), multiplications and additions as JSON.")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("--data-dir", default=None, metavar="DIR", help="the data directory (cifar10, PTB)")
    e.set_defaults(func=run_eval)


def run_train(args) -> int:
    try:
        from ..nn.experiment import train_experiment
    except ImportError as e:  # torch is a dependency; scikit-learn only for digits (reported there)
        raise AlgoDiscoverError(f"algodiscover nn needs torch: {e}") from None
    log = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    r = train_experiment(args.dataset, args.out, budget=args.budget, p=args.p, distill=args.distill, lam=args.lam,
                         temperature=args.temperature, seed=args.seed, data_dir=args.data_dir,
                         teacher_epochs=args.teacher_epochs, student_epochs=args.student_epochs, limit=args.limit,
                         threads=args.threads, device=args.device, log=log)
    metric = "perplexity" if args.dataset == "text" else "accuracy"
    summary = {k: {metric: r[k][metric], "multiplications": r[k]["multiplications"],
                   "additions": r[k]["additions"]} for k in ("teacher", "student")}
    summary["multiplications_cut"] = r["multiplications_cut"]
    summary["seconds"] = r["seconds"]
    print(json.dumps(summary))
    print(f"wrote {args.out}/report.json, model.json, student.pt, curves.png", file=sys.stderr)
    return 0


def run_eval(args) -> int:
    import torch
    torch.set_num_threads(1)
    from ..nn.experiment import evaluate_saved
    print(json.dumps(evaluate_saved(args.dir, args.data_dir)))
    return 0
