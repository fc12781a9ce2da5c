"""``algodiscover nn train``: teacher, SPN student with distillation, counts, deployment check, report; ``load``.

Files written to ``--out DIR``: ``model.json`` (architecture, per-layer r, p, preprocessing, vocabulary, sha256 of
the weights), ``student.pt`` and ``teacher.pt`` (state dicts), ``curves.png`` (training curves) and
``report.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .count import count
from .data import preprocess
from .deploy import deploy
from .layers import NNError, set_quant_mix
from .models import ARCHITECTURES, parse_budget, studentize
from .train import Stage, distillation_loss, schedule_dict, train_staged

MODEL_FORMAT = "algodiscover.nn-model/1"

# defaults per data set: teacher epochs, student stage epochs (full precision, ternary, fine-tune â), batch, lrs
DEFAULTS = {
    "digits": dict(teacher_epochs=40, student_epochs=(15, 40, 15), batch=64, teacher_lr=3e-3,
                   student_lr=(2e-3, 2e-3, 1e-3), ramp=8, p=1, budget="1.0x", lam=0.7, temperature=4.0),
    "cifar10": dict(teacher_epochs=10, student_epochs=(3, 8, 3), batch=128, teacher_lr=2e-3,
                    student_lr=(1e-3, 1e-3, 5e-4), ramp=3, p=1, budget="1.0x", lam=0.7, temperature=4.0),
    "text": dict(teacher_epochs=12, student_epochs=(3, 10, 3), batch=32, teacher_lr=3e-3,
                 student_lr=(2e-3, 2e-3, 1e-3), ramp=3, p=1, budget="2.0x", lam=0.5, temperature=2.0,
                 seq_len=64, hidden=64),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------- predictors

class Classifier(nn.Module):
    """A trained image classifier with its preprocessing: ``predict(raw images) -> int64 labels``."""

    def __init__(self, net: nn.Module, preprocessing: dict):
        super().__init__()
        self.net = net
        self.preprocessing = dict(preprocessing)

    def forward(self, x):
        return self.net(x)

    @torch.no_grad()
    def predict(self, images, batch: int = 512) -> np.ndarray:
        x = torch.from_numpy(preprocess(images, self.preprocessing))
        self.eval()
        out = [self.net(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)]
        return (torch.cat(out) if out else torch.zeros(0, dtype=torch.long)).numpy().astype(np.int64)


class LanguageModel(nn.Module):
    """A trained character LM: ``encode(text)``, ``predict(indices (n, T)) -> next-character ids (n, T)``."""

    def __init__(self, net: nn.Module, vocab: list):
        super().__init__()
        self.net = net
        self.vocab = list(vocab)

    def forward(self, idx):
        return self.net(idx)

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.vocab)}
        return np.array([index.get(c, len(self.vocab)) for c in text], dtype=np.int64)

    @torch.no_grad()
    def predict(self, indices) -> np.ndarray:
        self.eval()
        x = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        return self.net(x).argmax(-1).numpy().astype(np.int64)


# --------------------------------------------------------------------------------------------- helpers

def _accuracy(net, x, y, batch=512):
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    return correct / max(len(y), 1)


def _sequences(arr: np.ndarray, seq_len: int) -> torch.Tensor:
    n = (len(arr) - 1) // seq_len
    if n < 1:
        raise NNError(f"text split of {len(arr)} characters is shorter than one sequence of {seq_len + 1}")
    a = torch.from_numpy(arr[:n * seq_len + 1].copy())
    return torch.stack([a[i * seq_len:(i + 1) * seq_len + 1] for i in range(n)])


def _perplexity(net, seqs, batch=64):
    net.eval()
    tot, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            s = seqs[i:i + batch]
            logits = net(s[:, :-1])
            tot += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), s[:, 1:].reshape(-1),
                                         reduction="sum"))
            n += s[:, 1:].numel()
    return math.exp(tot / max(n, 1))


def _plot(path: Path, teacher_hist, student_hist, metric: str):
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for hist, label in ((teacher_hist, "teacher"), (student_hist, "student")):
        ep = [r["epoch"] for r in hist]
        axes[0].plot(ep, [r["loss"] for r in hist], label=label)
        axes[1].plot(ep, [r[metric] for r in hist], label=label)
    bounds = {}
    for r in student_hist:
        bounds.setdefault(r["stage"], r["epoch"])
    for name, e in bounds.items():
        for ax in axes:
            ax.axvline(e, color="grey", lw=0.6, ls=":")
        axes[1].annotate(name, (e, 1.0), xycoords=("data", "axes fraction"), fontsize=7, va="top", rotation=90)
    axes[0].set_title("training loss")
    axes[1].set_title(f"test {metric}")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _counts_entry(c):
    return {"multiplications": c.multiplications, "additions": c.additions, "separate": c.separate,
            "layers": [lc.as_dict() for lc in c.layers]}


# --------------------------------------------------------------------------------------------- training

def train_experiment(dataset: str, out, **kwargs) -> dict:
    """Train the pinned teacher (seed ``teacher_seed``), the SPN student (seed ``seed``), write ``out``.

    Options as ``algodiscover nn train``: budget, p, distill, lam, temperature, seed, data_dir, teacher_epochs,
    student_epochs, teacher_seed, limit, threads (torch threads while it runs; default 1), device, log."""
    prev = torch.get_num_threads()
    try:
        return _train_experiment(dataset, out, **kwargs)
    finally:
        torch.set_num_threads(prev)


def _train_experiment(dataset: str, out, *, budget=None, p=None, distill: bool = True, lam=None, temperature=None,
                      seed: int = 0, data_dir=None, teacher_epochs=None, student_epochs=None, teacher_seed: int = 0,
                      limit=None, threads=None, device: str = "cpu", log=print) -> dict:
    if dataset not in DEFAULTS:
        raise NNError(f"unknown dataset {dataset!r}; expected digits, cifar10 or text")
    cfg = dict(DEFAULTS[dataset])
    budget = cfg["budget"] if budget is None else budget
    parse_budget(budget)
    p = cfg["p"] if p is None else int(p)
    if p < 1:
        raise NNError(f"--p must be at least 1, got {p}")
    lam = cfg["lam"] if lam is None else float(lam)
    temperature = cfg["temperature"] if temperature is None else float(temperature)
    if not 0 <= lam <= 1:
        raise NNError(f"--lambda must lie in [0, 1], got {lam}")
    if not temperature > 0:
        raise NNError(f"--temperature must be positive, got {temperature}")
    t_epochs = cfg["teacher_epochs"] if teacher_epochs is None else int(teacher_epochs)
    s_epochs = tuple(cfg["student_epochs"] if student_epochs is None else student_epochs)
    if len(s_epochs) != 3 or min(s_epochs) < 0 or t_epochs < 0:
        raise NNError("student epochs must be three non-negative integers (full precision, ternary, fine-tune)")
    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise NNError(f"device {device!r} is not available (no CUDA GPU)")
    # one thread by default: on the shared 2-core machine two intra-op threads made an epoch 20-60x slower
    # (benchmarks/results/nn-digits.md); --threads 2 on an idle machine
    torch.set_num_threads(int(threads) if threads else 1)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NNError(f"cannot use --out {out} as a directory ({e.strerror or e})") from None
    t_start = time.perf_counter()
    dev = torch.device(device)

    # ---- data
    if dataset == "text":
        from .data import text
        data = text(data_dir, limit_chars=limit)
        vocab_size = len(data.vocab) + 1
        seq_len = cfg["seq_len"]
        train_seqs = _sequences(data.train, seq_len)
        test_seqs = _sequences(data.test, seq_len).to(dev)
        arch_args = {"vocab_size": vocab_size, "hidden": cfg["hidden"]}
        input_shape = (seq_len,)
        info = data.info | {"seq_len": seq_len, "hidden": cfg["hidden"], "n_train_sequences": len(train_seqs),
                            "n_test_sequences": len(test_seqs)}
        metric = "perplexity"

        def batches_of(gen):
            perm = torch.randperm(len(train_seqs), generator=gen)
            for i in range(0, len(perm), cfg["batch"]):
                s = train_seqs[perm[i:i + cfg["batch"]]].to(dev)
                yield s[:, :-1], s[:, 1:]

        def evaluate(net):
            return {"perplexity": _perplexity(net, test_seqs)}
    else:
        if dataset == "digits":
            from .data import digits
            data = digits()
        else:
            from .data import cifar10
            data = cifar10(data_dir)
        if limit:
            data.x_train, data.y_train = data.x_train[:limit], data.y_train[:limit]
            data.x_test, data.y_test = data.x_test[:limit], data.y_test[:limit]
        prep = data.preprocessing
        xtr = torch.from_numpy(preprocess(data.x_train, prep)).to(dev)
        ytr = torch.from_numpy(data.y_train).to(dev)
        xte = torch.from_numpy(preprocess(data.x_test, prep)).to(dev)
        yte = torch.from_numpy(data.y_test).to(dev)
        arch_args = {}
        input_shape = tuple(prep["input_shape"])
        info = data.info
        metric = "accuracy"

        def batches_of(gen):
            perm = torch.randperm(len(xtr), generator=gen).to(dev)
            for i in range(0, len(perm), cfg["batch"]):
                idx = perm[i:i + cfg["batch"]]
                yield xtr[idx], ytr[idx]

        def evaluate(net):
            return {"accuracy": _accuracy(net, xte, yte)}

    # ---- teacher (pinned: its own seed, independent of --seed)
    torch.manual_seed(teacher_seed)
    teacher = ARCHITECTURES[dataset](**arch_args).to(dev)
    log(f"teacher: {sum(p.numel() for p in teacher.parameters())} parameters, {t_epochs} epochs")
    t_hist = train_staged(teacher, batches_of, lambda m, x, y: distillation_loss(m(x), y), [
        Stage("teacher", t_epochs, cfg["teacher_lr"])], evaluate=evaluate, seed=teacher_seed,
        on_epoch=lambda r: log(f"  teacher epoch {r['epoch']}: loss {r['loss']:.4f} {metric} {r[metric]:.4f}"))
    teacher.eval()
    for prm in teacher.parameters():
        prm.requires_grad_(False)
    t_metric = evaluate(teacher)[metric]

    # ---- student
    torch.manual_seed(seed)
    student, ranks = studentize(teacher.cpu(), budget, p, seed=seed)
    teacher.to(dev)
    student.to(dev)
    stages = [Stage("full-precision", s_epochs[0], cfg["student_lr"][0], 0.0),
              Stage("ternary", s_epochs[1], cfg["student_lr"][1], 1.0, ramp=min(cfg["ramp"], s_epochs[1])),
              Stage("fine-tune-a", s_epochs[2], cfg["student_lr"][2], 1.0, freeze_ternary=True)]
    stages = [s for s in stages if s.epochs > 0]

    def student_loss(m, x, y):
        logits = m(x)
        if not distill:
            return distillation_loss(logits, y)
        with torch.no_grad():
            tl = teacher(x)
        return distillation_loss(logits, y, tl, lam=lam, temperature=temperature)

    log(f"student: ranks {ranks}, p = {p}, distillation {'on' if distill else 'off'}")
    s_hist = train_staged(student, batches_of, student_loss, stages, evaluate=evaluate, seed=seed,
                          on_epoch=lambda r: log(f"  student {r['stage']} epoch {r['epoch']}: loss {r['loss']:.4f} "
                                                 f"{metric} {r[metric]:.4f}"))
    set_quant_mix(student, 1.0)       # deployment is ternary even when a test run skips the ternary stage
    student.eval()
    s_metric = evaluate(student)[metric]
    for r in t_hist.rows:
        r["epoch"] -= len(t_hist.rows)
    student.cpu()
    teacher.cpu()

    # ---- counts and the deployed check (one example, CPU)
    tc, sc = count(teacher, input_shape), count(student, input_shape)
    dep = deploy(student)
    if dataset == "text":
        one = _sequences(data.test, seq_len)[:1, :-1]
        d_seqs = _sequences(data.test, seq_len)[:8]
        dep_metric = _perplexity(dep, d_seqs)
        ref_metric = _perplexity(student, d_seqs)
        dep_note = "perplexity on the first 8 test sequences, deployed vs training mode"
    else:
        one = xte[:1].cpu()
        n_dep = min(len(xte), 256)
        with torch.no_grad():
            dep_pred = dep(xte[:n_dep].cpu()).argmax(1)
            ref_pred = student(xte[:n_dep].cpu()).argmax(1)
        dep_metric = float((dep_pred == yte[:n_dep].cpu()).float().mean())
        ref_metric = float((ref_pred == yte[:n_dep].cpu()).float().mean())
        dep_note = f"accuracy on the first {n_dep} test images, deployed vs training mode"
    dep.op_counter.reset()
    with torch.no_grad():
        dep(one)
    counted = dep.op_counter.multiplications
    if counted != sc.multiplications:
        raise RuntimeError(f"deployed forward made {counted} multiplications, count() says {sc.multiplications}")

    # ---- save
    torch.save(student.state_dict(), out / "student.pt")
    torch.save(teacher.state_dict(), out / "teacher.pt")
    meta = {"format": MODEL_FORMAT, "dataset": dataset, "architecture": type(teacher).__name__,
            "architecture_args": arch_args, "ranks": ranks, "p": p, "budget": str(budget),
            "weights": {"student.pt": _sha256(out / "student.pt"), "teacher.pt": _sha256(out / "teacher.pt")}}
    if dataset == "text":
        meta["vocab"] = data.vocab
        meta["seq_len"] = seq_len
    else:
        meta["preprocessing"] = data.preprocessing
    (out / "model.json").write_text(json.dumps(meta, indent=1))
    _plot(out / "curves.png", t_hist.rows, s_hist.rows, metric)

    from ..provenance import environment
    tm, sm = tc.multiplications, sc.multiplications
    report = {
        "dataset": dataset,
        "teacher": {metric: t_metric, "multiplications": tm, "additions": tc.additions, "counts": _counts_entry(tc),
                    "seed": teacher_seed, "epochs": t_epochs},
        "student": {metric: s_metric, "multiplications": sm, "additions": sc.additions, "counts": _counts_entry(sc),
                    "deployed": {metric: dep_metric, "training_mode": ref_metric, "note": dep_note,
                                 "multiplications_counted_on_one_example": counted,
                                 "additions_counted_on_one_example": dep.op_counter.additions},
                    "seed": seed, "ranks": ranks, "p": p, "budget": str(budget), "schedule": schedule_dict(stages)},
        "multiplications_cut": 1 - sm / tm if tm else None,
        "distill": bool(distill), "lambda": lam, "temperature": temperature,
        "counting": "multiplications and additions for one example at inference (" +
                    ("one sequence of %d characters" % seq_len if dataset == "text" else "one image") +
                    "); dense layers: every weight at every output position; SPN layers: the r products with the "
                    "folded â per output position (per p×p patch); bias, pooling, activations, softmax and "
                    "LSTM gate products reported separately",
        "data": info,
        "curves": {"teacher": t_hist.rows, "student": s_hist.rows},
        "seconds": round(time.perf_counter() - t_start, 2),
        "threads": torch.get_num_threads(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "environment": environment(),
    }
    if dataset == "text":
        report["perplexity_ratio"] = s_metric / t_metric
    else:
        report["accuracy_drop_points"] = 100 * (t_metric - s_metric)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


# --------------------------------------------------------------------------------------------- loading

def load(directory):
    """The student saved in ``directory`` (``Classifier`` with ``predict`` for images, ``LanguageModel`` for text);
    a missing, corrupted or mismatched model raises :class:`NNError` with one line saying which."""
    d = Path(directory)
    mpath = d / "model.json"
    if not mpath.is_file():
        raise NNError(f"{d} holds no saved model (model.json missing); write one with algodiscover nn train --out")
    try:
        meta = json.loads(mpath.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise NNError(f"{mpath} is corrupted: not JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise NNError(f"{mpath} is not an {MODEL_FORMAT} file")
    for key in ("dataset", "ranks", "p", "weights"):
        if key not in meta:
            raise NNError(f"{mpath} lacks {key!r}")
    if meta["dataset"] not in ARCHITECTURES:
        raise NNError(f"{mpath}: unknown dataset {meta['dataset']!r}")
    wpath = d / "student.pt"
    if not wpath.is_file():
        raise NNError(f"{wpath} is missing")
    expect = meta["weights"].get("student.pt") if isinstance(meta["weights"], dict) else None
    if expect != _sha256(wpath):
        raise NNError(f"{wpath} is corrupted or was replaced: its sha256 differs from the one in model.json")
    try:
        state = torch.load(wpath, map_location="cpu", weights_only=True)
    except Exception as e:
        raise NNError(f"{wpath} cannot be read as a torch state dict ({type(e).__name__})") from None
    try:
        teacher = ARCHITECTURES[meta["dataset"]](**meta.get("architecture_args", {}))
        student, _ = studentize(teacher, p=int(meta["p"]), ranks=meta["ranks"])
    except (TypeError, ValueError, KeyError) as e:
        raise NNError(f"{mpath} describes no buildable model ({e})") from None
    try:
        student.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError) as e:
        first = str(e).strip().splitlines()
        detail = " ".join(ln.strip() for ln in first[:3])[:300]
        raise NNError(f"{wpath} does not match the model described in model.json: {detail}") from None
    student.eval()
    if meta["dataset"] == "text":
        return LanguageModel(student, meta.get("vocab", []))
    if "preprocessing" not in meta:
        raise NNError(f"{mpath} lacks 'preprocessing'")
    return Classifier(student, meta["preprocessing"])


def evaluate_saved(directory, data_dir=None) -> dict:
    """Load the student in ``directory`` and measure it on its data set's test split (``algodiscover nn eval``)."""
    model = load(directory)
    meta = json.loads((Path(directory) / "model.json").read_text())
    ds = meta["dataset"]
    if ds == "text":
        from .data import text
        d = text(data_dir)
        arr = d.test if d.vocab == model.vocab else model.encode(
            "".join(d.vocab[i] if i < len(d.vocab) else "\ufffd" for i in d.test))
        seqs = _sequences(arr, int(meta.get("seq_len", 64)))
        metric, value = "perplexity", _perplexity(model.net, seqs)
        shape = (int(meta.get("seq_len", 64)),)
    else:
        from .data import cifar10, digits
        d = digits() if ds == "digits" else cifar10(data_dir)
        metric, value = "accuracy", float((model.predict(d.x_test) == d.y_test).mean())
        shape = tuple(meta["preprocessing"]["input_shape"])
    c = count(model.net, shape)
    return {"dataset": ds, metric: value, "multiplications": c.multiplications, "additions": c.additions}
