"""LaTeX renderings of schemes, needing nothing beyond ``article`` and ``amsmath``.

``scheme_to_latex(s)`` is an ``align*`` fragment (products, then outputs) for pasting into a
paper; ``scheme_to_latex(s, fragment=False)`` is a whole document that compiles with pdflatex
on a minimal TeX install; ``matrices=True`` adds W_a, W_b and W_c as ``bmatrix``.
"""

from __future__ import annotations

from fractions import Fraction

from ..core.arith import signed_terms
from ..core.scheme import Scheme

# terms per displayed line before a long linear form is continued on the next line
TERMS_PER_LINE = 9


def _tex_names(scheme: Scheme):
    m, k, n = scheme.shape
    sep = "," if max(m, k, n) > 9 else ""
    a = [f"a_{{{i+1}{sep}{j+1}}}" for i in range(m) for j in range(k)]
    b = [f"b_{{{j+1}{sep}{l+1}}}" for j in range(k) for l in range(n)]
    c = [f"c_{{{i+1}{sep}{l+1}}}" for i in range(m) for l in range(n)]
    return a, b, c


def tex_coefficient(c) -> str:
    """An exact coefficient as TeX: ``-1``, ``3``, ``\\tfrac{1}{2}``, ``-\\tfrac{3}{2}``."""
    c = Fraction(c)
    sign = "-" if c < 0 else ""
    mag = abs(c)
    if mag.denominator == 1:
        return f"{sign}{mag.numerator}"
    return f"{sign}\\tfrac{{{mag.numerator}}}{{{mag.denominator}}}"


def _terms(coeffs, names) -> list[tuple[str, str]]:
    return signed_terms(coeffs, names, tex_coefficient, sep="")


def _join(parts, first: bool = True) -> str:
    out = ""
    for idx, (sign, term) in enumerate(parts):
        if idx == 0 and first:
            out = ("-" if sign == "-" else "") + term
        else:
            out += f" {sign} {term}"
    return out.strip()


def tex_linear_form(coeffs, names) -> str:
    """``a_{11} - 2a_{12} + \\tfrac{1}{2}a_{21}`` (zero terms dropped; ``0`` if all are zero)."""
    parts = _terms(coeffs, names)
    return _join(parts) if parts else "0"


def _wrapped(parts, per_line: int) -> list[str]:
    """A long signed sum as several chunks; each later chunk starts with its sign."""
    if not parts:
        return ["0"]
    chunks = [parts[i:i + per_line] for i in range(0, len(parts), per_line)]
    return [_join(ch, first=(i == 0)) for i, ch in enumerate(chunks)]


def _factor(parts) -> str:
    body = _join(parts) if parts else "0"
    return f"({body})" if len(parts) > 1 or body.startswith("-") else body


def _product_lines(scheme: Scheme, t: int, a, b, per_line: int) -> list[str]:
    pa = _terms(scheme.W_a[t].tolist(), a)
    pb = _terms(scheme.W_b[t].tolist(), b)
    head = f"m_{{{t+1}}} &= "
    if len(pa) + len(pb) <= per_line:
        return [head + f"{_factor(pa)}\\,{_factor(pb)}"]
    # long factors: each factor on its own line(s), wrapped if needed
    lines = []
    for side, parts in enumerate((pa, pb)):
        if len(parts) <= per_line:
            text = [_factor(parts)]
        else:
            chunks = _wrapped(parts, per_line)
            text = ["(" + chunks[0]] + chunks[1:-1] + [chunks[-1] + ")"]
        for i, chunk in enumerate(text):
            if side == 0 and i == 0:
                lines.append(head + chunk)
            elif side == 1 and i == 0:
                lines.append("&\\phantom{{}={}} \\times " + chunk)
            else:
                lines.append("&\\phantom{{}={}} \\quad " + chunk)
    return lines


def _align(scheme: Scheme, per_line: int) -> str:
    a, b, c = _tex_names(scheme)
    rows = []
    for t in range(scheme.rank):
        rows.extend(_product_lines(scheme, t, a, b, per_line))
    mn = [f"m_{{{t+1}}}" for t in range(scheme.rank)]
    for z in range(scheme.shape.c_size):
        chunks = _wrapped(_terms(scheme.W_c[z].tolist(), mn), per_line)
        rows.append(f"{c[z]} &= {chunks[0]}")
        rows.extend(f"&\\phantom{{{{}}={{}}}} {ch}" for ch in chunks[1:])
    body = " \\\\\n".join("  " + r for r in rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def _bmatrix(W, name: str, transposed: bool = False) -> str:
    rows = W.T.tolist() if transposed else W.tolist()
    label = f"{name}^{{\\top}}" if transposed else name
    lines = [" & ".join(tex_coefficient(x) for x in row) for row in rows]
    body = " \\\\\n".join("  " + ln for ln in lines)
    return f"\\[\n{label} = \\begin{{bmatrix}}\n{body}\n\\end{{bmatrix}}\n\\]"


def matrices_latex(scheme: Scheme) -> str:
    """W_a, W_b and W_c as ``bmatrix`` displays (W_c transposed when it is wider than tall)."""
    s = scheme.shape
    wc_t = scheme.rank > s.c_size
    note = ("% rows of W_a, W_b: one per product; rows of W_c: one per entry of C"
            + (" (shown transposed: one row per product)" if wc_t else ""))
    return "\n".join([note, _bmatrix(scheme.W_a, "W_a"), _bmatrix(scheme.W_b, "W_b"),
                      _bmatrix(scheme.W_c, "W_c", transposed=wc_t)])


def tex_escape(text: str) -> str:
    """Escape LaTeX's special characters in free text (provenance strings)."""
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}"}
    return "".join(repl.get(ch, ch) for ch in str(text))


def _shared_words(scheme: Scheme) -> str:
    from .text import NOT_COMPUTED, header_additions_shared
    n = header_additions_shared(scheme)
    return f"shared {NOT_COMPUTED}" if n is None else f"with shared subexpressions: {n}"


def _ring_words(ring: str) -> str:
    return {"ZT": "valid over every ring (coefficients in $\\{-1,0,1\\}$)",
            "Z": "valid over every ring (integer coefficients)",
            "Q": "valid over fields of characteristic 0 (rational coefficients)",
            "Z2": "valid only modulo 2 (not an integer algorithm)",
            "Z3": "valid only modulo 3 (not an integer algorithm)",
            "invalid": "NOT a valid algorithm (exact verification fails)"}.get(ring, tex_escape(ring))


def scheme_to_latex(scheme: Scheme, *, fragment: bool = True, matrices: bool = False,
                    per_line: int = TERMS_PER_LINE) -> str:
    """The scheme as LaTeX: an ``align*`` fragment, or (``fragment=False``) a complete document.

    The document uses only ``article`` and ``amsmath``; ``matrices`` adds the coefficient
    matrices as ``bmatrix``.  The ring stated is the one exact verification proves.
    """
    if per_line < 1:
        raise ValueError("per_line must be at least 1")
    v = scheme.verify()
    if not (v.ok or v.ring in ("Z2", "Z3")):
        from ..errors import VerificationError
        raise VerificationError(f"refusing to typeset a scheme that fails exact verification as an algorithm "
                                f"({v.summary()})")
    body = _align(scheme, per_line)
    if matrices:
        body += "\n" + matrices_latex(scheme)
    s = scheme.shape
    max_cols = max(scheme.rank if scheme.rank <= s.c_size else s.c_size, s.a_size, s.b_size, 10)
    if fragment:
        if v.ring in ("Z2", "Z3"):
            body = (f"% VALID MOD {v.ring[1]} ONLY: not an integer algorithm (exact verification over Z fails)\n"
                    + body)
        if matrices and max_cols > 10:
            body = f"% the matrices need \\setcounter{{MaxMatrixCols}}{{{max_cols}}} in the preamble\n" + body
        return body
    angle = f"$\\langle {s.m},{s.k},{s.n}\\rangle$"
    title = f"A bilinear algorithm for {angle} with {scheme.rank} multiplications"
    prov = scheme.provenance
    origin = ""
    if prov.get("engine"):
        origin = f"Found by: {tex_escape(prov['engine'])}"
        if "seed" in prov:
            origin += f", seed {tex_escape(prov['seed'])}"
        origin += ".\n"
    intro = (f"For $A$ ($ {s.m}\\times{s.k} $), $B$ ($ {s.k}\\times{s.n} $) and $C = AB$, with entries "
             f"$a_{{ij}}, b_{{jl}}, c_{{il}}$: the {scheme.rank} products $m_t$ and the entries of $C$.\n"
             f"Proven exactly: {_ring_words(v.ring)}. "
             f"Additions (naive count): {scheme.additions_naive}; {_shared_words(scheme)}; "
             f"nonzero coefficients: {scheme.nnz}.\n"
             + origin)
    return ("\\documentclass{article}\n"
            "\\usepackage{amsmath}\n"
            "\\allowdisplaybreaks\n"
            f"\\setcounter{{MaxMatrixCols}}{{{max_cols}}}\n"
            "\\title{" + title + "}\n\\author{algodiscover}\n\\date{}\n"
            "\\begin{document}\n\\maketitle\n\\noindent " + intro + "\n"
            + body + "\n\\end{document}\n")
