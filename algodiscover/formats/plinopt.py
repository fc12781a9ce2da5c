"""PLinOpt ``.sms`` triples: three sparse matrices ``X_L.sms``, ``X_R.sms``, ``X_P.sms``.

Each file is in SMS form: ``#`` comment lines, a header ``rows cols R``, then 1-indexed
``row col value`` lines (values are integers or ``p/q``), ending with ``0 0 0``.
L is r x (m*k) over A row-major, R is r x (k*n) over B, P is (m*n) x r over C (**not**
transposed).  The shape follows from the sizes.  A triple is named by its ``X_L.sms``
(or ``_R``/``_P``) file, by ``X.sms``, or by ``X``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.scheme import Scheme
from ..errors import FormatError
from ._common import build, coefficient_text, decode_text, exact_number, plain, shape_from_sizes

SUFFIXES = ("sms",)
HOLDS_MANY = False
PARTS = ("L", "R", "P")
_PART_NAME = re.compile(r"^(?P<base>.*)_(?P<part>[LRP])\.sms$", re.IGNORECASE)


def parse_sms(data, source: str) -> tuple[int, int, dict]:
    """(rows, cols, {(i, j): value}) of one SMS matrix, 0-based indices."""
    text = decode_text(data, source)
    header = None
    entries: dict = {}
    ended = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("%"):
            continue
        toks = line.split()
        where = f"{source}:{lineno}"
        if ended:
            raise FormatError(f"{where}: data after the closing '0 0 0'")
        if header is None:
            if len(toks) != 3 or not toks[0].isdigit() or not toks[1].isdigit():
                raise FormatError(f"{where}: expected the header 'rows cols R', got {line!r}")
            header = (int(toks[0]), int(toks[1]))
            continue
        if len(toks) != 3:
            raise FormatError(f"{where}: expected 'row col value', got {line!r}")
        if not toks[0].isdigit() or not toks[1].isdigit():
            raise FormatError(f"{where}: row and column must be non-negative integers, got {line!r}")
        i, j = int(toks[0]), int(toks[1])
        if i == 0 and j == 0:
            if exact_number(toks[2], where) != 0:
                raise FormatError(f"{where}: the closing line must be '0 0 0'")
            ended = True
            continue
        rows, cols = header
        if not (1 <= i <= rows and 1 <= j <= cols):
            raise FormatError(f"{where}: entry ({i}, {j}) lies outside the {rows} x {cols} matrix (1-indexed)")
        if (i - 1, j - 1) in entries:
            raise FormatError(f"{where}: entry ({i}, {j}) appears twice")
        entries[(i - 1, j - 1)] = plain(exact_number(toks[2], where))
    if header is None:
        raise FormatError(f"{source}: no 'rows cols R' header found")
    if not ended:
        raise FormatError(f"{source}: missing the closing '0 0 0' line")
    return header[0], header[1], entries


def _dense(rows: int, cols: int, entries: dict) -> list[list]:
    M = [[0] * cols for _ in range(rows)]
    for (i, j), v in entries.items():
        M[i][j] = v
    return M


def parse_many(data, *, source: str = "<data>"):
    """``data``: a mapping {'L': text, 'R': text, 'P': text} (see ``read``)."""
    if not isinstance(data, dict):
        raise FormatError(f"{source}: a PLinOpt scheme is three files X_L.sms, X_R.sms, X_P.sms; "
                          f"name one of them, X.sms or X")
    return [(None, parse_triple(data["L"], data["R"], data["P"], source=source))]


def parse(data, *, source: str = "<data>") -> Scheme:
    """One scheme from {'L': text, 'R': text, 'P': text}."""
    return parse_many(data, source=source)[0][1]


def parse_triple(L, R, P, *, source: str = "<data>") -> Scheme:
    (lr, lc, le), (rr, rc, re_), (pr, pc, pe) = (parse_sms(x, f"{source}_{n}.sms")
                                                 for x, n in zip((L, R, P), PARTS))
    if not (lr == rr == pc):
        raise FormatError(f"{source}: L has {lr} rows, R has {rr} rows and P has {pc} columns; "
                          f"all three must equal the rank")
    shape = shape_from_sizes(lc, rc, pr, source)
    return build(shape, _dense(lr, lc, le), _dense(rr, rc, re_), _dense(pr, pc, pe), source=source,
                 provenance={"source": "plinopt"})


def triple_paths(path) -> dict[str, Path]:
    """The three files of the triple named by ``path`` (X_L.sms, X.sms or X)."""
    p = Path(path)
    m = _PART_NAME.match(p.name)
    if m:
        base = p.with_name(m.group("base"))
    elif p.suffix.lower() == ".sms":
        base = p.with_name(p.name[:-4])
    else:
        base = p
    return {part: base.with_name(f"{base.name}_{part}.sms") for part in PARTS}


def read(path) -> dict[str, bytes]:
    out = {}
    for part, p in triple_paths(path).items():
        try:
            out[part] = p.read_bytes()
        except FileNotFoundError:
            raise FormatError(f"cannot read {p}: no such file (a PLinOpt triple needs _L, _R and _P files)") from None
        except OSError as e:
            raise FormatError(f"cannot read {p}: {e.strerror or e}") from None
    return out


def is_triple(path) -> bool:
    return all(p.is_file() for p in triple_paths(path).values())


def _sms(M, comment: str) -> str:
    rows, cols = len(M), len(M[0]) if M else 0
    out = [f"# {comment}", f"{rows} {cols} R"]
    for i, row in enumerate(M):
        for j, x in enumerate(row):
            if x != 0:
                out.append(f"{i + 1} {j + 1} {coefficient_text(x)}")
    out.append("0 0 0")
    return "\n".join(out) + "\n"


def dump(scheme: Scheme) -> dict[str, str]:
    """{'L': text, 'R': text, 'P': text}."""
    s = scheme.shape
    return {
        "L": _sms(scheme.W_a.tolist(), f"left matrix of <{s.m},{s.k},{s.n}>:{scheme.rank} (products x A entries)"),
        "R": _sms(scheme.W_b.tolist(), f"right matrix of <{s.m},{s.k},{s.n}>:{scheme.rank} (products x B entries)"),
        "P": _sms(scheme.W_c.tolist(), f"post matrix of <{s.m},{s.k},{s.n}>:{scheme.rank} (C entries x products)"),
    }
