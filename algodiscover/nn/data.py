"""Data sets of the experiments, all local (nothing is downloaded).

- ``digits``: scikit-learn's bundled handwritten digits (1797 images 8×8, values 0–16), split with
  ``train_test_split(test_size=0.25, random_state=0, stratify=y)``;
- ``cifar10``: a directory in the standard python-pickle layout (``data_batch_1`` … ``data_batch_5``,
  ``test_batch``; dicts with ``b"data"`` (N, 3072) uint8 and ``b"labels"``);
- ``text``: characters of a fixed list of the Python standard library's own source files (their sha256 is
  recorded), split 90/5/5 by position; or a PTB directory (``ptb.train.txt``, ``ptb.valid.txt``,
  ``ptb.test.txt``) read the same way, character by character.
"""

from __future__ import annotations

import hashlib
import pickle
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .layers import NNError


@dataclass
class ImageData:
    x_train: np.ndarray      # raw images (n, H, W) or (n, C, H, W)
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    preprocessing: dict      # how raw images become network inputs (saved with the model)
    info: dict = field(default_factory=dict)


def preprocess(images, prep: dict) -> np.ndarray:
    """Raw images → float32 network input (n, C, H, W) with the saved preprocessing."""
    x = np.asarray(images, dtype=np.float32)
    shape = tuple(prep["input_shape"])
    if shape[0] == 1 and x.ndim == len(shape) and tuple(x.shape[1:]) == shape[1:]:
        x = x[:, None]                 # (n, H, W) grey images
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        raise NNError(f"images of shape {tuple(np.shape(images))} do not fit the model's input {shape} "
                      f"(expected {prep.get('raw_description', 'raw images')})")
    x = x / float(prep["scale"])
    mean = np.asarray(prep["mean"], dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(prep["std"], dtype=np.float32).reshape(-1, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def digits() -> ImageData:
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise NNError("the digits data set needs scikit-learn: pip install 'algodiscover[nn]'") from None
    d = load_digits()
    x, y = d.images.astype(np.float32), d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    scaled = xtr / 16.0
    prep = {"scale": 16.0, "mean": [float(scaled.mean())], "std": [float(scaled.std())], "input_shape": [1, 8, 8],
            "raw_description": "load_digits().images: (n, 8, 8) values 0-16"}
    return ImageData(xtr, ytr, xte, yte, prep,
                     {"name": "digits", "source": "sklearn.datasets.load_digits",
                      "split": "train_test_split(test_size=0.25, random_state=0, stratify=y)",
                      "n_train": len(ytr), "n_test": len(yte)})


CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST = "test_batch"


def _read_cifar_batch(path: Path):
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
        data = np.asarray(d[b"data"] if b"data" in d else d["data"], dtype=np.uint8)
        labels = np.asarray(d[b"labels"] if b"labels" in d else d["labels"], dtype=np.int64)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise NNError(f"{path} is not a CIFAR-10 python-pickle batch ({type(e).__name__}: {e})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise NNError(f"{path}: expected data (N, 3072) and N labels, got {data.shape} and {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise NNError(f"{path}: labels must lie in 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def cifar10(data_dir) -> ImageData:
    if data_dir is None:
        raise NNError("--dataset cifar10 needs --data-dir DIR: a local directory in the CIFAR-10 python-pickle "
                      "layout (data_batch_1..5, test_batch); nothing is downloaded")
    root = Path(data_dir)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    if not root.is_dir():
        raise NNError(f"CIFAR-10 directory {data_dir} does not exist (expected the python-pickle layout: "
                      f"data_batch_1..5, test_batch); nothing is downloaded")
    missing = [n for n in CIFAR_TRAIN + [CIFAR_TEST] if not (root / n).is_file()]
    if missing:
        raise NNError(f"CIFAR-10 directory {root} lacks {', '.join(missing)} (python-pickle layout expected)")
    parts = [_read_cifar_batch(root / n) for n in CIFAR_TRAIN]
    xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    xte, yte = _read_cifar_batch(root / CIFAR_TEST)
    scaled = xtr.astype(np.float32) / 255.0
    prep = {"scale": 255.0, "mean": scaled.mean(axis=(0, 2, 3)).tolist(), "std": scaled.std(axis=(0, 2, 3)).tolist(),
            "input_shape": [3, 32, 32], "raw_description": "CIFAR-10 images (n, 3, 32, 32) values 0-255"}
    return ImageData(xtr, ytr, xte, yte, prep, {"name": "cifar10", "source": str(root), "n_train": len(ytr),
                                                "n_test": len(yte)})


# Fixed list of standard-library sources (pure Python modules present in every CPython 3.10+ install).
STDLIB_FILES = ["textwrap.py", "string.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py", "heapq.py",
                "colorsys.py", "keyword.py", "stat.py", "genericpath.py", "posixpath.py", "copy.py",
                "abc.py", "numbers.py", "operator.py", "functools.py", "contextlib.py", "calendar.py"]


@dataclass
class TextData:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    vocab: list
    info: dict


def _encode(texts, vocab=None):
    if vocab is None:
        vocab = sorted(set("".join(texts)))
    index = {ch: i for i, ch in enumerate(vocab)}
    unk = len(vocab)
    return [np.array([index.get(ch, unk) for ch in t], dtype=np.int64) for t in texts], vocab


def text(data_dir=None, limit_chars=None) -> TextData:
    """Characters of the fixed stdlib files (or a PTB directory); ``limit_chars`` keeps the first n of each
    split's text in proportion (for quick runs and tests)."""
    if data_dir is not None:
        root = Path(data_dir)
        names = ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"]
        if not root.is_dir():
            raise NNError(f"PTB directory {data_dir} does not exist (expected {', '.join(names)})")
        missing = [n for n in names if not (root / n).is_file()]
        if missing:
            raise NNError(f"PTB directory {root} lacks {', '.join(missing)}")
        raw = [(root / n).read_bytes() for n in names]
        texts = [b.decode("utf-8", errors="replace") for b in raw]
        files = {n: hashlib.sha256(b).hexdigest() for n, b in zip(names, raw)}
        split = "the PTB train/valid/test files"
        source = str(root)
    else:
        lib = Path(sysconfig.get_paths()["stdlib"])
        files, chunks = {}, []
        for n in STDLIB_FILES:
            path = lib / n
            if not path.is_file():
                raise NNError(f"standard-library file {path} is missing; pass --data-dir with a PTB directory")
            b = path.read_bytes()
            files[n] = hashlib.sha256(b).hexdigest()
            chunks.append(b.decode("utf-8", errors="replace"))
        full = "\n".join(chunks)
        a, b = int(0.9 * len(full)), int(0.95 * len(full))
        texts = [full[:a], full[a:b], full[b:]]
        split = "concatenation in list order joined by newlines; first 90 % train, next 5 % valid, last 5 % test"
        source = str(lib)
    if limit_chars:
        tot = sum(len(t) for t in texts)
        texts = [t[:max(1, int(limit_chars * len(t) / tot))] for t in texts]
    (tr, va, te), vocab = _encode(texts, sorted(set(texts[0])))
    return TextData(tr, va, te, vocab, {"name": "text" if data_dir is None else "ptb", "source": source,
                                        "files_sha256": files, "split": split,
                                        "chars": [len(tr), len(va), len(te)], "vocab_size": len(vocab) + 1})
