"""The matrix-multiplication tensor in the project's one convention (see docs/DESIGN.md).

``T[i*k + j, j*n + l, i*n + l] = 1``: A, B and C flattened row-major, the third
index over C itself (not its transpose).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .shape import Shape, parse_shape


@lru_cache(maxsize=64)
def _matmul_tensor(m: int, k: int, n: int) -> np.ndarray:
    T = np.zeros((m * k, k * n, m * n), dtype=np.int64)
    for i in range(m):
        for j in range(k):
            for l in range(n):
                T[i * k + j, j * n + l, i * n + l] = 1
    T.setflags(write=False)
    return T


def matmul_tensor(shape) -> np.ndarray:
    """The (mk, kn, mn) 0/1 tensor of C = AB. Read-only; copy before changing."""
    s = parse_shape(shape)
    return _matmul_tensor(s.m, s.k, s.n)


def a_index(shape: Shape, i: int, j: int) -> int:
    return i * shape.k + j


def b_index(shape: Shape, j: int, l: int) -> int:
    return j * shape.n + l


def c_index(shape: Shape, i: int, l: int) -> int:
    return i * shape.n + l
