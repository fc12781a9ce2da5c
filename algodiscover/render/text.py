"""Schemes as formulas: ``m1 = (a11 + a22)(b11 + b22)`` ... ``c11 = m1 + m4 - m5 + m7``."""

from __future__ import annotations


from ..core.arith import join_signed, signed_terms
from ..core.scheme import Scheme

NAMINGS = ("compact", "index")


def entry_name(letter: str, i: int, j: int, naming: str = "compact", wide: bool = False) -> str:
    """``a12`` (compact, 1-based) or ``A[0,1]`` (index, 0-based)."""
    if naming == "index":
        return f"{letter.upper()}[{i},{j}]"
    if wide:
        return f"{letter}{i + 1}_{j + 1}"
    return f"{letter}{i + 1}{j + 1}"


def linear_form(coeffs, names) -> str:
    """'a11 - 2*a12 + 1/2*a21' from coefficients and names (zero terms dropped; '0' if all are zero)."""
    return join_signed(signed_terms(coeffs, names)) or "0"


def _names(scheme: Scheme, naming: str):
    m, k, n = scheme.shape
    wide = max(m, k, n) > 9
    a = [entry_name("a", i, j, naming, wide) for i in range(m) for j in range(k)]
    b = [entry_name("b", j, l, naming, wide) for j in range(k) for l in range(n)]
    c = [entry_name("c", i, l, naming, wide) for i in range(m) for l in range(n)]
    return a, b, c


def _factor(form: str, nterms: int) -> str:
    return f"({form})" if nterms > 1 or form.startswith("-") else form


def product_lines(scheme: Scheme, naming: str = "compact") -> list[str]:
    a, b, _ = _names(scheme, naming)
    out = []
    for t in range(scheme.rank):
        ra, rb = scheme.W_a[t].tolist(), scheme.W_b[t].tolist()
        fa = _factor(linear_form(ra, a), sum(1 for x in ra if x != 0))
        fb = _factor(linear_form(rb, b), sum(1 for x in rb if x != 0))
        if naming != "compact":
            out.append(f"m{t + 1} = {fa} * {fb}")
        else:
            joint = "" if fa.endswith(")") or fb.startswith("(") else "*"
            out.append(f"m{t + 1} = {fa}{joint}{fb}")
    return out


def output_lines(scheme: Scheme, naming: str = "compact") -> list[str]:
    _, _, c = _names(scheme, naming)
    mnames = [f"m{t + 1}" for t in range(scheme.rank)]
    return [f"{c[z]} = {linear_form(scheme.W_c[z].tolist(), mnames)}" for z in range(scheme.shape.c_size)]


HEADER_SHARED_MAX_NNZ = 1500  # above this, a header does not run the greedy CSE pass (seconds to minutes)


NOT_COMPUTED = "not computed (large scheme: see algodiscover optimize)"


def header_additions_shared(scheme: Scheme) -> int | None:
    """``additions_shared`` for a header: the attached programs' count, or one greedy CSE pass when the
    scheme is small enough for a header; None above that (``Scheme.additions_shared`` computes it always)."""
    if "programs" in scheme._cache or scheme.nnz <= HEADER_SHARED_MAX_NNZ:
        return scheme.additions_shared
    return None


def shared_additions_words(scheme: Scheme) -> str:
    """``"shared N"`` or ``"shared not computed (...)"`` for the text and Jupyter headers."""
    n = header_additions_shared(scheme)
    return f"shared {NOT_COMPUTED if n is None else n}"


def scheme_to_text(scheme: Scheme, *, naming: str = "compact", header: bool = True) -> str:
    """The whole algorithm as formulas, with a header naming shape, rank, ring and metrics."""
    if naming not in NAMINGS:
        raise ValueError(f"naming {naming!r} is unknown; expected one of {', '.join(NAMINGS)}")
    lines = []
    if header:
        v = scheme.verification
        ring = v.ring if v is not None else "unverified"
        lines.append(f"# {scheme.shape.angle()} rank {scheme.rank}, ring {ring}, "
                     f"nnz {scheme.nnz}, additions (naive) {scheme.additions_naive}, {shared_additions_words(scheme)}")
    lines += product_lines(scheme, naming)
    lines += output_lines(scheme, naming)
    return "\n".join(lines)
