"""Matrix-multiplication shapes <m,k,n>: A is m x k, B is k x n, C = AB is m x n."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import ShapeError

_SPLIT = re.compile(r"\s*[x,×*]\s*|\s+", re.IGNORECASE)
MAX_DIM = 64


class Shape(NamedTuple):
    """The shape <m,k,n> of a matrix product (m x k) times (k x n)."""

    m: int
    k: int
    n: int

    @property
    def a_size(self) -> int:
        return self.m * self.k

    @property
    def b_size(self) -> int:
        return self.k * self.n

    @property
    def c_size(self) -> int:
        return self.m * self.n

    @property
    def naive_rank(self) -> int:
        """Multiplications of the schoolbook algorithm, m*k*n."""
        return self.m * self.k * self.n

    def sorted(self) -> "Shape":
        """The sorted triple under which literature tables list this shape."""
        return Shape(*sorted(self))

    def __str__(self) -> str:
        return f"{self.m}x{self.k}x{self.n}"

    def angle(self) -> str:
        """The shape written as <m,k,n>."""
        return f"<{self.m},{self.k},{self.n}>"


def parse_shape(value) -> Shape:
    """Parse ``"2x2x3"``, ``"2,2,3"``, ``"2 2 3"``, a 3-sequence or a Shape.

    Raises ShapeError with a one-line message on anything else.
    """
    if isinstance(value, Shape):
        return value
    if isinstance(value, str):
        text = value.strip()
        parts = [p for p in _SPLIT.split(text) if p != ""] if text else []
        if len(parts) != 3:
            raise ShapeError(
                f"shape {value!r} is malformed: expected three positive integers like 2x2x3 or 2,2,3"
            )
        dims = []
        for p in parts:
            if not re.fullmatch(r"[+-]?\d+", p):
                raise ShapeError(
                    f"shape {value!r} is malformed: {p!r} is not an integer (expected e.g. 2x2x3)"
                )
            dims.append(int(p))
    else:
        try:
            dims = list(value)
        except TypeError:
            raise ShapeError(f"shape {value!r} is malformed: expected three positive integers") from None
        if len(dims) != 3:
            raise ShapeError(f"shape {value!r} is malformed: expected three dimensions, got {len(dims)}")
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, (int,)) and not (
                hasattr(d, "__index__") and not isinstance(d, float)
            ):
                raise ShapeError(f"shape {value!r} is malformed: dimension {d!r} is not an integer")
        dims = [int(d) for d in dims]
    for d in dims:
        if d <= 0:
            raise ShapeError(f"shape {value!r} is malformed: dimensions must be positive, got {d}")
        if d > MAX_DIM:
            raise ShapeError(f"shape {value!r} is too large: dimensions up to {MAX_DIM} are supported")
    return Shape(*dims)
