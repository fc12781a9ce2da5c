"""Renderings of schemes: text formulas, LaTeX, circuit graphs, plots, Jupyter displays.

* ``text``: formulas as ``discover`` prints them (names ``a11`` or ``A[0,0]``).
* ``latex``: ``align*`` fragments and self-contained ``article`` + ``amsmath`` documents.
* ``graph``: the arithmetic circuit as a networkx DiGraph; layered matplotlib drawing; DOT text.
* ``plots``: SPN training curves and best ranks against the literature's bounds.
* ``notebook``: ``Scheme._repr_latex_`` / ``_repr_html_``.

Modules are imported on use; matplotlib and networkx load only when a drawing or graph is asked for.
"""
