"""Speed and accuracy next to each other: an executor against its backend's own matmul.

``bench(...)`` times ours and BLAS paired and interleaved in one process (BLAS, ours, BLAS, ours, ...;
the order flips every repetition so slow drift of a shared machine hits both alike) and reports the
medians, ``ratio = blas_seconds / seconds`` (> 1: ours is faster) and ``max_rel_error`` = max|C - A@B| /
max|A@B| against the same backend's product in the same dtype.  Threads: threadpoolctl for the BLAS,
``torch.set_num_threads`` for torch, ``numba.set_num_threads`` for the fused kernels.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import numpy as np

from ..errors import SchemeError


def parse_sizes(text: str):
    """'1024,2048' or '3001x2999x3003' (or a mix) -> [(p, q, s), ...]."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        dims = part.lower().split("x")
        try:
            vals = [int(d) for d in dims]
        except ValueError:
            raise SchemeError(f"size {part!r} is not N or PxQxS") from None
        if len(vals) == 1:
            vals = vals * 3
        if len(vals) != 3 or min(vals) < 1:
            raise SchemeError(f"size {part!r} is not N or PxQxS with positive integers")
        out.append(tuple(vals))
    if not out:
        raise SchemeError("no sizes given")
    return out


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
        return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # pragma: no cover
        return []


@contextmanager
def threads(n: int | None, backend: str = "numpy"):
    """BLAS (threadpoolctl), torch and numba limited to ``n`` threads inside the block."""
    if n is None:
        yield
        return
    if n < 1:
        raise SchemeError("--threads must be at least 1")
    from threadpoolctl import threadpool_limits
    old_torch = old_numba = None
    try:
        import numba
        old_numba = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except Exception:  # pragma: no cover
        numba = None
    if backend == "torch":
        import torch
        old_torch = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        if old_torch is not None:
            import torch
            torch.set_num_threads(old_torch)
        if numba is not None and old_numba is not None:
            numba.set_num_threads(old_numba)


def _data(p, q, s, dtype, backend, seed):
    rng = np.random.default_rng(seed)
    A = rng.random((p, q), dtype=np.float64).astype(dtype)
    B = rng.random((q, s), dtype=np.float64).astype(dtype)
    if backend == "torch":
        import torch
        return torch.from_numpy(A), torch.from_numpy(B)
    return A, B


def _matmul(backend):
    if backend == "torch":
        import torch
        return torch.matmul
    return np.matmul


def _np(x):
    return x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else np.asarray(x)


def max_rel_error(C, ref) -> float:
    C = _np(C).astype(np.float64)
    ref = _np(ref).astype(np.float64)
    den = float(np.abs(ref).max())
    return float(np.abs(C - ref).max() / den) if den else float(np.abs(C).max())


def bench(schemes, sizes, *, dtype: str = "float64", backend: str = "numpy", n_threads: int | None = None,
          repeats: int = 5, levels=None, cutoff=None, seed: int = 0, executor=None, on_row=None, **kw) -> list[dict]:
    """One row per size: size, dtype, backend, threads, seconds, blas_seconds, ratio, max_rel_error (+ extras)."""
    from .executor import Executor
    if repeats < 1:
        raise SchemeError("repeats must be at least 1")
    if dtype not in ("float32", "float64"):
        raise SchemeError(f"dtype {dtype!r}: expected float32 or float64")
    f = executor or Executor(schemes, backend=backend, levels=levels, cutoff=cutoff, **kw)
    mm = _matmul(backend)
    rows = []
    with threads(n_threads, backend):
        info = blas_info()
        for (p, q, s) in sizes:
            A, B = _data(p, q, s, dtype, backend, seed)
            ref = mm(A, B)
            C = f(A, B)  # warm-up: workspaces, kernels
            err = max_rel_error(C, ref)
            del C
            ours, blas, ours_cpu, blas_cpu = [], [], [], []
            for rep in range(repeats):
                order = (0, 1) if rep % 2 == 0 else (1, 0)
                for which in order:
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    out = f(A, B) if which == 0 else mm(A, B)
                    dt = time.perf_counter() - t0
                    dc = time.process_time() - c0
                    (ours if which == 0 else blas).append(dt)
                    (ours_cpu if which == 0 else blas_cpu).append(dc)
                    del out
            dtp = np.dtype(dtype)
            lv, co = f.settings(dtp if backend == "numpy" else getattr(__import__("torch"), dtype))
            row = {"size": p if p == q == s else [p, q, s], "dtype": dtype, "backend": backend,
                   "threads": n_threads if n_threads is not None else (info[0]["num_threads"] if info else None),
                   "seconds": float(np.median(ours)), "blas_seconds": float(np.median(blas)),
                   "ratio": float(np.median(blas) / np.median(ours)), "max_rel_error": err,
                   "ratio_per_pair": [round(b / o, 4) for b, o in zip(blas, ours)],
                   # CPU seconds of this process (all its threads): on an oversubscribed machine the time the
                   # process was descheduled is left out, so with 1 thread this ratio is the steadier one
                   "cpu_seconds": float(np.median(ours_cpu)), "blas_cpu_seconds": float(np.median(blas_cpu)),
                   "cpu_ratio": float(np.median(blas_cpu) / np.median(ours_cpu)),
                   "cpu_ratio_per_pair": [round(b / o, 4) for b, o in zip(blas_cpu, ours_cpu)],
                   "levels": lv, "cutoff": co, "repeats": repeats,
                   "seconds_all": [round(x, 5) for x in ours], "blas_seconds_all": [round(x, 5) for x in blas]}
            rows.append(row)
            if on_row:
                on_row(row)
            f.clear()
    return rows


def environment_notes() -> dict:
    """What can slow the BLAS down on this machine: the OpenBLAS overrides and the kernel in use."""
    return {"OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
            "blas": blas_info(), "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
