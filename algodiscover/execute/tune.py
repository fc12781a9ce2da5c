"""Measure levels and cutoff for this machine and cache them (``algodiscover tune``).

The cache is one JSON file in the user cache directory (``$XDG_CACHE_HOME/algodiscover/tune.json``,
default ``~/.cache/algodiscover/``), or under ``$ALGODISCOVER_CACHE`` when set.  Entries are keyed by
backend, dtype, BLAS thread count and the scheme's shape and rank; ``Executor`` uses a matching entry
when ``levels``/``cutoff`` are left as None.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np


def cache_path() -> Path:
    base = os.environ.get("ALGODISCOVER_CACHE")
    if base:
        return Path(base) / "tune.json"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "algodiscover" / "tune.json"


def _threads() -> int:
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        return int(info[0]["num_threads"]) if info else 1
    except Exception:  # pragma: no cover - threadpoolctl missing or odd BLAS
        return 1


def _dtype_name(dtype) -> str:
    s = str(dtype)
    return s.replace("torch.", "")


def key_for(executor, dtype, threads: int | None = None) -> str:
    shapes = "+".join(f"{lv.m}x{lv.k}x{lv.n}r{len(lv.products)}" for lv in executor.plan)
    t = _threads() if threads is None else threads
    return f"{executor.backend}/{_dtype_name(dtype)}/threads={t}/{shapes}"


def _read() -> dict:
    p = cache_path()
    try:
        data = json.loads(p.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def lookup(executor, dtype) -> dict | None:
    if dtype is None:
        return None
    entry = _read().get(key_for(executor, dtype))
    return entry if isinstance(entry, dict) else None


def store(key: str, entry: dict) -> Path:
    p = cache_path()
    data = _read()
    data[key] = entry
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, p)
    return p


def _median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def tune(scheme, *, backend: str = "numpy", dtype="float64", sizes=(1024, 2048), max_levels: int = 3,
         repeats: int = 3, seed: int = 0, on_result=None) -> dict:
    """Time 0..max_levels levels (cutoff 1) on square sizes, interleaved with BLAS; cache the choice.

    The cached cutoff is the smallest leaf side at which one more level still paid off (so
    ``levels=None`` recurses while blocks stay at least that large); ``levels`` is the best count at the
    largest size measured.  Returns the entry with the raw timings.
    """
    from .executor import Executor
    rng = np.random.default_rng(seed)
    rows = []
    best_levels = 0
    cutoff = None
    for n in sizes:
        A = rng.random((n, n)).astype(dtype)
        B = rng.random((n, n)).astype(dtype)
        if backend == "torch":
            import torch
            A, B = torch.from_numpy(A), torch.from_numpy(B)
        times = {}
        for L in range(max_levels + 1):
            if n // (scheme.shape.m ** L) < 16:
                break
            f = Executor(scheme, backend=backend, levels=L, cutoff=1)
            f(A, B)  # warm-up: workspaces, programs
            times[L] = _median_time(lambda: f(A, B), repeats)
        best = min(times, key=times.get)
        rows.append({"n": n, "seconds": {str(L): t for L, t in times.items()}, "best_levels": best})
        if on_result:
            on_result(rows[-1])
        best_levels = best
        for L in range(1, best + 1):
            leaf = n // max(scheme.shape) ** L
            if cutoff is None or leaf < cutoff:
                cutoff = leaf
    probe = Executor(scheme, backend=backend, levels=0)
    entry = {"levels": max(best_levels, 1) if cutoff is not None else 0,
             "cutoff": int(cutoff) if cutoff is not None else int(max(sizes)) * 2,
             "measured": rows, "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    key = key_for(probe, np.dtype(dtype) if backend == "numpy" else getattr(__import__("torch"), dtype))
    entry["key"] = key
    entry["path"] = str(store(key, entry))
    return entry
