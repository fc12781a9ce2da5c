"""Benson–Ballard coefficient files (the ``fast-matmul`` code generator's input; often no extension).

Three numeric blocks U, V, W separated by lines starting with ``#``; leading ``#`` lines are
comments.  Each block has one column per product: U is (m*k) x r over A row-major, V is
(k*n) x r over B, W is (m*n) x r over C (**not** transposed).  The shape follows from the
block heights.  Numbers are integers, ``p/q`` rationals or exact decimals.
"""

from __future__ import annotations

import re

from ..core.scheme import Scheme
from ..errors import FormatError
from ._common import build, coefficient_text, decode_text, exact_number, plain, shape_from_sizes

SUFFIXES = ("bb",)
HOLDS_MANY = False
_NUMERIC_LINE = re.compile(r"^\s*[-+]?[\d./]+(?:[\s,]+[-+]?[\d./]+)*\s*$")


def _blocks(text: str):
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    started = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if line.startswith("#"):
            if started:
                blocks.append(current)
                current = []
            continue
        if not line:
            continue
        started = True
        current.append((lineno, line))
    if current:
        blocks.append(current)
    return [b for b in blocks if b]


def parse(data, *, source: str = "<data>") -> Scheme:
    text = decode_text(data, source)
    blocks = _blocks(text)
    if len(blocks) != 3:
        raise FormatError(f"{source}: expected three numeric blocks (U, V, W) separated by '#' lines, "
                          f"found {len(blocks)}")
    mats = []
    width = None
    for name, block in zip("UVW", blocks):
        rows = []
        for lineno, line in block:
            vals = [plain(exact_number(tok, f"{source}:{lineno}")) for tok in re.split(r"[\s,]+", line) if tok]
            if width is None:
                width = len(vals)
            if len(vals) != width:
                raise FormatError(f"{source}:{lineno}: {len(vals)} columns, expected {width} "
                                  f"(one per product)")
            rows.append(vals)
        mats.append(rows)
    U, V, W = mats
    shape = shape_from_sizes(len(U), len(V), len(W), source)
    W_a = [list(col) for col in zip(*U)]
    W_b = [list(col) for col in zip(*V)]
    return build(shape, W_a, W_b, W, source=source, provenance={"source": "benson-ballard"})


def parse_many(data, *, source: str = "<data>"):
    return [(None, parse(data, source=source))]


def looks_like(text: str) -> bool:
    """Numeric lines in three '#'-separated blocks."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    body = [ln for ln in lines if not ln.startswith("#")]
    return bool(body) and all(_NUMERIC_LINE.match(ln) for ln in body) and len(_blocks(text)) == 3


def dump(scheme: Scheme) -> str:
    m, k, n = scheme.shape
    out = [f"# <{m},{k},{n}> rank {scheme.rank}: U (A, row-major), V (B), W (C), one column per product"]
    for i, M in enumerate((scheme.W_a.T, scheme.W_b.T, scheme.W_c)):
        if i:
            out.append("#")
        out.extend(" ".join(coefficient_text(x) for x in row) for row in M.tolist())
    return "\n".join(out) + "\n"
