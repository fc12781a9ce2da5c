"""The public AlphaTensor archives, from tests/fixtures/alphatensor (see its README: the whole mod-2 file,
22 of the 93 standard-arithmetic members).

Expected ranks are those of AlphaTensor's paper (Fawzi et al., Nature 610, 2022, Fig. 3) for the
shapes up to 5: standard arithmetic and modular (mod 2) columns.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

from algodiscover.core.bounds import best_known_rank, lower_bound
from algodiscover.formats import alphatensor, load_all
from tests.conftest import FIXTURES, run_cli

# (m, k, n): (rank in standard arithmetic, rank modulo 2) -- AlphaTensor 2022, Fig. 3
PAPER = {
    (2, 2, 2): (7, 7), (2, 2, 3): (11, 11), (2, 2, 4): (14, 14), (2, 2, 5): (18, 18), (2, 3, 3): (15, 15),
    (2, 3, 4): (20, 20), (2, 3, 5): (25, 25), (2, 4, 4): (26, 26), (2, 4, 5): (33, 33), (2, 5, 5): (40, 40),
    (3, 3, 3): (23, 23), (3, 3, 4): (29, 29), (3, 3, 5): (36, 36), (3, 4, 4): (38, 38), (3, 4, 5): (47, 47),
    (3, 5, 5): (58, 58), (4, 4, 4): (49, 47), (4, 4, 5): (63, 63), (4, 5, 5): (76, 76), (5, 5, 5): (98, 96),
}


def _files():
    d = FIXTURES / "alphatensor"
    return d / "factorizations_r_subset.npz", d / "factorizations_f2.npz"


def _subset(path, keys) -> bytes:
    """A smaller archive with only the members for ``keys`` (the fast default-selection test)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w") as dst:
        for key in keys:
            dst.writestr(f"{key}.npy", src.read(f"{key}.npy"))
    return buf.getvalue()


def test_f2_archive_all_entries_are_z2_with_the_paper_ranks():
    _, f2 = _files()
    items = load_all(f2)
    assert len(items) == 20
    for key, s in items:
        shape = tuple(int(x) for x in key.split(","))
        assert tuple(s.shape) == shape
        assert s.rank == PAPER[shape][1], key
        assert s.verification.ring == "Z2", key  # valid only modulo 2: never lifted, never called valid


def test_r_archive_small_shapes_have_the_paper_ranks_and_are_valid():
    r, _ = _files()
    keys = [",".join(map(str, s)) for s in PAPER]
    items = alphatensor.parse_many(_subset(r, keys), source=str(r))
    assert [k for k, _ in items] == keys
    for key, s in items:
        shape = tuple(int(x) for x in key.split(","))
        assert s.rank == PAPER[shape][0], key
        assert s.verify().ring in ("ZT", "Z"), key


def test_r_archive_every_entry_through_the_cli():
    r, _ = _files()  # 22 members, among them halves (3,4,11) and a plain float64 array with eighths (9,9,9)
    t0 = time.perf_counter()
    out = run_cli("verify", str(r), "--json")
    seconds = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    with zipfile.ZipFile(r) as z:
        assert len(lines) == len(z.namelist()) == 22
    for obj in lines:
        shape = tuple(int(x) for x in obj["key"].split(","))
        assert tuple(obj["shape"]) == shape
        assert obj["ring"] in ("ZT", "Z", "Q")
        assert obj["rank"] >= lower_bound(shape)
        best = best_known_rank(shape)
        assert best is None or obj["rank"] >= best  # nobody beats the literature table
        if shape in PAPER:
            assert obj["rank"] == PAPER[shape][0]
    assert seconds < 120
