"""``catalog best`` compares like with like (issue 10, point 10), and result tables display in Jupyter (point 12)."""

from __future__ import annotations

import csv
from importlib import resources

from algodiscover import Scheme
from algodiscover.catalog import Catalog
from algodiscover.catalog.tables import Table, best_ranks
from algodiscover.cli import main
from algodiscover.core.compose import tensor_product
from tests.conftest import STRASSEN


def test_packaged_table_has_the_2026_columns():
    with resources.files("algodiscover").joinpath("data/best_known_ranks.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert "best_rank_ternary" in rows[0]
    by = {(int(r["m"]), int(r["k"]), int(r["n"])): r for r in rows}
    # literature: 49 over Z (Strassen squared), 48 over Q (Dumas-Pernet-Sedoglavic 2025), 47 mod 2 (AlphaTensor)
    assert (by[(4, 4, 4)]["best_rank_integer"], by[(4, 4, 4)]["best_rank_general"], by[(4, 4, 4)]["best_rank_mod2"]) \
        == ("49", "48", "47")
    assert len(rows) > 40  # the newer table reaches <7,7,7>


def test_best_integer_49_for_444_is_not_over_the_best_known(tmp_path, capsys):
    s49 = tensor_product(Scheme((2, 2, 2), **STRASSEN), Scheme((2, 2, 2), **STRASSEN))
    assert s49.verify().ring == "ZT" and s49.rank == 49
    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        cat.add(s49)
    with Catalog(db, readonly=True) as cat:
        (row,) = best_ranks(cat).rows()
    assert row["catalog_rank_integer"] == 49 and row["best_known_integer"] == 49
    assert row["catalog_rank_rational"] == 49 and row["best_known"] == 48
    assert row["catalog_rank_mod2_valid"] == 49 and row["best_known_mod2"] == 47
    assert row["status"].startswith("Z: matches") and "Q: +1 over 48" in row["status"]
    assert main(["catalog", "best", "--db", str(db)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("4x4x4"))
    assert "Z: matches" in line  # was "+1 over the best known"
    assert main(["catalog", "best", "--db", str(db), "--markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| shape | Z here | Z known | Q here | Q known") and "| 4x4x4 | 49 | 49 | 49 | 48 |" in md


def test_table_object_displays():
    t = Table((("shape", "shape"), ("rank", "rank")), [{"shape": (2, 2, 2), "rank": 7}, {"shape": (3, 3, 3), "rank": None}])
    text = repr(t)
    assert text.splitlines()[1].split() == ["2x2x2", "7"] and text.splitlines()[2].split() == ["3x3x3", "-"]
    h = t._repr_html_()
    assert "<table" in h and "<td>2x2x2</td>" in h and "<th>rank</th>" in h
    assert best_ranks(None, include_all=True)._repr_html_().count("<tr>") > 40


# ---- point 7: catalog classes --time-limit bounds the whole command -----------------------------------------
def _slow_unknown(calls):
    import time as _t
    from algodiscover.symmetry import UNKNOWN, Equivalence

    def equivalent(a, b, *, time_limit=None, **kw):  # an equivalence check that always runs out of time
        calls.append(time_limit)
        _t.sleep(min(time_limit if time_limit is not None else 10.0, 0.4))
        return Equivalence(UNKNOWN, reason="stand-in: gave up")
    return equivalent


def test_classes_time_limit_bounds_the_whole_command(tmp_path, monkeypatch, capsys):
    import time

    import numpy as np

    import algodiscover.symmetry as sym
    from algodiscover.symmetry import random_element
    strassen = Scheme((2, 2, 2), **STRASSEN)
    rng = np.random.default_rng(3)
    images = [random_element(strassen.shape, rng, rank=7).apply(strassen) for _ in range(12)]
    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        cat.add_many([strassen, *images])
    calls = []
    monkeypatch.setattr(sym, "equivalent", _slow_unknown(calls))  # 12 checks x 0.4 s would take 4.8 s
    t0 = time.monotonic()
    assert main(["catalog", "classes", "--db", str(db), "--time-limit", "1"]) == 0
    took = time.monotonic() - t0
    out = capsys.readouterr().out
    assert took < 1 + 2, took
    assert "time limit (1 s) reached" in out and "not reached" in out
    assert all(c is not None and c <= 1.0 for c in calls)  # every check cut to the time left
    with Catalog(db, readonly=True) as cat:
        unclassified = sum(e.class_id is None for e in cat.entries())
    assert unclassified >= 12 - len(calls)


def test_classes_shows_progress_on_a_terminal(tmp_path, monkeypatch, capsys):
    import sys

    class Tty:
        parts: list = []

        def write(self, s):
            self.parts.append(s)
            return len(s)

        def flush(self):
            pass

        def isatty(self):
            return True

    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        cat.add_many([Scheme((2, 2, 2), **STRASSEN), Scheme.standard((2, 2, 2))])
    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["catalog", "classes", "--db", str(db)]) == 0
    assert "classifying" in "".join(err.parts)
