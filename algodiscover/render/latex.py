"""LaTeX renderings of schemes (amsmath only)."""

from __future__ import annotations

from fractions import Fraction

from ..core.scheme import Scheme


def _tex_names(scheme: Scheme):
    m, k, n = scheme.shape
    sep = "," if max(m, k, n) > 9 else ""
    a = [f"a_{{{i+1}{sep}{j+1}}}" for i in range(m) for j in range(k)]
    b = [f"b_{{{j+1}{sep}{l+1}}}" for j in range(k) for l in range(n)]
    c = [f"c_{{{i+1}{sep}{l+1}}}" for i in range(m) for l in range(n)]
    return a, b, c


def tex_linear_form(coeffs, names) -> str:
    parts = []
    for c, name in zip(coeffs, names):
        c = Fraction(c)
        if c == 0:
            continue
        mag = abs(c)
        if mag == 1:
            term = name
        elif mag.denominator == 1:
            term = f"{mag.numerator}{name}"
        else:
            term = f"\\tfrac{{{mag.numerator}}}{{{mag.denominator}}}{name}"
        parts.append(("-" if c < 0 else "+", term))
    if not parts:
        return "0"
    out = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for sign, term in parts[1:]:
        out += f" {sign} {term}"
    return out


def scheme_to_latex(scheme: Scheme, *, fragment: bool = True) -> str:
    """An ``align*`` block with the products and the outputs; a full document unless ``fragment``."""
    a, b, c = _tex_names(scheme)
    lines = ["\\begin{align*}"]
    for t in range(scheme.rank):
        ra, rb = scheme.W_a[t].tolist(), scheme.W_b[t].tolist()
        fa, fb = tex_linear_form(ra, a), tex_linear_form(rb, b)
        if sum(1 for x in ra if x != 0) > 1 or fa.startswith("-"):
            fa = f"({fa})"
        if sum(1 for x in rb if x != 0) > 1 or fb.startswith("-"):
            fb = f"({fb})"
        lines.append(f"  m_{{{t+1}}} &= {fa}\\,{fb} \\\\")
    mn = [f"m_{{{t+1}}}" for t in range(scheme.rank)]
    for z in range(scheme.shape.c_size):
        end = " \\\\" if z < scheme.shape.c_size - 1 else ""
        lines.append(f"  {c[z]} &= {tex_linear_form(scheme.W_c[z].tolist(), mn)}{end}")
    lines.append("\\end{align*}")
    body = "\n".join(lines)
    if fragment:
        return body
    v = scheme.verify()
    title = (f"A bilinear algorithm for $\\langle {scheme.shape.m},{scheme.shape.k},{scheme.shape.n}\\rangle$ "
             f"with {scheme.rank} multiplications (ring {v.ring})")
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
            f"\\noindent {title}\n{body}\n\\end{{document}}\n")
