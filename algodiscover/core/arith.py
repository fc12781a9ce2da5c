"""Exact coefficient arrays: int64 when every entry is an integer, else object arrays of Fraction.

Floats never enter a Scheme.  These helpers turn user data into exact arrays
(rejecting what is not exact) and clear denominators for fast integer checks.
"""

from __future__ import annotations

import math
import numbers
import re
from fractions import Fraction

import numpy as np

from ..errors import SchemeError

_RATIONAL = re.compile(r"\s*([+-]?\d+)\s*(?:/\s*(\d+)\s*)?")
INT64_SAFE = 2**62


def parse_rational(text: str) -> Fraction:
    """Parse ``"p/q"`` or ``"p"`` into a Fraction; raise SchemeError otherwise."""
    m = _RATIONAL.fullmatch(text)
    if not m:
        raise SchemeError(f"coefficient {text!r} is not an integer or a rational written 'p/q'")
    p = int(m.group(1))
    q = int(m.group(2)) if m.group(2) is not None else 1
    if q == 0:
        raise SchemeError(f"coefficient {text!r} has a zero denominator")
    return Fraction(p, q)


def exact_scalar(x, *, where: str = "coefficient", allow_float: bool = False) -> Fraction | int:
    """One exact coefficient from int, Fraction, numpy integer, 'p/q' string, or integral float.

    Non-integral floats are rejected unless ``allow_float`` (then converted
    exactly, e.g. 0.5 -> 1/2; only for readers of formats that store halves as floats).
    """
    if isinstance(x, (bool, np.bool_)):
        raise SchemeError(f"{where} {x!r} is a boolean, expected an integer or 'p/q'")
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else x
    if isinstance(x, str):
        f = parse_rational(x)
        return int(f) if f.denominator == 1 else f
    if isinstance(x, numbers.Real):
        xf = float(x)
        if not math.isfinite(xf):
            raise SchemeError(f"{where} {x!r} is not a finite number")
        if xf == int(xf):
            return int(xf)
        if allow_float:
            f = Fraction(xf)
            if f.denominator > 2**20:
                raise SchemeError(f"{where} {x!r} is not an exact rational with a small denominator")
            return f
        raise SchemeError(f"{where} {x!r} is a non-integer float; write rationals as 'p/q'")
    if isinstance(x, numbers.Rational):
        f = Fraction(x.numerator, x.denominator)
        return int(f) if f.denominator == 1 else f
    raise SchemeError(f"{where} {x!r} has unsupported type {type(x).__name__}; expected an integer or 'p/q'")


def exact_array(data, ncols: int | None = None, *, name: str = "matrix", allow_float: bool = False) -> np.ndarray:
    """A 2-D exact array (int64, or object of Fraction where needed) from nested sequences or arrays."""
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise SchemeError(f"{name} must be 2-dimensional, got {data.ndim} dimensions")
        if data.dtype.kind in "iu":
            if data.size and (data.max() >= INT64_SAFE or data.min() <= -INT64_SAFE):
                rows = data.tolist()
            else:
                out = data.astype(np.int64, copy=True)
                out.setflags(write=False)
                return out
        elif data.dtype.kind == "b":
            raise SchemeError(f"{name} holds booleans, expected integers or 'p/q'")
        elif data.dtype == object and (ncols is None or data.shape[1] == ncols):
            fast = _exact_object_fast(data)  # already exact values (readers, transforms): skip the per-entry checks
            if fast is not None:
                return fast
        rows = data.tolist()
    else:
        rows = data
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__len__"):
        raise SchemeError(f"{name} must be a list of rows, got {type(rows).__name__}")
    rows = list(rows)
    width = None
    values: list[list] = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise SchemeError(f"{name} row {i} is not a list")
        row = list(row)
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise SchemeError(f"{name} has ragged rows: row 0 has {width} entries, row {i} has {len(row)}")
        values.append([exact_scalar(x, where=f"{name}[{i}][{j}]", allow_float=allow_float) for j, x in enumerate(row)])
    if width is None:
        width = ncols if ncols is not None else 0
    if ncols is not None and width != ncols:
        raise SchemeError(f"{name} rows have {width} entries, expected {ncols}")
    return _pack(values, len(values), width)


def _exact_object_fast(data: np.ndarray) -> np.ndarray | None:
    """The exact array for an object array holding only Python ints and Fractions, else None."""
    flat = data.ravel().tolist()
    if not all(type(x) is int or type(x) is Fraction for x in flat):
        return None
    vals = [x if type(x) is int or x.denominator != 1 else int(x) for x in flat]
    if all(type(x) is int and -INT64_SAFE < x < INT64_SAFE for x in vals):
        out = np.array(vals, dtype=np.int64).reshape(data.shape)
    else:
        out = np.empty(len(vals), dtype=object)
        out[:] = vals
        out = out.reshape(data.shape)
    out.setflags(write=False)
    return out


def _pack(values, nrows: int, ncols: int) -> np.ndarray:
    is_int = all(isinstance(x, int) for row in values for x in row)
    if is_int and all(-INT64_SAFE < x < INT64_SAFE for row in values for x in row):
        out = np.array(values, dtype=np.int64).reshape(nrows, ncols)
    else:
        out = np.empty((nrows, ncols), dtype=object)
        for i, row in enumerate(values):
            for j, x in enumerate(row):
                out[i, j] = x
    out.setflags(write=False)
    return out


def is_integral(arr: np.ndarray) -> bool:
    if arr.dtype != object:
        return True
    return all(isinstance(x, int) or (isinstance(x, Fraction) and x.denominator == 1) for x in arr.flat)


def denominator_lcm(arr: np.ndarray) -> int:
    if arr.dtype != object:
        return 1
    d = 1
    for x in arr.flat:
        if isinstance(x, Fraction):
            d = math.lcm(d, x.denominator)
    return d


def cleared(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """(integer array, d) with arr == integer array / d; int64 when safe, else object ints."""
    d = denominator_lcm(arr)
    if arr.dtype != object:
        return arr, 1
    # x * d without Fraction arithmetic (the hot spot when verifying large rational schemes)
    ints = [[x.numerator * (d // x.denominator) if type(x) is Fraction else int(x) * d for x in row]
            for row in arr.tolist()]
    if all(-INT64_SAFE < x < INT64_SAFE for row in ints for x in row):
        return np.array(ints, dtype=np.int64).reshape(arr.shape), d
    out = np.empty(arr.shape, dtype=object)
    for i, row in enumerate(ints):
        for j, x in enumerate(row):
            out[i, j] = x
    return out, d


def max_abs(arr: np.ndarray) -> int:
    if arr.size == 0:
        return 0
    if arr.dtype != object:
        return int(np.abs(arr).max())
    return int(max(abs(int(x)) for x in arr.flat))


def format_coefficient(x) -> str:
    """'3', '-1/2': the JSON spelling of one coefficient."""
    if isinstance(x, Fraction) and x.denominator != 1:
        return f"{x.numerator}/{x.denominator}"
    return str(int(x))


def to_jsonable(arr: np.ndarray) -> list[list]:
    """Rows as lists of ints, with 'p/q' strings for non-integers."""
    if arr.dtype != object:
        return arr.tolist()
    return [[int(x) if not (isinstance(x, Fraction) and x.denominator != 1) else format_coefficient(x) for x in row] for row in arr.tolist()]


def signed_terms(coeffs, names, coefficient=format_coefficient, sep: str = "*") -> list[tuple[str, str]]:
    """[(sign, term)] for the nonzero coefficients, term = ``name`` or ``|c|<sep>name`` (e.g. ``2*a12``)."""
    parts = []
    for c, name in zip(coeffs, names):
        c = Fraction(c)
        if c == 0:
            continue
        mag = abs(c)
        parts.append(("-" if c < 0 else "+", name if mag == 1 else f"{coefficient(mag)}{sep}{name}"))
    return parts


def join_signed(parts) -> str:
    """'a - b + c' from [(sign, term)]; '' when there are none."""
    out = ""
    for idx, (sign, term) in enumerate(parts):
        out = (("-" if sign == "-" else "") + term) if idx == 0 else f"{out} {sign} {term}"
    return out
