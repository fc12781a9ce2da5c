"""Importing the public AlphaTensor files (tests/fixtures/alphatensor: see its README)."""

import pytest

from algodiscover.catalog import Catalog
from algodiscover.cli import main
from tests.conftest import FIXTURES

FOLDER = FIXTURES / "alphatensor"


def _need_npz():
    from algodiscover.formats import FORMATS
    assert "npz" in FORMATS  # the AlphaTensor reader is part of the package


@pytest.mark.slow
def test_import_alphatensor_files(tmp_path, capsys):
    _need_npz()
    folder = FOLDER
    db = str(tmp_path / "c.sqlite")
    main(["catalog", "import", str(folder / "factorizations_f2.npz"), "--db", db])
    with Catalog(db) as cat:
        rows = cat.entries()
        assert len(rows) == 20 and {e.ring for e in rows} == {"Z2"}  # the mod-2 file: 20 shapes, valid mod 2 only
        assert all(e.rank > 0 for e in rows)
    assert main(["catalog", "import", str(folder / "factorizations_r_subset.npz"), "--db", db]) == 0
    with Catalog(db) as cat:
        valid = [e for e in cat.entries() if e.ring != "Z2"]
        assert len(valid) == 22  # every member of the fixture (22 of the release's 93)
        best = {tuple(r["shape"]): r["catalog_rank"] for r in cat.best()}
    assert best[(2, 2, 2)] == 7 and best[(3, 3, 3)] == 23  # Strassen's and Laderman's ranks
    assert best[(4, 4, 4)] == 49  # AlphaTensor's file lists 49 over the reals (47 only mod 2)


@pytest.mark.slow
def test_alphatensor_schemes_recognised_after_random_symmetries():
    _need_npz()
    import numpy as np

    from algodiscover.formats import load_all
    from algodiscover.symmetry import EQUIVALENT, equivalent, random_element
    items = [s for _, s in load_all(FOLDER / "factorizations_r_subset.npz")
             if s.rank <= 50]
    assert len(items) >= 10
    rng = np.random.default_rng(0)
    for s in items:
        target = random_element(s.shape, rng, rank=s.rank).apply(s)
        res = equivalent(s, target)
        assert res.verdict == EQUIVALENT and res.transformation.apply(s) == target
