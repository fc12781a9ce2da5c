"""Classic schemes typed from the literature, for notebooks, examples and comparisons.

Each function returns a fresh, unverified :class:`Scheme`; call ``.verify()`` to prove it.

* :func:`strassen`: Strassen 1969, <2,2,2> rank 7.
* :func:`winograd`: Winograd's variant (1971; Knuth, TAOCP vol. 2, 4.6.4), <2,2,2> rank 7.
* :func:`laderman`: Laderman 1976 (Bull. AMS 82(1), 126-128), <3,3,3> rank 23.
"""

from __future__ import annotations

import re

from .core.scheme import Scheme


def _lin(expr: str, letter: str, rows: int, cols: int) -> list[int]:
    """'a11+a12-a21' -> coefficient row over the row-major entries of a rows x cols matrix."""
    out = [0] * (rows * cols)
    for sign, i, j in re.findall(rf"([+-]?){letter}(\d)(\d)", expr.replace(" ", "")):
        out[(int(i) - 1) * cols + int(j) - 1] += -1 if sign == "-" else 1
    return out


def _from_formulas(shape, products, outputs, source: str) -> Scheme:
    m, k, n = shape
    r = len(products)
    Wa = [_lin(a, "a", m, k) for a, _ in products]
    Wb = [_lin(b, "b", k, n) for _, b in products]
    Wc = []
    for expr in outputs:
        row = [0] * r
        for sign, t in re.findall(r"([+-]?)m(\d+)", expr.replace(" ", "")):
            row[int(t) - 1] += -1 if sign == "-" else 1
        Wc.append(row)
    from . import provenance
    rec = provenance.search_record("literature", options={}, workers=None, device="cpu",
                                   start=provenance.start_record("file", source, published=True), source=source)
    rec = provenance.result_record(rec, completed_by=["import"], seconds=0.0)
    return Scheme(shape, Wa, Wb, Wc, provenance=rec)


def strassen() -> Scheme:
    return _from_formulas(
        (2, 2, 2),
        [("a11+a22", "b11+b22"), ("a21+a22", "b11"), ("a11", "b12-b22"), ("a22", "b21-b11"),
         ("a11+a12", "b22"), ("a21-a11", "b11+b12"), ("a12-a22", "b21+b22")],
        ["m1+m4-m5+m7", "m3+m5", "m2+m4", "m1-m2+m3+m6"],
        "Strassen 1969")


def winograd() -> Scheme:
    # s1=a21+a22 s2=s1-a11 s3=a11-a21 s4=a12-s2; t1=b12-b11 t2=b22-t1 t3=b22-b12 t4=t2-b21
    return _from_formulas(
        (2, 2, 2),
        [("a11", "b11"), ("a12", "b21"), ("a11+a12-a21-a22", "b22"), ("a22", "b11-b12-b21+b22"),
         ("a21+a22", "-b11+b12"), ("-a11+a21+a22", "b11-b12+b22"), ("a11-a21", "-b12+b22")],
        ["m1+m2", "m1+m3+m5+m6", "m1-m4+m6+m7", "m1+m5+m6+m7"],
        "Winograd 1971")


_LADERMAN_PRODUCTS = [
    ("a11+a12+a13-a21-a22-a32-a33", "b22"), ("a11-a21", "-b12+b22"),
    ("a22", "-b11+b12+b21-b22-b23-b31+b33"), ("-a11+a21+a22", "b11-b12+b22"), ("a21+a22", "-b11+b12"),
    ("a11", "b11"), ("-a11+a31+a32", "b11-b13+b23"), ("-a11+a31", "b13-b23"), ("a31+a32", "-b11+b13"),
    ("a11+a12+a13-a22-a23-a31-a32", "b23"), ("a32", "-b11+b13+b21-b22-b23-b31+b32"),
    ("-a13+a32+a33", "b22+b31-b32"), ("a13-a33", "b22-b32"), ("a13", "b31"), ("a32+a33", "-b31+b32"),
    ("-a13+a22+a23", "b23+b31-b33"), ("a13-a23", "b23-b33"), ("a22+a23", "-b31+b33"), ("a12", "b21"),
    ("a23", "b32"), ("a21", "b13"), ("a31", "b12"), ("a33", "b33"),
]
_LADERMAN_OUTPUTS = [
    "m6+m14+m19", "m1+m4+m5+m6+m12+m14+m15", "m6+m7+m9+m10+m14+m16+m18",
    "m2+m3+m4+m6+m14+m16+m17", "m2+m4+m5+m6+m20", "m14+m16+m17+m18+m21",
    "m6+m7+m8+m11+m12+m13+m14", "m12+m13+m14+m15+m22", "m6+m7+m8+m9+m23",
]


def laderman() -> Scheme:
    return _from_formulas((3, 3, 3), _LADERMAN_PRODUCTS, _LADERMAN_OUTPUTS, "Laderman 1976")


CLASSIC = {"strassen": strassen, "winograd": winograd, "laderman": laderman}
