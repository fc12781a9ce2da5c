"""`algodiscover catalog merge`: catalogues of separate runs joined, every row re-proven, each scheme once."""

from __future__ import annotations

import sqlite3

import pytest

from algodiscover import Scheme
from algodiscover.catalog import Catalog
from algodiscover.cli import main
from algodiscover.core.canonical import canonical_key
from algodiscover.examples import laderman, strassen, winograd


def _keys(path) -> list[str]:
    with Catalog(path, readonly=True) as cat:
        return [e.canonical_key for e in cat.entries()]


@pytest.fixture
def two_catalogues(tmp_path):
    """A: Strassen, Winograd, standard 2x2x2; B: Winograd, standard 2x2x2, Laderman (two schemes shared)."""
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    std = Scheme.standard((2, 2, 2))
    with Catalog(a) as cat:
        cat.add_many([strassen(), winograd(), std])
    with Catalog(b) as cat:
        cat.add_many([winograd(), std, laderman()])
    return a, b


def test_merge_into_a_new_catalogue_keeps_every_scheme_once(two_catalogues, tmp_path, capsys):
    a, b = two_catalogues
    c = tmp_path / "c.sqlite"
    assert main(["catalog", "merge", "--db", str(c), str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "3 new, 0 already catalogued" in out and "1 new, 2 already catalogued" in out
    keys = _keys(c)
    assert len(keys) == len(set(keys)) == 4  # Strassen, Winograd, standard, Laderman: nothing twice
    assert set(keys) == set(_keys(a)) | set(_keys(b))  # nothing lost
    with Catalog(c, readonly=True) as cat:
        by_key = {e.canonical_key: e for e in cat.entries(with_data=True)}
        for e in by_key.values():
            assert e.scheme().verify().ok  # stored proven; re-proven on reading too
            assert e.provenance.get("merged_from") in (str(a), str(b))
        assert by_key[canonical_key(winograd())].seen == 2  # in both sources: counted as seen again
        assert by_key[canonical_key(strassen())].seen == 1


def test_merge_into_one_of_them_and_again_is_idempotent(two_catalogues, capsys):
    a, b = two_catalogues
    assert main(["catalog", "merge", "--db", str(a), str(b)]) == 0
    assert len(_keys(a)) == 4
    assert main(["catalog", "merge", "--db", str(a), str(b)]) == 0
    assert len(_keys(a)) == 4
    assert "0 new, 3 already catalogued" in capsys.readouterr().out


def test_merge_re_proves_and_rejects_a_tampered_row(two_catalogues, tmp_path, capsys):
    a, b = two_catalogues
    # flip one coefficient of Laderman's stored scheme behind the catalogue's back: no longer a scheme
    con = sqlite3.connect(b)
    rid, data = con.execute("SELECT id, data FROM schemes WHERE rank = 23").fetchone()
    bad = data.replace('"W_a":[[1,', '"W_a":[[0,', 1)
    assert bad != data
    con.execute("UPDATE schemes SET data = ? WHERE id = ?", (bad, rid))
    con.commit()
    con.close()
    c = tmp_path / "c.sqlite"
    assert main(["catalog", "merge", "--db", str(c), str(a), str(b)]) == 1  # something was not merged
    assert "1 rejected" in capsys.readouterr().out
    assert canonical_key(laderman()) not in _keys(c)
    assert len(_keys(c)) == 3


def test_merge_refuses_itself_and_missing_files(two_catalogues, tmp_path, capsys):
    a, _ = two_catalogues
    assert main(["catalog", "merge", "--db", str(a), str(a)]) == 2
    assert "into itself" in capsys.readouterr().err
    assert main(["catalog", "merge", "--db", str(a), str(tmp_path / "nope.sqlite")]) == 2
    assert "no such file" in capsys.readouterr().err
    not_db = tmp_path / "x.sqlite"
    not_db.write_text("hello")
    assert main(["catalog", "merge", "--db", str(a), str(not_db)]) == 2
    assert len(_keys(a)) == 3  # nothing written
