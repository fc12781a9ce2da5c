"""The SQLite catalogue: dedup, only proven schemes, corrupt/foreign files, read-only and failing stores."""

import os
import sqlite3

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.core.canonical import canonical_key
from algodiscover.catalog import Catalog, CatalogError, CatalogWriter, default_path, resolve_path
from algodiscover.errors import VerificationError
from algodiscover.symmetry import permute_and_scale, random_element


def test_default_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ALGODISCOVER_DB", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ALGODISCOVER_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "algodiscover" / "catalog.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "algodiscover" / "catalog.sqlite"
    assert resolve_path(str(tmp_path / "y.db")) == tmp_path / "y.db"


def test_conftest_isolates_the_catalogue(tmp_path):
    assert default_path() == tmp_path / "catalog.sqlite"


def test_add_and_dedup(tmp_path, strassen, winograd):
    with Catalog(tmp_path / "c.sqlite") as cat:
        id1, new1 = cat.add(strassen)
        assert new1
        # the same algorithm with products reordered and rescaled is the same catalogue entry
        again = permute_and_scale(strassen, [3, 1, 0, 2, 6, 5, 4], [-1] * 7, [1, -1, 1, -1, 1, -1, 1])
        id2, new2 = cat.add(again)
        assert (id2, new2) == (id1, False)
        _, new3 = cat.add(winograd)  # equivalent, but a different scheme: kept
        assert new3
        assert cat.count() == 2
        e = cat.get(id1)
        assert e.seen == 2 and e.ring == "ZT" and e.rank == 7
        assert e.nnz == 36 and e.additions_naive == 18  # Strassen's metrics (docs/DESIGN.md)
        assert e.scheme() == strassen


def test_provenance_and_metrics_are_stored(tmp_path, strassen):
    s = strassen.with_provenance(engine="spn", strategy="anneal", seed=3, seconds=2.5)
    with Catalog(tmp_path / "c.sqlite") as cat:
        rid, _ = cat.add(s)
        e = cat.get(rid)
    assert (e.engine, e.strategy, e.seed, e.seconds) == ("spn", "anneal", 3, 2.5)
    assert e.version and e.added_at.endswith("Z")
    assert e.fingerprint and len(e.canonical_key) == 32


def test_only_verified_schemes_enter(tmp_path, strassen):
    bad = Scheme((2, 2, 2), strassen.W_a, strassen.W_b, np.zeros((4, 7), dtype=np.int64))
    with Catalog(tmp_path / "c.sqlite") as cat:
        with pytest.raises(VerificationError):
            cat.add(bad)
        assert cat.count() == 0


def test_mod2_scheme_is_stored_as_z2(tmp_path, strassen):
    # doubling one coefficient of c keeps the scheme correct modulo 2 only
    Wc = strassen.W_c.copy()
    Wc[0, 0] = 3
    z2 = Scheme((2, 2, 2), strassen.W_a, strassen.W_b, Wc)
    assert z2.verify().ring == "Z2"
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.add(z2)
        (e,) = cat.entries()
        assert e.ring == "Z2"
        best = cat.best()
    assert best[0]["catalog_rank"] is None and best[0]["catalog_rank_mod2"] == 7


def test_entries_filters_and_best(tmp_path, strassen, laderman):
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.add_many([strassen, laderman, Scheme.standard((2, 2, 2)), Scheme.standard((3, 2, 2))])
        assert [e.rank for e in cat.entries(shape="2x2x2")] == [7, 8]
        assert [e.rank for e in cat.entries(shape="2x2x3")] == [12]
        assert [e.rank for e in cat.entries(shape="2x2x3", any_order=False)] == []
        assert len(cat.entries(rank=23)) == 1
        best = {tuple(r["shape"]): r["catalog_rank"] for r in cat.best()}
    assert best == {(2, 2, 2): 7, (2, 2, 3): 12, (3, 3, 3): 23}


def test_corrupt_file_is_a_clear_error(tmp_path):
    p = tmp_path / "c.sqlite"
    p.write_bytes(b"this is not a database at all, just some bytes" * 20)
    with pytest.raises(CatalogError, match="not an SQLite database"):
        Catalog(p)
    assert p.read_bytes().startswith(b"this is not")  # untouched


def test_damaged_sqlite_file_is_a_clear_error(tmp_path, strassen):
    p = tmp_path / "c.sqlite"
    with Catalog(p) as cat:
        cat.add(strassen)
    data = bytearray(p.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # keep the magic header, destroy the rest of page 1
    p.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(p) + suffix):
            os.remove(str(p) + suffix)
    with pytest.raises(CatalogError):
        with Catalog(p) as cat:
            cat.entries()


def test_foreign_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE customers (name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match="not an algodiscover catalogue"):
        Catalog(p)


def test_directory_path_is_refused(tmp_path):
    with pytest.raises(CatalogError, match="directory"):
        Catalog(tmp_path)


def test_readonly_open_never_creates(tmp_path):
    p = tmp_path / "missing.sqlite"
    with pytest.raises(CatalogError, match="no catalogue"):
        Catalog(p, readonly=True)
    assert not p.exists()


def test_writer_batches_and_flushes_on_close(tmp_path, strassen):
    rng = np.random.default_rng(1)
    schemes = [random_element(strassen.shape, rng, rank=7).apply(strassen) for _ in range(10)]
    w = CatalogWriter(tmp_path / "c.sqlite", batch_size=4, interval=3600)
    for s in schemes[:3]:
        w.add(s)
    assert not (tmp_path / "c.sqlite").exists()  # nothing written before the batch fills
    for s in schemes[3:]:
        w.add(s)
    w.close()
    with Catalog(tmp_path / "c.sqlite") as cat:
        assert cat.count() == w.added == len({canonical_key(s) for s in schemes})


def test_failing_catalogue_is_a_warning_not_an_error(tmp_path, strassen):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    warnings = []
    w = CatalogWriter(blocker / "sub" / "c.sqlite", warn=warnings.append)  # parent is a file
    w.add(strassen)
    w.close()  # must not raise
    assert w.failed == 1 and w.added == 0
    assert len(warnings) == 1 and "not updated" in warnings[0]


def test_readonly_catalogue_is_a_warning(tmp_path, strassen, monkeypatch):
    p = tmp_path / "c.sqlite"
    Catalog(p).close()
    if os.geteuid() != 0:
        os.chmod(p, 0o444)
        os.chmod(tmp_path, 0o555)
    else:  # root ignores file modes: have SQLite itself refuse every write, as it does for a read-only file
        original = Catalog._open_schema

        def open_query_only(self):
            original(self)
            self._con.execute("PRAGMA query_only = ON")
        monkeypatch.setattr(Catalog, "_open_schema", open_query_only)
    warnings = []
    try:
        w = CatalogWriter(p, warn=warnings.append)
        w.add(strassen)
        w.close()  # must not raise
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(p, 0o644)
    assert w.failed == 1 and w.added == 0
    assert len(warnings) == 1 and "read-only" in warnings[0]


def test_classify_into_equivalence_classes(tmp_path, strassen, winograd):
    rng = np.random.default_rng(8)
    images = [random_element(strassen.shape, rng, rank=7).apply(strassen) for _ in range(4)]
    with Catalog(tmp_path / "c.sqlite") as cat:
        ids = [rid for rid, _ in cat.add_many([strassen, winograd, *images, Scheme.standard((2, 2, 2))])]
        assert all(e.class_id is None for e in cat.entries())
        stats = cat.classify()
        assert {k: stats[k] for k in ("joined", "new_classes", "undecided", "not_reached", "total")} == \
            {"joined": 5, "new_classes": 2, "undecided": 0, "not_reached": 0, "total": 7}
        by_id = {e.id: e.class_id for e in cat.entries()}
        assert {by_id[i] for i in ids[:6]} == {ids[0]}  # all rank-7 schemes: Strassen's class (de Groote)
        assert by_id[ids[6]] == ids[6]  # the standard algorithm founds its own class
        (r7,) = [r for r in cat.classes() if r["rank"] == 7]
        assert (r7["schemes"], r7["classes"], r7["unclassified"]) == (6, 1, 0)
        again = cat.classify()
        assert (again["total"], again["joined"], again["new_classes"]) == (0, 0, 0)  # nothing left to do


def test_adding_does_not_force_the_slow_cross_check(tmp_path, strassen):
    """A search proves with the exact Brent check (symbolic=False); the catalogue must not add the sympy
    cross-check to its hot path."""
    from algodiscover.catalog import prepare
    s = random_element(strassen.shape, np.random.default_rng(4), rational=True, rank=7).apply(strassen)
    assert s.verify(symbolic=False).ok
    p = prepare(s)
    assert s.verification.symbolic is None and p.ring == "Q"
    with Catalog(tmp_path / "c.sqlite") as cat:
        rid, _ = cat.add(s)
        assert cat.get(rid).scheme() == s  # the stored JSON reads back to the same scheme
