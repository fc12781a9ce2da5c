"""Jupyter displays of a Scheme, and the core staying free of render imports."""

import subprocess
import sys

from matplotlib.figure import Figure

from tests.conftest import REPO


def test_repr_latex(strassen):
    tex = strassen._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$")
    assert tex.count("m_{") - tex.count("= m_{") >= 7
    assert "c_{11} &= m_{1} + m_{4} - m_{5} + m_{7}" in tex
    assert "ring ZT" in tex


def test_repr_latex_of_a_large_scheme_is_cut(laderman):
    from algodiscover.core.compose import tensor_product
    from algodiscover.render import notebook
    big = tensor_product(laderman, laderman)  # <9,9,9> of rank 529
    tex = notebook.scheme_latex_repr(big)
    assert f"{529 - notebook.MAX_LATEX_PRODUCTS} more products" in tex
    assert "shared not computed" in tex  # a header never runs the greedy CSE pass on a scheme this large


def test_repr_html_escapes(strassen):
    html = strassen._repr_html_()
    assert "&lt;2,2,2&gt; rank 7, ring ZT" in html
    assert "m1 = (a11 + a22)(b11 + b22)" in html and "<pre" in html


def test_draw_returns_a_figure(strassen):
    assert isinstance(strassen.draw(), Figure)


def test_core_imports_no_render_module():
    code = ("import sys, algodiscover; from algodiscover.core import scheme; "
            "bad = [m for m in sys.modules if m.startswith(('algodiscover.render', 'matplotlib', 'networkx'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert r.returncode == 0, r.stdout + r.stderr
