"""Moves between shapes: extend and project are exact; the engine starts from neighbouring shapes."""

import pytest

from algodiscover import Scheme
from algodiscover.search import Budget, run_search
from algodiscover.search.flip_moves import best_projection, extend, move_to, project
from tests.conftest import LADERMAN, STRASSEN


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_extend_and_project_are_exact_along_every_axis(axis):
    s = Scheme((2, 2, 2), **STRASSEN)
    e = extend(s, axis)
    want = [2, 2, 2]
    want[axis] = 3
    assert tuple(e.shape) == tuple(want) and e.rank == 7 + 4 and e.verify(symbolic=False).ok
    p = project(e, axis)
    assert tuple(p.shape) == (2, 2, 2) and p.rank <= 11 and p.verify(symbolic=False).ok
    lad = Scheme((3, 3, 3), **LADERMAN)
    q = project(lad, axis)
    assert q.rank <= 23 and q.verify(symbolic=False).ok and sorted(q.shape) == [2, 3, 3]


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_best_projection_drops_the_index_that_removes_most_products(axis):
    """Extending Strassen adds 4 products that live only on the new index (2): dropping it gives back rank 7;
    dropping an old index removes only the Strassen products confined to it, so every other choice is worse."""
    e = extend(Scheme((2, 2, 2), **STRASSEN), axis)
    p, index = best_projection(e, axis)
    assert index == 2 and p.rank == 7 and p.verify(symbolic=False).ok
    for other in (0, 1):
        q = project(e, axis, other)
        assert 7 < q.rank < 11 and q.verify(symbolic=False).ok


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_extend_grows_the_dimension_named_even_when_dimensions_are_equal(axis):
    """On <2,2,2> every dimension has the same size, so only the factors tell which one grew: the 4 new
    products are the schoolbook products of the new index (A row 2 for m, A column 2 for k, B column 2 for n)."""
    import numpy as np
    e = extend(Scheme((2, 2, 2), **STRASSEN), axis)
    m, k, n = e.shape
    new = range(7, 11)
    if axis == 0:
        assert all(np.flatnonzero(e.W_a[t]).tolist() == [2 * k + j] for t, j in zip(new, (0, 0, 1, 1)))
    elif axis == 1:
        assert {int(np.flatnonzero(e.W_a[t])[0]) % k for t in new} == {2}
        assert all(np.flatnonzero(e.W_b[t])[0] // n == 2 for t in new)
    else:
        assert all(np.flatnonzero(e.W_b[t])[0] % n == 2 for t in new)
    assert e.verify(symbolic=False).ok


def test_move_to_projects_along_every_dimension_that_fits():
    """<2,3,3> -> <2,2,3> can drop an index of k or of n (after re-indexing); move_to tries both."""
    lad = Scheme((3, 3, 3), **LADERMAN)
    src = project(lad, 0)                      # a <2,3,3> scheme
    moved, how = move_to(src, (2, 2, 3))
    tries = [project(src, ax, i).rank for ax in (1, 2) for i in range(3)]
    assert moved.rank == min(tries) and moved.verify(symbolic=False).ok and how.startswith("project <2,3,3>")


def test_move_to_finds_the_neighbour_in_any_order():
    lad = Scheme((3, 3, 3), **LADERMAN)
    moved, how = move_to(lad, (3, 2, 3))
    assert tuple(moved.shape) == (3, 2, 3) and moved.verify(symbolic=False).ok and how.startswith("project")
    moved, how = move_to(Scheme((2, 2, 2), **STRASSEN), (2, 3, 2))
    assert tuple(moved.shape) == (2, 3, 2) and moved.rank == 11 and how.startswith("extend")
    assert move_to(lad, (5, 5, 5)) is None


def test_engine_starts_from_a_neighbouring_shape():
    s = next(iter(run_search("flip", (2, 2, 3), 11, seed=0, workers=1, start=Scheme((2, 2, 2), **STRASSEN),
                             budget=Budget(time_limit=30))))
    assert tuple(s.shape) == (2, 2, 3) and s.rank <= 11 and s.verify(symbolic=False).ok
    st = s.provenance["start"]
    assert st["kind"] == "file" and st["move"] == "extend <2,2,2> -> <2,2,3>" and st["published"] is True
    assert "origin" not in st   # a scheme without this toolkit's provenance has no chain to record


def test_start_catalog_refuses_imported_schemes(tmp_path, monkeypatch):
    from algodiscover.catalog import Catalog
    from algodiscover.search.flip import FlipOptionError
    db = tmp_path / "c.db"
    monkeypatch.setenv("ALGODISCOVER_DB", str(db))
    with Catalog(db) as cat:
        imported, _ = cat.add(Scheme((3, 3, 3), **LADERMAN).with_provenance(engine="literature"))
    with pytest.raises(FlipOptionError, match="imported"):
        next(iter(run_search("flip", (3, 3, 3), 23, seed=0, workers=1, start=f"catalog:{imported}")))
    with pytest.raises(FlipOptionError, match="no scheme found by this toolkit"):
        next(iter(run_search("flip", (3, 3, 3), 23, seed=0, workers=1, start="catalog")))
    found = next(iter(run_search("flip", (2, 3, 3), 15, seed=0, workers=1, budget=Budget(time_limit=30))))
    with Catalog(db) as cat:
        own, _ = cat.add(found)
    s = next(iter(run_search("flip", (3, 3, 3), 23, seed=0, workers=1, start="catalog", budget=Budget(time_limit=60))))
    assert s.provenance["start"]["kind"] == "catalog" and s.provenance["start"]["source"].endswith(f"#{own}")
    assert s.provenance["start"]["move"].startswith("extend") and s.verify(symbolic=False).ok
    # the chain back to the first search: what produced the start (rank before the move, its own start)
    origin = s.provenance["start"]["origin"]
    assert origin["engine"] == "flip" and origin["seed"] == 0 and origin["shape"] == [2, 3, 3]
    assert origin["rank"] == found.rank and origin["start"]["kind"] == found.provenance["start"]["kind"]
    assert "origin" not in found.provenance["start"]


def test_cli_start_catalog_reads_the_db_it_is_given(tmp_path, monkeypatch):
    """`discover --start catalog:ID --db F` looks ID up in F, not in the default catalogue."""
    import os
    import subprocess
    import sys
    from algodiscover.catalog import Catalog
    monkeypatch.delenv("ALGODISCOVER_DB", raising=False)
    db = tmp_path / "mine.db"
    with Catalog(db) as cat:
        imported, _ = cat.add(Scheme((3, 3, 3), **LADERMAN).with_provenance(engine="literature"))
    env = {**os.environ, "ALGODISCOVER_DB": str(tmp_path / "other.db")}
    r = subprocess.run([sys.executable, "-m", "algodiscover", "discover", "--engine", "flip", "--shape", "3x3x3",
                        "--rank", "23", "--start", f"catalog:{imported}", "--db", str(db), "--no-catalog"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "imported" in r.stderr   # found in --db (mine.db) and refused as imported; other.db has no entry


@pytest.mark.slow
def test_results_3x5x5_r58_replays_from_its_extended_start(monkeypatch):
    """results/3x5x5-r58.json (issue 12 target) began from results/3x4x5-r47.json extended to <3,5,5>
    (rank 47 + 15 = 62); its provenance names the move and the start's origin (a walk from the standard
    algorithm), and the walk replays to the same scheme (about 40 s on an idle core)."""
    import json
    from pathlib import Path
    from algodiscover.core.canonical import canonical_key
    from algodiscover.formats import load
    from algodiscover.search.flip import replay
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)   # the start is recorded relative to the repository root
    path = root / "results" / "3x5x5-r58.json"
    prov = json.loads(path.read_text())["provenance"]
    st = prov["start"]
    assert st["source"] == "results/3x4x5-r47.json" and st["move"] == "extend <3,4,5> -> <3,5,5>"
    assert st["published"] is False and st["origin"]["rank"] == 47 and st["origin"]["start"]["kind"] == "standard"
    rec = load(path)
    assert rec.rank == 58 and rec.verify(symbolic=False).ok
    assert any(canonical_key(s) == canonical_key(rec) for s in replay(prov, shape=(3, 5, 5), rank=58))


def _replays_from_elsewhere(path, tmp_path, monkeypatch, timeout):
    """`discover --replay FILE` run from another directory (the recorded start path is relative to the
    repository root) finds the same scheme."""
    from tests.conftest import run_cli
    monkeypatch.chdir(tmp_path)
    r = run_cli("discover!", "--replay", str(path), timeout=timeout)
    assert r.returncode == 0, r.stderr
    assert "the same scheme" in r.stdout


def _committed(name: str, ring: str, rank: int):
    """results/NAME: its path, and the start record of its provenance (checked to be RING, RANK)."""
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "results" / name
    data = json.loads(path.read_text())
    assert data["ring"] == ring and data["rank"] == rank
    return path, data["provenance"]["start"]


@pytest.mark.slow
def test_results_4x4x4_r47_mod2_replays_from_its_projected_start(tmp_path, monkeypatch):
    """results/4x4x4-r47.json (issue 12 target <4,4,4>:47 over Z2) began from results/4x4x5-r62.json projected
    to <4,4,4> (its origin: a walk from the standard algorithm).  It is valid modulo 2 only (never called valid
    over Z), and `discover --replay` from another directory (the start path is relative to the repository root)
    finds the same scheme (about 105 s on an idle core)."""
    path, st = _committed("4x4x4-r47.json", "Z2", 47)
    assert st["source"] == "results/4x4x5-r62.json" and st["move"].startswith("project <4,4,5> -> <4,4,4>")
    assert st["published"] is False and st["origin"]["start"]["kind"] == "standard"
    from algodiscover.formats import load
    v = load(path).verify(symbolic=False)
    assert v.ring == "Z2" and not v.ok
    _replays_from_elsewhere(path, tmp_path, monkeypatch, timeout=900)


@pytest.mark.slow
def test_results_4x4x5_r60_mod2_replays_from_the_extended_4x4x4_r47(tmp_path, monkeypatch):
    """results/4x4x5-r60.json (issue 12 target <4,4,5>:60 over Z2) began from results/4x4x4-r47.json (mod 2)
    extended to <4,4,5> (47 + 16 = 63); the chain of origins goes back to the standard algorithm, and the walk
    replays from another directory to the same scheme (about 230 s on an idle core)."""
    path, st = _committed("4x4x5-r60.json", "Z2", 60)
    assert st["source"] == "results/4x4x4-r47.json" and st["move"] == "extend <4,4,4> -> <4,4,5>"
    assert st["origin"]["start"]["source"] == "results/4x4x5-r62.json"
    assert st["origin"]["start"]["origin"]["start"]["kind"] == "standard"
    _replays_from_elsewhere(path, tmp_path, monkeypatch, timeout=1500)


@pytest.mark.slow
def test_results_4x5x5_r73_mod2_replays_from_the_extended_4x4x5_r60(tmp_path, monkeypatch):
    """results/4x5x5-r73.json (issue 12 target <4,5,5>:73 over Z2, Arai et al.'s mod-2 rank) began from
    results/4x4x5-r60.json (mod 2) extended to <4,5,5> (60 + 20 = 80); the chain of origins goes back through
    <4,4,4>:47 and <4,4,5>:62 to the standard algorithm; valid modulo 2 only, and the walk replays from another
    directory to the same scheme (about 320 s on an idle core)."""
    from algodiscover.formats import load
    path, st = _committed("4x5x5-r73.json", "Z2", 73)
    assert st["source"] == "results/4x4x5-r60.json" and st["move"] == "extend <4,4,5> -> <4,5,5>"
    assert st["published"] is False
    assert st["origin"]["start"]["origin"]["start"]["origin"]["start"]["kind"] == "standard"
    v = load(path).verify(symbolic=False)
    assert v.ring == "Z2" and not v.ok
    _replays_from_elsewhere(path, tmp_path, monkeypatch, timeout=1800)


def _fewest_after_two_projections(scheme, target):
    """Brute force, independent of move_to's search: every pair of projections (each axis, each index, in
    every order) whose result has the target's dimensions; the fewest products among them."""
    best = None
    for a1 in range(3):
        for i1 in range(scheme.shape[a1]):
            p = project(scheme, a1, i1)
            for a2 in range(3):
                if p.shape[a2] < 2:
                    continue
                for i2 in range(p.shape[a2]):
                    q = project(p, a2, i2)
                    if sorted(q.shape) == sorted(target) and (best is None or q.rank < best):
                        best = q.rank
    return best


def test_move_to_two_moves_away_keeps_the_chain_with_fewest_products():
    """<3,3,3> -> <2,2,3> is two projections (through <2,3,3> in some order); Strassen -> <3,3,2> two extensions
    (7 + 4 + 6 = 17 products).  Every chain is tried (each first projection, not only the best one); the one
    kept has the fewest products, and both moves are named.  One step still refuses a shape two moves away,
    and three moves away is refused either way."""
    from algodiscover.core.shape import Shape
    lad = Scheme((3, 3, 3), **LADERMAN)
    assert move_to(lad, (2, 2, 3)) is None
    moved, how = move_to(lad, (2, 2, 3), steps=2)
    assert tuple(moved.shape) == (2, 2, 3) and moved.verify(symbolic=False).ok
    assert how.count("project") == 2 and "; " in how
    assert moved.rank == _fewest_after_two_projections(lad, (2, 2, 3))
    ext, how = move_to(Scheme((2, 2, 2), **STRASSEN), (3, 3, 2), steps=2)
    assert tuple(ext.shape) == (3, 3, 2) and ext.rank == 7 + 4 + 6 and how.count("extend") == 2
    assert ext.verify(symbolic=False).ok
    assert move_to(Scheme((2, 2, 2), **STRASSEN), Shape(3, 3, 3), steps=2) is None


def test_move_to_two_projections_beats_the_best_first_projection():
    """Our <5,5,5>:93 (results/, c3-invariant, ZT) to <4,4,5>: the best single projection followed by the
    best second keeps more products than the best pair (brute force over all pairs), and move_to finds the
    pair: the start of the <4,4,5> walks is lower than before (a greedy chain kept 70)."""
    import algodiscover as ad
    from tests.conftest import REPO
    s = ad.load(REPO / "results" / "5x5x5-r93.json")
    greedy = None
    for mid in ((4, 5, 5), (5, 4, 5), (5, 5, 4)):
        a = move_to(s, mid)
        b = move_to(a[0], (4, 4, 5))
        greedy = b[0].rank if greedy is None else min(greedy, b[0].rank)
    best = _fewest_after_two_projections(s, (4, 4, 5))
    moved, how = move_to(s, (4, 4, 5), steps=2)
    assert best < greedy
    assert moved.rank == best and tuple(moved.shape) == (4, 4, 5)
    assert moved.verify(symbolic=False).ring == "ZT"


def test_apply_moves_re_makes_the_recorded_start_exactly():
    """A start record's move text re-applied gives the same scheme, product for product, as the move that
    wrote it (one move, two projections, two extensions); a text that is not a move is one clear error."""
    import numpy as np
    from algodiscover.errors import ShapeError
    from algodiscover.search.flip_moves import apply_moves
    lad = Scheme((3, 3, 3), **LADERMAN)
    st = Scheme((2, 2, 2), **STRASSEN)
    for src, target in ((lad, (2, 2, 3)), (lad, (3, 2, 3)), (st, (3, 3, 2)), (st, (2, 3, 2)), (lad, (3, 2, 4))):
        moved, how = move_to(src, target, steps=2)
        again = apply_moves(src, how)
        assert tuple(again.shape) == tuple(moved.shape) == tuple(target)
        for x, y in ((again.W_a, moved.W_a), (again.W_b, moved.W_b), (again.W_c, moved.W_c)):
            assert np.array_equal(np.asarray(x), np.asarray(y))
    with pytest.raises(ShapeError, match="not a move"):
        apply_moves(lad, "rotate <3,3,3> -> <3,3,3>")
    with pytest.raises(ShapeError, match="does not start from"):
        apply_moves(lad, "project <4,4,4> -> <3,4,4> (index 0 of m dropped)")


def test_replay_and_resume_re_apply_the_recorded_move(monkeypatch):
    """A start two moves away is re-made from the move its record names, not searched for again: with
    move_to broken, the recorded move still gives the walk's start (so a change of the choice rule cannot
    change what an old record replays or resumes from)."""
    import algodiscover.search.flip_moves as fm
    from algodiscover.core.shape import Shape
    from algodiscover.search.flip import _resolve_start
    from tests.conftest import REPO
    path = REPO / "results" / "5x5x5-r93.json"
    first, rec = _resolve_start(str(path), Shape(4, 4, 5))
    assert rec["move"].count("project") == 2

    def broken(*a, **k):
        raise AssertionError("move_to must not be called when the move is recorded")
    monkeypatch.setattr(fm, "move_to", broken)
    again, rec2 = _resolve_start(str(path), Shape(4, 4, 5), rec["move"])
    assert rec2["move"] == rec["move"] and again.rank == first.rank
    assert (again.W_a == first.W_a).all() and (again.W_b == first.W_b).all() and (again.W_c == first.W_c).all()


def test_engine_records_a_start_two_moves_away():
    s = next(iter(run_search("flip", (2, 3, 3), 15, seed=0, workers=1, start=Scheme((2, 2, 2), **STRASSEN),
                             budget=Budget(time_limit=30))))
    assert tuple(s.shape) == (2, 3, 3) and s.rank <= 15 and s.verify(symbolic=False).ok
    assert s.provenance["start"]["move"].count("extend") == 2
