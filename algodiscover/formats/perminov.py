"""Perminov-style JSON (FastMatrixMultiplication): ``{"n": [m, k, n], "m": rank, "u": ..., "v": ..., "w": ...}``.

``u`` (rank x m*k) and ``v`` (rank x k*n) hold one row per product over A and B flattened
row-major; ``w`` holds one row per product over **C^T** (entry ``l*m + i`` belongs to ``C[i, l]``).
Coefficients are integers or ``"p/q"`` strings.  ``z2``, ``multiplications`` and ``elements`` are
informational (the ring is always recomputed).  The addition-reduced variant (``u_fresh`` ...)
is not a plain scheme and is rejected with a clear message.
"""

from __future__ import annotations

import json

import numpy as np

from ..core.arith import to_jsonable
from ..core.scheme import Scheme
from ..errors import FormatError, SchemeError
from ._common import build, c_transposed_rows, load_json_text

SUFFIXES = ()  # shares .json with our own format; chosen by its keys
HOLDS_MANY = False
REQUIRED = ("n", "m", "u", "v", "w")



def looks_like(obj) -> bool:
    return isinstance(obj, dict) and "n" in obj and "u" in obj and "W_a" not in obj


def from_dict(obj, *, source: str = "<data>") -> Scheme:
    if not isinstance(obj, dict):
        raise FormatError(f"{source}: expected a JSON object, got {type(obj).__name__}")
    if any(k in obj for k in ("u_fresh", "v_fresh", "w_fresh")):
        raise FormatError(f"{source}: the addition-reduced Perminov format (u_fresh, ...) is not supported; "
                          f"use the full scheme file")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise FormatError(f"{source}: missing required key(s) {', '.join(missing)}")
    dims = obj["n"]
    if (not isinstance(dims, list) or len(dims) != 3
            or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in dims)):
        raise FormatError(f"{source}: \"n\" must be the shape as three positive integers, got {dims!r}")
    rank = obj["m"]
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise FormatError(f"{source}: \"m\" must be the rank as a positive integer, got {rank!r}")
    m, k, n = dims
    u, v, w = obj["u"], obj["v"], obj["w"]
    for name, rows, width in (("u", u, m * k), ("v", v, k * n), ("w", w, n * m)):
        if not isinstance(rows, list) or any(not isinstance(r, list) for r in rows):
            raise FormatError(f"{source}: \"{name}\" must be a list of rows")
        if len(rows) != rank:
            raise FormatError(f"{source}: declared rank {rank} differs from the {len(rows)} rows of \"{name}\"")
        bad = [i for i, r in enumerate(rows) if len(r) != width]
        if bad:
            raise FormatError(f"{source}: row {bad[0]} of \"{name}\" has {len(rows[bad[0]])} entries, "
                              f"expected {width} for shape {m}x{k}x{n}")
    try:
        W_c_t = [list(col) for col in zip(*w)]  # (n*m) x rank, rows over C^T
    except TypeError:
        raise FormatError(f"{source}: \"w\" is malformed") from None
    W_c = [W_c_t[j] for j in c_transposed_rows((m, k, n))]
    try:
        return build((m, k, n), u, v, W_c, source=source, provenance={"source": "perminov"})
    except SchemeError as e:  # pragma: no cover - build already converts
        raise FormatError(f"{source}: {e}") from None


def parse(data, *, source: str = "<data>") -> Scheme:
    obj = load_json_text(data, source)
    return from_dict(obj, source=source)


def parse_many(data, *, source: str = "<data>"):
    return [(None, parse(data, source=source))]


def dump(scheme: Scheme) -> str:
    from ..core.verify import verify
    from ..render.text import output_lines, product_lines
    m, k, n = scheme.shape
    inv = np.argsort(c_transposed_rows(scheme.shape))  # their row l*m + i is our row i*n + l
    w_rows = scheme.W_c[inv, :].T  # rank x (n*m), over C^T
    v = verify(scheme)
    obj = {
        "n": [m, k, n],
        "m": scheme.rank,
        "z2": v.ring == "Z2",
        "multiplications": product_lines(scheme),
        "elements": output_lines(scheme),
        "u": to_jsonable(scheme.W_a),
        "v": to_jsonable(scheme.W_b),
        "w": to_jsonable(w_rows),
    }
    lines = ["{"]
    keys = list(obj)
    for idx, key in enumerate(keys):
        comma = "," if idx < len(keys) - 1 else ""
        val = obj[key]
        if key in ("u", "v", "w", "multiplications", "elements"):
            body = ",\n        ".join(json.dumps(x) for x in val)
            lines.append(f'    "{key}": [\n        {body}\n    ]{comma}')
        else:
            lines.append(f'    "{key}": {json.dumps(val)}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"
