"""Rich displays of a Scheme in Jupyter (``_repr_latex_``, ``_repr_html_``)."""

from __future__ import annotations

import html

from ..core.scheme import Scheme
from .latex import _tex_names, tex_linear_form
from .text import output_lines, product_lines

# beyond this many products the LaTeX display shows the first ones and says how many are left out
MAX_LATEX_PRODUCTS = 60


def _header(scheme: Scheme) -> tuple[str, str]:
    v = scheme.verify()
    ring = v.ring
    if ring in ("Z2", "Z3"):
        ring = f"{ring} (valid mod {ring[1]} only, not an integer algorithm)"
    elif not v.ok:
        ring = f"{ring}: NOT A VALID ALGORITHM ({v.n_failures} Brent equations fail)"
    from .text import shared_additions_words
    return ring, f"nnz {scheme.nnz}, additions (naive) {scheme.additions_naive}, {shared_additions_words(scheme)}"


def scheme_latex_repr(scheme: Scheme) -> str:
    s = scheme.shape
    ring, metrics = _header(scheme)
    a, b, c = _tex_names(scheme)
    rows = [f"&\\text{{$\\langle {s.m},{s.k},{s.n}\\rangle$, rank {scheme.rank}, ring {ring}, {metrics}}}"]
    shown = min(scheme.rank, MAX_LATEX_PRODUCTS)
    for t in range(shown):
        fa = tex_linear_form(scheme.W_a[t].tolist(), a)
        fb = tex_linear_form(scheme.W_b[t].tolist(), b)
        na = sum(1 for x in scheme.W_a[t].tolist() if x != 0)
        nb = sum(1 for x in scheme.W_b[t].tolist() if x != 0)
        fa = f"({fa})" if na > 1 or fa.startswith("-") else fa
        fb = f"({fb})" if nb > 1 or fb.startswith("-") else fb
        rows.append(f"m_{{{t+1}}} &= {fa}\\,{fb}")
    if shown < scheme.rank:
        rows.append(f"&\\text{{\\dots\\ {scheme.rank - shown} more products}}")
    else:
        mn = [f"m_{{{t+1}}}" for t in range(scheme.rank)]
        for z in range(s.c_size):
            rows.append(f"{c[z]} &= {tex_linear_form(scheme.W_c[z].tolist(), mn)}")
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def scheme_html_repr(scheme: Scheme) -> str:
    ring, metrics = _header(scheme)
    prov = dict(scheme.provenance)
    origin = ""
    if prov.get("engine"):
        origin = f"; engine {prov['engine']}" + (f", seed {prov['seed']}" if "seed" in prov else "")
    head = f"{scheme.shape.angle()} rank {scheme.rank}, ring {ring}, {metrics}{origin}"
    body = "\n".join(product_lines(scheme) + output_lines(scheme))
    return (f"<div class='algodiscover-scheme'><b>{html.escape(head)}</b>"
            f"<pre style='margin-top:4px'>{html.escape(body)}</pre></div>")
