"""Kauers/Moosbauer ``.exp`` text: one product per line, ``(a11+a22)*(b11+b22)*(c11+c22)``.

They decompose ``sum a_ij b_jl c_li``, so the variable ``c_li`` stands for ``C[i, l]`` (its
indices are those of C^T).  Lines are arithmetic expressions that must multiply out to one
product (linear form in a) x (linear form in b) x (linear form in c): spaces, bare variables,
juxtaposition without ``*`` (``2a11``, ``(a11)(b11)``), integer and rational coefficients
(``2*b12``, ``1/2*a11``, ``(...)/3``), scalar multiples of a factor (``(3*(a12 - a13))``) and a
leading ``-(...)`` are all accepted.  The shape is the largest index seen for each dimension.
Indices are single digits (``a12``) or separated by underscores for dimensions above 9
(``a1_10``, ``a_1_10``).  Blank lines and ``#`` comments are ignored.  Lines whose parentheses do
not group the three factors (seen in public files, e.g. ``(a11 - a14) -b13 (-c13 + c33))``) are
read letter-wise as a fallback; whatever is read is re-verified, so a misreading can only fail.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..core.scheme import Scheme
from ..core.shape import Shape
from ..errors import FormatError
from ..core.arith import join_signed, signed_terms
from ._common import build, coefficient_text, decode_text, plain

SUFFIXES = ("exp",)
HOLDS_MANY = False

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<var>[abc](?:_?\d+(?:_\d+)?))
  | (?P<op>[-+*/()])
""", re.VERBOSE)
_VAR = re.compile(r"([abc])_?(\d+)(?:_(\d+))?")


class _Val:
    """A scalar, a linear form in one letter, or a product of linear forms in distinct letters."""

    __slots__ = ("kind", "coef", "letter", "terms", "factors")

    def __init__(self, kind, coef=Fraction(1), letter=None, terms=None, factors=None):
        self.kind, self.coef, self.letter, self.terms, self.factors = kind, coef, letter, terms, factors


def _scalar(c):
    return _Val("scalar", coef=Fraction(c))


def _scale_terms(terms, c):
    return {k: v * c for k, v in terms.items()}


def _add(x: _Val, y: _Val, sign: int, where: str) -> _Val:
    if x.kind == y.kind == "scalar":
        return _scalar(x.coef + sign * y.coef)
    if x.kind == y.kind == "linear" and x.letter == y.letter:
        out = dict(x.terms)
        for k, v in y.terms.items():
            out[k] = out.get(k, 0) + sign * v
        return _Val("linear", letter=x.letter, terms=out)
    if x.kind == y.kind == "linear":
        raise FormatError(f"{where}: a sum mixes {x.letter}- and {y.letter}-entries; "
                          f"each factor must be a linear form in one matrix")
    raise FormatError(f"{where}: a sum of a {x.kind} and a {y.kind} is not one bilinear product")


def _mul(x: _Val, y: _Val, where: str) -> _Val:
    if x.kind == "scalar" and y.kind == "scalar":
        return _scalar(x.coef * y.coef)
    if x.kind == "scalar" or y.kind == "scalar":
        s, o = (x, y) if x.kind == "scalar" else (y, x)
        if o.kind == "linear":
            return _Val("linear", letter=o.letter, terms=_scale_terms(o.terms, s.coef))
        return _Val("product", coef=o.coef * s.coef, factors=o.factors)
    fx = x.factors if x.kind == "product" else {x.letter: x.terms}
    fy = y.factors if y.kind == "product" else {y.letter: y.terms}
    both = set(fx) & set(fy)
    if both:
        raise FormatError(f"{where}: two factors in {sorted(both)[0]}; a product needs one a-, one b- "
                          f"and one c-factor")
    cx = x.coef if x.kind == "product" else Fraction(1)
    cy = y.coef if y.kind == "product" else Fraction(1)
    return _Val("product", coef=cx * cy, factors={**fx, **fy})


def _neg(x: _Val) -> _Val:
    return _mul(_scalar(-1), x, "")


class _Parser:
    def __init__(self, line: str, where: str):
        self.where = where
        self.toks = []
        pos = 0
        while pos < len(line):
            m = _TOKEN.match(line, pos)
            if not m:
                raise FormatError(f"{where}: unexpected character {line[pos]!r} at column {pos + 1}")
            pos = m.end()
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup, m.group()))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self) -> _Val:
        if not self.toks:
            raise FormatError(f"{self.where}: empty expression")
        v = self.expr()
        if self.i != len(self.toks):
            raise FormatError(f"{self.where}: unexpected {self.peek()[1]!r}")
        return v

    def expr(self) -> _Val:
        v = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = 1 if self.take()[1] == "+" else -1
            v = _add(v, self.term(), sign, self.where)
        return v

    def term(self) -> _Val:
        v = self.unary()
        while True:
            kind, text = self.peek()
            if (kind, text) == ("op", "*"):
                self.take()
                v = _mul(v, self.unary(), self.where)
            elif (kind, text) == ("op", "/"):
                self.take()
                d = self.unary()
                if d.kind != "scalar":
                    raise FormatError(f"{self.where}: division by something that is not a number")
                if d.coef == 0:
                    raise FormatError(f"{self.where}: division by zero")
                v = _mul(v, _scalar(1 / d.coef), self.where)
            elif kind in ("num", "var") or (kind, text) == ("op", "("):
                v = _mul(v, self.unary(), self.where)  # juxtaposition: 2a11, (..)(..)
            else:
                return v

    def unary(self) -> _Val:
        kind, text = self.peek()
        if (kind, text) == ("op", "-"):
            self.take()
            return _neg(self.unary())
        if (kind, text) == ("op", "+"):
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> _Val:
        kind, text = self.take()
        if kind == "num":
            return _scalar(Fraction(text))
        if kind == "var":
            return _Val("linear", letter=text[0], terms={_indices(text, self.where): Fraction(1)})
        if (kind, text) == ("op", "("):
            v = self.expr()
            if self.take() != ("op", ")"):
                raise FormatError(f"{self.where}: missing ')'")
            return v
        raise FormatError(f"{self.where}: unexpected {'end of line' if text is None else repr(text)}")


def _indices(token: str, where: str) -> tuple[int, int]:
    m = _VAR.fullmatch(token)
    first, second = m.group(2), m.group(3)
    if second is None:
        if len(first) != 2:
            raise FormatError(f"{where}: ambiguous variable {token!r}; write two single-digit indices "
                              f"or separate them, e.g. {token[0]}1_10")
        first, second = first[0], first[1]
    i, j = int(first), int(second)
    if i < 1 or j < 1:
        raise FormatError(f"{where}: variable {token!r} has a zero index; indices start at 1")
    return i, j


def parse_product(line: str, where: str = "<line>"):
    """(coefficient, {letter: {(i, j): coefficient}}) for one product line, 1-based indices as written."""
    v = _Parser(line, where).parse()
    if v.kind != "product" or set(v.factors) != {"a", "b", "c"}:
        have = sorted(v.factors) if v.kind == "product" else ([v.letter] if v.kind == "linear" else [])
        raise FormatError(f"{where}: a product needs one a-, one b- and one c-factor, found "
                          f"{', '.join(have) or 'a number'}")
    return v.coef, v.factors


_LENIENT_TERM = re.compile(r"([-+]?)\s*(?:(\d+(?:/\d+)?)\s*\*?\s*)?([abc](?:_?\d+(?:_\d+)?))")


def parse_product_lenient(line: str, where: str = "<line>"):
    """Letter-wise reading for lines whose parentheses do not group the factors, as in
    ``(a11 - a14) -b13 (-c13 + c33))``: each run of same-letter terms is one factor.

    Used only when the strict reading fails, and only for lines made of signed (optionally
    integer- or rational-multiplied) variables separated by spaces, ``*`` and parentheses, where
    the a-, b- and c-terms form three runs that are separated by a parenthesis or ``*``.
    """
    depth = 0
    for ch in line:  # only flat groups; an unclosed '(' is an error, a stray ')' is tolerated
        depth += (ch == "(") - (ch == ")")
        if depth > 1:
            raise FormatError(f"{where}: not a product of linear forms")
    if depth > 0:
        raise FormatError(f"{where}: not a product of linear forms")
    factors: dict = {}
    order: list[str] = []
    pos = 0
    for m in _LENIENT_TERM.finditer(line):
        gap = line[pos:m.start()]
        if gap.strip(" *()"):
            raise FormatError(f"{where}: not a product of linear forms")
        letter = m.group(3)[0]
        if not order or order[-1] != letter:
            if letter in factors or (order and not set(gap) & set("()*")):
                raise FormatError(f"{where}: not a product of linear forms")
            order.append(letter)
            factors[letter] = {}
        pos = m.end()
        try:
            coef = Fraction(m.group(2)) if m.group(2) else Fraction(1)
        except ZeroDivisionError:
            raise FormatError(f"{where}: division by zero") from None
        if m.group(1) == "-":
            coef = -coef
        key = _indices(m.group(3), where)
        if key in factors[letter]:
            raise FormatError(f"{where}: not a product of linear forms")
        factors[letter][key] = coef
    if line[pos:].strip(" *()") or sorted(factors) != ["a", "b", "c"]:
        raise FormatError(f"{where}: not a product of linear forms")
    return Fraction(1), factors


def parse(data, *, source: str = "<data>") -> Scheme:
    text = decode_text(data, source)
    products = []
    lenient = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.split("#", 1)[0].strip().rstrip(";,").strip()
        if line.endswith("+"):
            line = line[:-1].rstrip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        try:
            products.append(parse_product(line, where))
        except FormatError as strict_error:
            try:
                products.append(parse_product_lenient(line, where))
            except FormatError:
                raise strict_error from None
            lenient.append(lineno)
    if not products:
        raise FormatError(f"{source}: no product lines found")
    m = max([i for _, f in products for (i, _) in f["a"]] + [i for _, f in products for (_, i) in f["c"]])
    k = max([j for _, f in products for (_, j) in f["a"]] + [j for _, f in products for (j, _) in f["b"]])
    n = max([l for _, f in products for (_, l) in f["b"]] + [l for _, f in products for (l, _) in f["c"]])
    shape = Shape(m, k, n)
    r = len(products)
    W_a = [[0] * (m * k) for _ in range(r)]
    W_b = [[0] * (k * n) for _ in range(r)]
    W_c = [[0] * r for _ in range(m * n)]
    for t, (coef, f) in enumerate(products):
        for (i, j), c in f["a"].items():
            W_a[t][(i - 1) * k + j - 1] = plain(c)
        for (j, l), c in f["b"].items():
            W_b[t][(j - 1) * n + l - 1] = plain(c)
        for (l, i), c in f["c"].items():  # c_li stands for C[i, l]
            W_c[(i - 1) * n + l - 1][t] = plain(c * coef)
    prov = {"source": "exp"}
    if lenient:
        prov["lines_read_letter_wise"] = lenient
    return build(shape, W_a, W_b, W_c, source=source, provenance=prov)


def parse_many(data, *, source: str = "<data>"):
    return [(None, parse(data, source=source))]


def looks_like(text: str) -> bool:
    """True when the non-comment lines look like products of a-, b- and c-forms."""
    lines = [ln.split("#", 1)[0].strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    return bool(lines) and all(re.search(r"a_?\d", ln) and re.search(r"b_?\d", ln) and re.search(r"c_?\d", ln)
                               for ln in lines[:5])


def _form(coeffs, names) -> str:
    # an unused factor still names its matrix
    return join_signed(signed_terms(coeffs, names, coefficient_text)) or f"0*{names[0]}"


def dump(scheme: Scheme) -> str:
    m, k, n = scheme.shape
    sep = "_" if max(m, k, n) > 9 else ""
    a = [f"a{i + 1}{sep}{j + 1}" for i in range(m) for j in range(k)]
    b = [f"b{j + 1}{sep}{l + 1}" for j in range(k) for l in range(n)]
    c = [f"c{l + 1}{sep}{i + 1}" for i in range(m) for l in range(n)]  # our row i*n+l is their c_li
    lines = []
    for t in range(scheme.rank):
        fa = _form(scheme.W_a[t].tolist(), a)
        fb = _form(scheme.W_b[t].tolist(), b)
        fc = _form(scheme.W_c[:, t].tolist(), c)
        lines.append(f"({fa})*({fb})*({fc})")
    return "\n".join(lines) + "\n"
