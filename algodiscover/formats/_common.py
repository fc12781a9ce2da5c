"""Helpers shared by the format modules: text decoding, exact number tokens, shapes from sizes."""

from __future__ import annotations

import math
from fractions import Fraction

from ..core.scheme import Scheme
from ..core.shape import Shape
from ..errors import FormatError, SchemeError, ShapeError


def decode_text(data, source: str) -> str:
    """str from bytes (UTF-8, BOM tolerated) with CRLF / CR line endings turned into LF."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FormatError(f"{source}: not UTF-8 text") from None
    if not isinstance(data, str):
        raise FormatError(f"{source}: expected text, got {type(data).__name__}")
    return data.replace("\r\n", "\n").replace("\r", "\n")


def exact_number(token: str, where: str) -> Fraction:
    """An exact rational from '3', '-2/3', '0.5' or '1e-3' (decimal strings are exact rationals)."""
    t = token.strip()
    try:
        f = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise FormatError(f"{where}: {token!r} is not an integer, 'p/q' rational or decimal number") from None
    return f


def plain(f: Fraction):
    """int where the Fraction is integral (keeps Scheme arrays int64 when possible)."""
    return int(f) if f.denominator == 1 else f


def shape_from_sizes(a_size: int, b_size: int, c_size: int, where: str) -> Shape:
    """<m,k,n> from m*k, k*n and m*n (unique when it exists)."""
    prod = a_size * b_size * c_size
    mkn = math.isqrt(prod)
    if prod <= 0 or mkn * mkn != prod or mkn % b_size or mkn % c_size or mkn % a_size:
        raise FormatError(f"{where}: sizes m*k={a_size}, k*n={b_size}, m*n={c_size} "
                          f"do not belong to any matrix product shape")
    return Shape(mkn // b_size, mkn // c_size, mkn // a_size)


def c_transposed_rows(shape: Shape) -> list[int]:
    """For each of our W_c rows (i*n + l), the row of a C^T-indexed factor (l*m + i)."""
    m, _, n = shape
    return [l * m + i for i in range(m) for l in range(n)]


def build(shape, W_a, W_b, W_c, *, source: str, provenance=None) -> Scheme:
    """A Scheme, with construction errors turned into one-line FormatErrors."""
    try:
        return Scheme(shape, W_a, W_b, W_c, provenance=provenance)
    except (SchemeError, ShapeError) as e:
        raise FormatError(f"{source}: {e}") from None


def coefficient_text(x) -> str:
    """'3', '-1/2' for a coefficient."""
    f = Fraction(x)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _reject_constant(name):
    raise FormatError(f"the file contains {name}, which is not an exact number")


def load_json_text(data, source: str):
    """Parse JSON text strictly: NaN/Infinity rejected, errors as one-line FormatErrors naming the source."""
    import json
    text = decode_text(data, source)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except FormatError as e:
        raise FormatError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise FormatError(f"{source}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
