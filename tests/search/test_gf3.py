"""GF(3) flip walk (issue 12 point 4) and the Z3 ring label."""

import numpy as np
import pytest

from algodiscover import Scheme
from algodiscover.core.shape import Shape
from algodiscover.core.verify import verify
from algodiscover.search import Budget, gf3


def test_gf3_arithmetic_is_the_field():
    """The bit-sliced add agrees with (x + y) mod 3 on every pair of entries."""
    vals = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    other = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    xp, xn = gf3.to_planes(vals.reshape(1, -1))
    yp, yn = gf3.to_planes(other.reshape(1, -1))
    rp, rn = gf3._add(xp[0], xn[0], yp[0], yn[0])
    got = gf3.from_planes(np.array([rp]), np.array([rn]), 9)[0] % 3
    assert np.array_equal(got, (vals + other) % 3)


def test_walk_keeps_the_scheme_valid_mod_3():
    s = Shape(3, 3, 3)
    P, Q, r = gf3.standard_planes(s, 60)
    state = np.array([11], dtype=np.uint64)
    counters = np.zeros(4, dtype=np.int64)
    for _ in range(30):
        r = gf3.walk3(P, Q, r, 0, 3000, 200, 30, state, counters)
        assert gf3.is_valid_mod3(s, P, Q, r)
    assert counters[0] > 10_000 and counters[1] > 0 and counters[2] > 0  # flips, reductions, plus transitions


def test_z3_label_is_modular_only():
    # Strassen with every coefficient reduced to {0, 1, 2}: valid mod 3, not over Z
    from tests.conftest import STRASSEN
    s = Scheme((2, 2, 2), **{k: np.asarray(v) % 3 for k, v in STRASSEN.items()})
    v = verify(s, symbolic=True)
    assert v.ring == "Z3" and not v.ok
    assert "modulo 3" in v.summary()


def test_gf3_walk_reaches_strassen_rank_7_lifted():
    out = next(gf3.search_gf3((2, 2, 2), 7, seed=0, budget=Budget(time_limit=60)))
    assert out.rank == 7 and out.verify(symbolic=True).ok
    prov = out.provenance
    assert prov["options"]["field"] == 3 and prov["start"]["kind"] == "standard"
    assert prov["completed_by"] == ["flip", "lift"] or prov["completed_by"] == ["flip"]


def test_gf3_walk_z3_goal_reports_the_modular_scheme():
    out = next(gf3.search_gf3((2, 2, 2), 7, seed=2, ring="Z3", budget=Budget(time_limit=60)))
    assert out.rank == 7 and out.verify(symbolic=False).ring in ("Z3", "ZT", "Z")


def test_flip_search_dispatches_field_3():
    from algodiscover.search import run_search
    out = next(run_search("flip", (2, 2, 2), 7, seed=0, budget=Budget(time_limit=60), field=3))
    assert out.provenance["strategy"] == "gf3"


@pytest.mark.slow
def test_gf3_walk_reaches_laderman_rank_23_lifted():
    out = next(gf3.search_gf3((3, 3, 3), 23, seed=0, budget=Budget(time_limit=600)), None)
    assert out is not None and out.rank <= 23 and out.verify(symbolic=False).ok


def test_cli_field_3_goal_z3(tmp_path):
    import json
    from tests.conftest import run_cli
    out = tmp_path / "s.json"
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--field", "3", "--ring", "Z3",
                "--seed", "0", "--time-limit", "120", "--out", str(out), "--quiet", "--no-catalog")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["rank"] == 7 and data["ring"] in ("Z3", "ZT", "Z")
    assert data["provenance"]["options"]["field"] == 3


@pytest.mark.parametrize("shape,rank", [((2, 2, 2), 7), ((2, 4, 5), 36), ((3, 3, 3), 26), ((4, 4, 4), 56)])
def test_strassen_block_start_is_valid_mod_3(shape, rank):
    P, Q, r = gf3.strassen_block_planes(Shape(*shape), 80)
    assert r == rank and gf3.is_valid_mod3(Shape(*shape), P, Q, r)
