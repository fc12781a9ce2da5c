"""The public AlphaTensor archives in ../shared/known-schemes (skipped when ../shared is absent).

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
from tests.conftest import run_cli

# (m, k, n): (rank in standard arithmetic, rank modulo 2) -- AlphaTensor 2022, Fig. 3
PAPER = {
    (2, 2, 2): (7, 7), (2, 2, 3): (11, 11), (2, 2, 4): (14, 14), (2, 2, 5): (18, 18), (2, 3, 3): (15, 15),
    (2, 3, 4): (20, 20), (2, 3, 5): (25, 25), (2, 4, 4): (26, 26), (2, 4, 5): (33, 33), (2, 5, 5): (40, 40),
    (3, 3, 3): (23, 23), (3, 3, 4): (29, 29), (3, 3, 5): (36, 36), (3, 4, 4): (38, 38), (3, 4, 5): (47, 47),
    (3, 5, 5): (58, 58), (4, 4, 4): (49, 47), (4, 4, 5): (63, 63), (4, 5, 5): (76, 76), (5, 5, 5): (98, 96),
}


def _files(shared_dir):
    d = shared_dir / "known-schemes" / "alphatensor"
    r, f2 = d / "factorizations_r.npz", d / "factorizations_f2.npz"
    if not (r.is_file() and f2.is_file()):
        pytest.skip("AlphaTensor archives are not in ../shared")
    return r, f2


def _subset(path, keys) -> bytes:
    """A smaller archive with only the members for ``keys`` (the fast default-selection test)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w") as dst:
        for key in keys:
            dst.writestr(f"{key}.npy", src.read(f"{key}.npy"))
    return buf.getvalue()


def test_f2_archive_all_entries_are_z2_with_the_paper_ranks(shared_dir):
    _, f2 = _files(shared_dir)
    items = load_all(f2)
    assert len(items) == 20
    for key, s in items:
        shape = tuple(int(x) for x in key.split(","))
        assert tuple(s.shape) == shape
        assert s.rank == PAPER[shape][1], key
        assert s.verification.ring == "Z2", key  # valid only modulo 2: never lifted, never called valid


def test_r_archive_small_shapes_have_the_paper_ranks_and_are_valid(shared_dir):
    r, _ = _files(shared_dir)
    keys = [",".join(map(str, s)) for s in PAPER]
    items = alphatensor.parse_many(_subset(r, keys), source=str(r))
    assert [k for k, _ in items] == keys
    for key, s in items:
        shape = tuple(int(x) for x in key.split(","))
        assert s.rank == PAPER[shape][0], key
        assert s.verify().ring in ("ZT", "Z"), key


def test_r_archive_all_93_entries_through_the_cli(shared_dir):
    r, _ = _files(shared_dir)
    t0 = time.perf_counter()
    out = run_cli("verify", str(r), "--json")
    seconds = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(lines) == 93
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
