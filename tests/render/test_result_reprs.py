"""Jupyter: the result types print readably (issue 10, point 12) -- no raw dataclass dumps of Fractions."""

from __future__ import annotations

from algodiscover import Scheme, verify
from algodiscover.catalog import Catalog
from algodiscover.symmetry import equivalent
from tests.conftest import STRASSEN, WINOGRAD


def test_equivalence_repr_and_html():
    res = equivalent(Scheme((2, 2, 2), **STRASSEN), Scheme((2, 2, 2), **WINOGRAD))
    text = repr(res)
    assert "Fraction(" not in text and "array(" not in text
    assert text.startswith("Equivalence(equivalent") and "X = [" in text and "products: " in text
    assert len(text) < 600
    h = res._repr_html_()
    assert "<b" in h and "equivalent" in h and "Fraction(" not in h
    assert "Fraction(" not in repr(res.transformation) and "X = [" in res.transformation._repr_html_()


def test_verification_repr_and_html():
    ok = verify(Scheme((2, 2, 2), **STRASSEN))
    assert repr(ok).startswith("Verification(ring=ZT: proven over ZT") and "Fraction(" not in repr(ok)
    Wc = [list(r) for r in STRASSEN["W_c"]]
    Wc[3][5] = 0
    bad = verify(Scheme((2, 2, 2), STRASSEN["W_a"], STRASSEN["W_b"], Wc))
    text = repr(bad)
    assert "invalid" in text and "coefficient of a" in text and "Fraction(" not in text
    assert "<li>coefficient of" in bad._repr_html_()


def test_catalogue_entries_repr_and_html(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.add(Scheme((2, 2, 2), **STRASSEN))
        rows = cat.entries(with_data=True)
    assert isinstance(rows, list) and len(rows) == 1
    e = rows[0]
    assert repr(e).startswith("Entry(1: <2,2,2> rank 7, ring ZT, additions 18")
    assert "W_a" not in repr(e) and "{" not in repr(e)  # neither the stored JSON nor the provenance dict
    assert "<td>2x2x2</td>" in rows._repr_html_() and "<td>ZT</td>" in e._repr_html_()
    assert repr(rows).splitlines()[0].split()[:4] == ["id", "shape", "rank", "ring"]


def test_invalid_scheme_notebook_display_is_loud():
    Wc = [list(r) for r in STRASSEN["W_c"]]
    Wc[3][5] = 0
    s = Scheme((2, 2, 2), STRASSEN["W_a"], STRASSEN["W_b"], Wc)
    assert "NOT A VALID ALGORITHM" in s._repr_html_() and "NOT A VALID ALGORITHM" in s._repr_latex_()
