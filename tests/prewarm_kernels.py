"""Compile the package's numba kernels into numba's on-disk cache (``python tests/prewarm_kernels.py GROUP``).

Run by tests/conftest.py (the xdist controller) before the workers start: GROUP ``a`` and ``b`` cost about
the same cold (30-36 s each, side by side, on this project's 2-core machine), so two processes compile every
kernel once instead of each test process compiling what it meets first.  Each step is a small real call of the
public path that uses the kernel; a failing step is skipped (the test that needs it compiles it and fails
there if it is broken)."""

from __future__ import annotations

import sys
import time


def _flipkernel():
    from algodiscover.core.shape import Shape
    from algodiscover.search import flipkernel
    from algodiscover.search.gf2 import standard_bits
    import numpy as np
    flipkernel.warm_up()  # the latest kernel
    F, r = standard_bits(Shape(2, 2, 2), cap=12)
    ix = flipkernel.make_index(12)
    flipkernel.walk(ix, F, r, 0, 10, 5, r + 1, np.array([12345], dtype=np.uint64), flipkernel.new_counters(),
                    version=1)  # checkpoints written by the first kernel
    flipkernel.has_reducible_pair(F, r)


def _modules(*names):
    import importlib
    for m in names:
        importlib.import_module("algodiscover.search." + m).warm_up()


def _searches():
    """A GF(2), a GF(3) and a c3-symmetric search to a lifted scheme (the lifting solvers)."""
    from algodiscover.search import Budget, run_search
    from algodiscover.core.shape import Shape
    from algodiscover.search.gf2 import reduce_all, standard_bits
    F, r = standard_bits(Shape(2, 2, 2), cap=12)
    reduce_all(F, r)
    next(iter(run_search("flip", (2, 2, 2), 7, seed=0, workers=1, budget=Budget(time_limit=60))), None)
    next(iter(run_search("flip", (2, 2, 2), 7, seed=0, workers=1, field=3, budget=Budget(time_limit=60))), None)
    next(iter(run_search("flip", (3, 3, 3), 23, seed=0, workers=1, symmetry="c3", budget=Budget(time_limit=60))),
         None)


def _fused():
    """The fused executor's combine kernels."""
    import numpy as np
    from tests.tests_helpers import strassen_scheme
    f = strassen_scheme().compile(backend="numpy", levels=1, cutoff=1, mode="fused")
    A = np.ones((4, 4))
    f(A, A), f(A.astype(np.float32), A.astype(np.float32))


GROUPS = {"a": [_flipkernel, lambda: _modules("gf3kernel"), _fused],
          "b": [lambda: _modules("gf2", "gf3", "flip_sym"), _searches]}

if __name__ == "__main__":
    for step in GROUPS[sys.argv[1]]:
        t0 = time.perf_counter()
        try:
            step()
            print(f"{getattr(step, '__name__', step)}: {time.perf_counter() - t0:.1f} s", flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"{getattr(step, '__name__', step)}: skipped ({type(e).__name__}: {e})", flush=True)
