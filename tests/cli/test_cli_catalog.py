"""``algodiscover catalog ...`` and ``discover`` adding to the catalogue: output and exit codes."""

import sys
import types

import numpy as np
import pytest

from algodiscover.catalog import Catalog
from algodiscover.cli import discover_main, main
from algodiscover.formats import save
from algodiscover.symmetry import random_element

from tests.conftest import run_cli


@pytest.fixture
def files(tmp_path, strassen, winograd, laderman):
    d = tmp_path / "in"
    d.mkdir()
    save(strassen, d / "strassen.json")
    save(winograd, d / "winograd.json")
    save(laderman, d / "laderman.json")
    (d / "README.md").write_text("not a scheme, skipped by suffix\n")
    return d


def test_import_list_show_best_export(tmp_path, files, capsys, strassen):
    db = str(tmp_path / "c.sqlite")
    assert main(["catalog", "import", str(files), "--db", db]) == 0
    assert "imported 3 new" in capsys.readouterr().out
    assert main(["catalog", "import", str(files / "strassen.json"), "--db", db]) == 0
    assert "0 new" in capsys.readouterr().out and Catalog(db).count() == 3

    assert main(["catalog", "list", "--db", db]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].split()[1:4] == ["2x2x2", "7", "ZT"]

    assert main(["catalog", "list", "--db", db, "--shape", "3x3x3", "--json"]) == 0
    import json
    (row,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert row["rank"] == 23 and row["shape"] == [3, 3, 3]

    first = int(out[1].split()[0])
    assert main(["catalog", "show", str(first), "--db", db]) == 0
    text = capsys.readouterr().out
    assert "rank 7" in text and "proven over ZT" in text

    assert main(["catalog", "best", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    two = next(line for line in lines if line.startswith("2x2x2"))
    assert two.split()[1:4] == ["7", "7", "7"]  # catalogue 7, best known 7 (Strassen), lower bound 7
    three = next(line for line in lines if line.startswith("3x3x3"))
    assert three.split()[1:3] == ["23", "23"]  # Laderman, best known 23 (literature)

    assert main(["catalog", "export", "--out", str(tmp_path / "out"), "--db", db]) == 0
    assert len(list((tmp_path / "out").glob("*.json"))) == 3
    capsys.readouterr()


def test_classes_command(tmp_path, files, capsys):
    db = str(tmp_path / "c.sqlite")
    main(["catalog", "import", str(files), "--db", db])
    capsys.readouterr()
    assert main(["catalog", "classes", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "1 joined a class, 2 founded one" in out  # Winograd joins Strassen; Laderman founds <3,3,3>
    assert main(["catalog", "list", "--db", db, "--shape", "2x2x2"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len({line.split()[6] for line in rows}) == 1  # one class column value for both


def test_import_reports_bad_files(tmp_path, files, capsys):
    (files / "broken.json").write_text("{")
    assert main(["catalog", "import", str(files), "--db", str(tmp_path / "c.sqlite")]) == 1
    captured = capsys.readouterr()
    assert "broken.json" in captured.err and "imported 3 new" in captured.out


def test_show_missing_and_bad_ids(tmp_path, files, capsys):
    db = str(tmp_path / "c.sqlite")
    main(["catalog", "import", str(files), "--db", db])
    assert main(["catalog", "show", "999", "--db", db]) == 1
    assert main(["catalog", "show", "abc", "--db", db]) == 2
    assert "integer" in capsys.readouterr().err


def test_empty_catalogue_commands(tmp_path, capsys):
    db = str(tmp_path / "none.sqlite")
    assert main(["catalog", "list", "--db", db]) == 0
    assert main(["catalog", "best", "--db", db]) == 0
    assert "no catalogue" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()
    assert main(["catalog", "best", "--db", db, "--all"]) == 0
    assert "2x2x2" in capsys.readouterr().out  # literature rows even without a catalogue


def test_corrupt_catalogue_cli_exit_2(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00garbage" * 100)
    r = run_cli("catalog", "list", "--db", str(bad))
    assert r.returncode == 2
    assert "not an SQLite database" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_best_plot_uses_the_renderer_or_says_why(tmp_path, files, capsys, monkeypatch):
    db = str(tmp_path / "c.sqlite")
    main(["catalog", "import", str(files), "--db", db])
    calls = []
    fake = types.ModuleType("algodiscover.render.plots")
    fake.plot_best_ranks = lambda rows, path: calls.append((rows, path))
    monkeypatch.setitem(sys.modules, "algodiscover.render.plots", fake)
    assert main(["catalog", "best", "--db", db, "--plot", str(tmp_path / "p.png")]) == 0
    (rows, path), = calls
    assert path == str(tmp_path / "p.png")
    assert {tuple(r["shape"]): r["catalog_rank"] for r in rows} == {(2, 2, 2): 7, (3, 3, 3): 23}
    assert set(rows[0]) == {"shape", "catalog_rank", "best_known", "lower_bound"}
    monkeypatch.setitem(sys.modules, "algodiscover.render.plots", None)  # absent renderer
    assert main(["catalog", "best", "--db", db, "--plot", str(tmp_path / "p.png")]) == 2
    assert "plot_best_ranks" in capsys.readouterr().err


def test_export_results_writes_files_and_index(tmp_path, files, capsys, strassen, winograd):
    db = str(tmp_path / "c.sqlite")
    main(["catalog", "import", str(files), "--db", db])
    res = tmp_path / "results"
    assert main(["catalog", "export", "--results", str(res), "--db", db]) == 0
    names = sorted(p.name for p in res.iterdir())
    assert names == ["2x2x2-r7.json", "3x3x3-r23.json", "INDEX.md"]
    from algodiscover.formats import load
    assert load(res / "2x2x2-r7.json") == strassen  # ZT with 18 additions beats Winograd's 24 naive
    index = (res / "INDEX.md").read_text()
    assert "| 2x2x2 | 7 | ZT |" in index and "| 3x3x3 | 23 | ZT |" in index


# ---- discover adds what it proves ----------------------------------------------------------------

def _fake_engine(monkeypatch, interrupt_after=None):
    from algodiscover import search
    from tests.tests_helpers import strassen_scheme
    mod = types.ModuleType("algodiscover_test_fake_engine")

    def fake_search(shape, rank, *, seed=None, budget=None, device="cpu", on_progress=None, stop=None, **opts):
        rng = np.random.default_rng(seed or 0)
        s = strassen_scheme()
        for i in range(50):
            if interrupt_after is not None and i == interrupt_after:
                raise KeyboardInterrupt
            t = random_element(s.shape, rng, rank=7).apply(s)
            t.verify()
            yield t
            if stop is not None and stop():
                return

    mod.search = fake_search
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setitem(search.ENGINES, "fake", mod.__name__)


def test_discover_adds_proven_schemes(tmp_path, monkeypatch, capsys):
    _fake_engine(monkeypatch)
    db = tmp_path / "d.sqlite"
    rc = discover_main(["--shape", "2x2x2", "--rank", "7", "--engine", "fake", "--seed", "5", "--count", "3",
                        "--quiet", "--db", str(db)])
    assert rc == 0
    with Catalog(db) as cat:
        rows = cat.entries()
    assert len(rows) == 3
    assert {(e.engine, e.seed) for e in rows} == {("fake", 5)}
    assert all(e.seconds is not None for e in rows)


def test_discover_no_catalog(tmp_path, monkeypatch):
    _fake_engine(monkeypatch)
    db = tmp_path / "d.sqlite"
    assert discover_main(["--shape", "2x2x2", "--rank", "7", "--engine", "fake", "--quiet", "--db", str(db),
                          "--no-catalog"]) == 0
    assert not db.exists()


def test_discover_default_db_is_the_environment_one(tmp_path, monkeypatch):
    _fake_engine(monkeypatch)
    assert discover_main(["--shape", "2x2x2", "--rank", "7", "--engine", "fake", "--quiet"]) == 0
    with Catalog(tmp_path / "catalog.sqlite") as cat:  # conftest points ALGODISCOVER_DB here
        assert cat.count() == 1


def test_discover_flushes_on_ctrl_c(tmp_path, monkeypatch):
    _fake_engine(monkeypatch, interrupt_after=2)
    db = tmp_path / "d.sqlite"
    discover_main(["--shape", "2x2x2", "--rank", "7", "--engine", "fake", "--count", "10", "--quiet",
                   "--db", str(db)])
    with Catalog(db) as cat:
        assert cat.count() == 2  # both schemes proven before the interrupt are kept


def test_discover_survives_a_failing_catalogue(tmp_path, monkeypatch, capsys):
    _fake_engine(monkeypatch)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = discover_main(["--shape", "2x2x2", "--rank", "7", "--engine", "fake", "--quiet",
                        "--db", str(blocker / "c.sqlite")])
    captured = capsys.readouterr()
    assert rc == 0
    assert "m1 =" in captured.out  # the scheme is still printed
    assert "warning" in captured.err and "not updated" in captured.err


def test_import_any_format_dedups_across_formats(tmp_path, strassen, laderman, capsys):
    """The same algorithm written in several formats is catalogued once."""
    from algodiscover.formats import FORMATS
    d = tmp_path / "many"
    d.mkdir()
    written = 0
    for suffix in ("json", "exp", "npz"):
        if suffix in FORMATS:
            save(strassen, d / f"strassen.{suffix}")
            save(laderman, d / f"laderman.{suffix}")
            written += 1
    db = str(tmp_path / "c.sqlite")
    assert main(["catalog", "import", str(d), "--db", db]) == 0
    assert f"imported 2 new scheme(s) into {db}; {2 * written - 2} already catalogued" in capsys.readouterr().out
    with Catalog(db) as cat:
        assert sorted(e.rank for e in cat.entries()) == [7, 23]


def test_best_shows_mod2_only_ranks_separately(tmp_path, strassen, capsys):
    from algodiscover import Scheme
    Wc = strassen.W_c.copy()
    Wc[0, 0] = 3  # correct modulo 2 only
    z2 = Scheme((2, 2, 2), strassen.W_a, strassen.W_b, Wc)
    db = str(tmp_path / "c.sqlite")
    with Catalog(db) as cat:
        cat.add(z2)
    assert main(["catalog", "best", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "mod 2 here" in lines[0]
    # Z here, Z known, Q here, Q known, mod 2 here, mod 2 known, lower bound: never counted as a Z/Q rank
    assert lines[1].split()[:8] == ["2x2x2", "-", "7", "-", "7", "7", "7", "7"]
