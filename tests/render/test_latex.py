"""LaTeX export: document structure, formulas that read back to the scheme, pdflatex compilation."""

import re
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.render.latex import scheme_to_latex, tex_linear_form
from tests.conftest import LADERMAN, STRASSEN


def _parse_form(text, letter, rows, cols):
    """'(a_{11} - 2a_{12} + \\tfrac{1}{2}a_{21})' -> coefficient row (test-side reader)."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    out = [Fraction(0)] * (rows * cols)
    pat = rf"([+-]?)\s*(?:\\tfrac\{{(\d+)\}}\{{(\d+)\}}|(\d+))?{letter}_\{{(\d+),?(\d+)\}}"
    for sign, num, den, whole, i, j in re.findall(pat, text):
        c = Fraction(int(num), int(den)) if num else Fraction(int(whole) if whole else 1)
        out[(int(i) - 1) * cols + int(j) - 1] += -c if sign == "-" else c
    return out


def _read_back(tex, shape, rank):
    """Rebuild W_a, W_b, W_c from the align* lines of a fragment."""
    m, k, n = shape
    Wa, Wb, Wc = [], [], [[0] * rank for _ in range(m * n)]
    for line in tex.splitlines():
        mp = re.match(r"\s*m_\{(\d+)\} &= (.*?)\\,(.*?)( \\\\)?$", line)
        if mp:
            Wa.append(_parse_form(mp.group(2), "a", m, k))
            Wb.append(_parse_form(mp.group(3), "b", k, n))
            continue
        mc = re.match(r"\s*c_\{(\d)(\d)\} &= (.*?)( \\\\)?$", line)
        if mc:
            z = (int(mc.group(1)) - 1) * n + int(mc.group(2)) - 1
            for sign, t in re.findall(r"([+-]?)\s*m_\{(\d+)\}", mc.group(3)):
                Wc[z][int(t) - 1] = -1 if sign == "-" else 1
    return Wa, Wb, Wc


@pytest.mark.parametrize("data,shape", [(STRASSEN, (2, 2, 2)), (LADERMAN, (3, 3, 3))])
def test_fragment_reads_back_to_the_scheme(data, shape):
    s = Scheme(shape, **data)
    frag = scheme_to_latex(s)
    assert frag.startswith("\\begin{align*}") and frag.rstrip().endswith("\\end{align*}")
    assert "\\documentclass" not in frag
    Wa, Wb, Wc = _read_back(frag, shape, s.rank)
    assert np.array_equal(np.array(Wa, dtype=object), np.array(data["W_a"], dtype=object))
    assert np.array_equal(np.array(Wb, dtype=object), np.array(data["W_b"], dtype=object))
    assert Wc == data["W_c"]


def test_document_uses_article_and_amsmath_only(strassen):
    doc = scheme_to_latex(strassen, fragment=False, matrices=True)
    assert doc.startswith("\\documentclass{article}")
    assert re.findall(r"\\usepackage\{([^}]*)\}", doc) == ["amsmath"]
    assert "standalone" not in doc and "tikz" not in doc.lower()
    assert doc.count("\\begin{align*}") == 1 and doc.count("\\end{align*}") == 1
    assert doc.count("\\begin{bmatrix}") == 3
    # 7 products and 4 outputs, as in Strassen's paper
    assert len(re.findall(r"^\s*m_\{\d+\} &=", doc, flags=re.M)) == 7
    assert len(re.findall(r"^\s*c_\{\d\d\} &=", doc, flags=re.M)) == 4
    assert "ring" in doc.lower() or "every ring" in doc
    assert doc.rstrip().endswith("\\end{document}")


def test_fragment_with_wide_matrices_says_what_the_preamble_needs(laderman):
    frag = scheme_to_latex(laderman, matrices=True)
    # W_c is 9 x 23: shown transposed (23 x 9); no matrix is wider than amsmath's default 10 columns
    assert "W_c^{\\top}" in frag
    assert frag.count("\\begin{bmatrix}") == 3


def test_rational_coefficients_use_tfrac():
    assert tex_linear_form([Fraction(1, 2), 0, -2, -1], ["x", "y", "z", "w"]) == "\\tfrac{1}{2}x - 2z - w"
    assert tex_linear_form([0, 0], ["x", "y"]) == "0"


def _rational_strassen():
    """Strassen with product 1 scaled by 2 on the A side and 1/2 in the outputs: valid over Q."""
    Wa = [list(r) for r in STRASSEN["W_a"]]
    Wa[0] = [2 * x for x in Wa[0]]
    Wc = [[Fraction(x) for x in r] for r in STRASSEN["W_c"]]
    for r in Wc:
        r[0] = r[0] / 2
    return Scheme((2, 2, 2), Wa, STRASSEN["W_b"], Wc)


def test_long_forms_are_wrapped(laderman):
    doc = scheme_to_latex(laderman, fragment=False, per_line=3)
    # Laderman's m1 has a 7-term A factor: with 3 terms a line it continues on further lines
    m1_block = doc.split("m_{1} &=")[1].split("m_{2} &=")[0]
    assert m1_block.count("\\\\") >= 3


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("which", ["strassen", "laderman", "laderman-wrapped", "rational"])
def test_document_compiles_with_pdflatex(tmp_path, which, strassen, laderman):
    s = {"strassen": strassen, "laderman": laderman, "laderman-wrapped": laderman,
         "rational": _rational_strassen()}[which]
    doc = scheme_to_latex(s, fragment=False, matrices=True, per_line=3 if "wrapped" in which else 9)
    (tmp_path / "doc.tex").write_text(doc)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_every_header_shows_both_addition_counts(tmp_path):
    """Naive and shared additions wherever metrics are shown (text, LaTeX document, Jupyter).
    Strassen's 1969 form has 18 naive additions (Strassen 1969); the shared count is the scheme's metric."""
    from algodiscover.examples import strassen
    from algodiscover.render import notebook
    s = strassen()
    mt = s.metrics()
    assert mt["additions_naive"] == 18
    want = f"additions (naive) {mt['additions_naive']}, shared {mt['additions_shared']}"
    assert want in s.to_text().splitlines()[0]
    assert want in notebook._header(s)[1]
    assert f"with shared subexpressions: {mt['additions_shared']}" in scheme_to_latex(s, fragment=False)
