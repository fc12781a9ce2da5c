"""Kauers/Moosbauer Maple/Mathematica lists (``.m``): ``{{A, B, C}, ...}``, one triple per product.

``A`` is the m x k coefficient matrix of the a-factor, ``B`` the k x n one of the b-factor, and the
third matrix is n x m: the c-factor over **C^T** (its entry [l][i] belongs to ``C[i, l]``).
Coefficients are integers or rationals ``p/q``.  An optional ``name :=`` prefix and a trailing
``;`` or ``:`` are tolerated, as are Mathematica line continuations (``\\`` at a line end).
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..core.scheme import Scheme
from ..core.shape import Shape
from ..errors import FormatError
from ._common import build, coefficient_text, decode_text, plain

SUFFIXES = ("m",)
HOLDS_MANY = False

_TOKEN = re.compile(r"\s*(?:(?P<open>\{)|(?P<close>\})|(?P<comma>,)"
                    r"|(?P<num>[-+]?\s*\d+(?:\.\d+)?(?:\s*/\s*\d+)?))")


def _nested(text: str, source: str):
    """Nested Python lists of Fractions from a brace expression."""
    stack: list[list] = []
    result = None
    pos = 0
    expect_item = True
    while True:
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise FormatError(f"{source}: unexpected {text[pos:].strip()[:20]!r} in the list")
            break
        pos = m.end()
        kind = m.lastgroup
        if kind in ("open", "num") and stack and not expect_item:
            raise FormatError(f"{source}: missing ',' between list items")
        if kind == "open":
            if result is not None:
                raise FormatError(f"{source}: text after the end of the list")
            stack.append([])
            expect_item = True
        elif kind == "close":
            if not stack:
                raise FormatError(f"{source}: unbalanced '}}'")
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                result = done
            expect_item = False
        elif kind == "comma":
            if not stack or expect_item:
                raise FormatError(f"{source}: misplaced ','")
            expect_item = True
        else:
            if not stack:
                raise FormatError(f"{source}: a number outside the list")
            try:
                stack[-1].append(Fraction(re.sub(r"\s+", "", m.group("num"))))
            except (ValueError, ZeroDivisionError):
                raise FormatError(f"{source}: {m.group('num').strip()!r} is not an exact number") from None
            expect_item = False
    if stack or result is None:
        raise FormatError(f"{source}: unbalanced '{{' (the list is not closed)")
    return result


def _matrix(obj, where: str) -> list[list[Fraction]]:
    if not isinstance(obj, list) or not obj or not all(isinstance(r, list) for r in obj):
        raise FormatError(f"{where}: expected a matrix (a list of rows)")
    width = len(obj[0])
    if width == 0 or any(len(r) != width for r in obj):
        raise FormatError(f"{where}: ragged or empty rows")
    if any(isinstance(x, list) for r in obj for x in r):
        raise FormatError(f"{where}: expected numbers inside the rows")
    return obj


def parse(data, *, source: str = "<data>") -> Scheme:
    text = decode_text(data, source).replace("\\\n", "")
    text = text.strip()
    text = re.sub(r"^[A-Za-z_][A-Za-z0-9_]*\s*:?=\s*", "", text)  # name := {...}
    text = text.rstrip(";:").strip()
    if not text.startswith("{"):
        raise FormatError(f"{source}: expected a list starting with '{{'")
    products = _nested(text, source)
    if not products:
        raise FormatError(f"{source}: the list of products is empty")
    triples = []
    for t, prod in enumerate(products):
        where = f"{source}: product {t + 1}"
        if not isinstance(prod, list) or len(prod) != 3:
            raise FormatError(f"{where}: expected three matrices {{A, B, C}}")
        triples.append(tuple(_matrix(x, where) for x in prod))
    A0, B0, C0 = triples[0]
    m, k = len(A0), len(A0[0])
    n = len(B0[0])
    for t, (A, B, C) in enumerate(triples):
        dims = (len(A), len(A[0]), len(B), len(B[0]), len(C), len(C[0]))
        if dims != (m, k, k, n, n, m):
            raise FormatError(f"{source}: product {t + 1} has matrices {dims[0]}x{dims[1]}, {dims[2]}x{dims[3]}, "
                              f"{dims[4]}x{dims[5]}; expected {m}x{k}, {k}x{n}, {n}x{m} (third one is C^T)")
    shape = Shape(m, k, n)
    r = len(triples)
    W_a = [[plain(x) for row in A for x in row] for A, _, _ in triples]
    W_b = [[plain(x) for row in B for x in row] for _, B, _ in triples]
    W_c = [[plain(triples[t][2][l][i]) for t in range(r)] for i in range(m) for l in range(n)]
    return build(shape, W_a, W_b, W_c, source=source, provenance={"source": "maple"})


def parse_many(data, *, source: str = "<data>"):
    return [(None, parse(data, source=source))]


def looks_like(text: str) -> bool:
    return text.lstrip().startswith("{{{") or bool(re.match(r"\s*[A-Za-z_]\w*\s*:?=\s*\{\{\{", text))


def dump(scheme: Scheme) -> str:
    m, k, n = scheme.shape

    def mat(rows):
        return "{" + ", ".join("{" + ", ".join(coefficient_text(x) for x in row) + "}" for row in rows) + "}"

    out = []
    for t in range(scheme.rank):
        a = scheme.W_a[t].tolist()
        b = scheme.W_b[t].tolist()
        c = scheme.W_c[:, t].tolist()
        A = [a[i * k:(i + 1) * k] for i in range(m)]
        B = [b[j * n:(j + 1) * n] for j in range(k)]
        Ct = [[c[i * n + l] for i in range(m)] for l in range(n)]
        out.append("{" + ", ".join((mat(A), mat(B), mat(Ct))) + "}")
    return "{" + ",\n ".join(out) + "}\n"
