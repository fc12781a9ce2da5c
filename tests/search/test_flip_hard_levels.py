"""Hard levels (issue 12, session 11): the kernel version on the command line, and the long free walk
(--climb 4 --plateau 20000 --restart-after 1e9 --grow 0) that found <3,4,5>:47, on small shapes.

Expected values come from mathematics and the literature: Strassen's rank 7 for <2,2,2>, Laderman's 23 for
<3,3,3>; every scheme is proven by ``verify``; a replay of the recorded provenance finds the same scheme.
"""

from __future__ import annotations

import json

import pytest

from algodiscover.cli import discover_main
from algodiscover.core.canonical import canonical_key
from algodiscover.core.shape import Shape
from algodiscover.formats import load
from algodiscover.search import flip


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)

FREE = {"climb": 4, "plateau": 20000, "restart_after": 10 ** 9, "grow": 0}


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_kernel_flag_is_used_and_recorded(tmp_path, version):
    out = tmp_path / "s.json"
    code = discover_main(["--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--init", "standard", "--seed", "0",
                          "--workers", "1", "--kernel", str(version), "--no-catalog", "--quiet", "--time-limit", "60",
                          "--out", str(out)])
    assert code == 0
    s = load(out)
    assert s.rank == 7 and s.verify(symbolic=False).ok
    prov = json.loads(out.read_text())["provenance"]
    assert prov["options"]["kernel"] == version and "--kernel" in prov["command"]
    again = list(flip.replay(prov))
    assert again and canonical_key(again[-1]) == canonical_key(s)


def test_kernel_flag_rejects_unknown_versions(capsys):
    with pytest.raises(SystemExit) as e:
        discover_main(["--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--kernel", "5"])
    assert e.value.code == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "--kernel" in err[0]
    with pytest.raises(flip.FlipOptionError, match="kernel"):
        flip.resolve_options(Shape(2, 2, 2), 7, kernel=9)


def test_free_walk_reaches_laderman_rank_and_replays():
    from algodiscover.search import Budget, run_search
    it = run_search("flip", (3, 3, 3), 23, seed=0, workers=1, init="standard", budget=Budget(time_limit=60), **FREE)
    s = next(it)
    it.close()
    assert s.rank <= 23 and s.verify(symbolic=False).ok
    opts = s.provenance["options"]
    assert {k: opts[k] for k in FREE} == FREE and opts["policy"] == "walk"
    again = list(flip.replay(s.provenance))
    assert again and canonical_key(again[-1]) == canonical_key(s)


def _strassen_square():
    from algodiscover import Scheme
    from algodiscover.core.compose import tensor_product
    from algodiscover.search import gf2
    from tests.conftest import STRASSEN
    st = Scheme((2, 2, 2), **STRASSEN)
    sq = tensor_product(st, st)
    assert tuple(sq.shape) == (4, 4, 4) and sq.rank == 49 and sq.verify(symbolic=False).ok
    return gf2.scheme_to_bits(sq, cap=49 + 16)


def test_the_strassen_square_has_no_flippable_pair():
    # Strassen's seven A (B, C) factors are distinct, so their Kronecker squares are: no two of the 49
    # products share a factor, and neither a flip nor a reduction applies
    from algodiscover.search import flipkernel as fk
    F, r = _strassen_square()
    ix = fk.make_index(F.shape[1])
    assert fk.reduce_all(ix, F, r) == 49 and fk.flippable_count(ix) == 0


@pytest.mark.parametrize("climb", [1, 2, 4])
def test_version_4_leaves_a_rigid_scheme_by_plus_transitions_up_to_max_rank(climb):
    import numpy as np
    from algodiscover.search import flipkernel as fk
    from algodiscover.search import gf2
    s = Shape(4, 4, 4)
    for version, ups in ((2, 1), (4, climb)):
        F, r = _strassen_square()
        ix = fk.make_index(F.shape[1])
        c = fk.new_counters()
        # one attempt from the rigid scheme: version 2 makes one plus transition, version 4 climbs to max_rank
        r1 = fk.walk(ix, F, r, 0, 1, 10**9, r + climb, np.array([11], dtype=np.uint64), c, version)
        assert c[fk.ATTEMPTS] == 1 and c[fk.FLIPS] == 0 and c[fk.PLUS] == ups
        assert r1 == 49 + c[fk.PLUS] - c[fk.REMOVED]
        assert gf2.is_valid_mod2(s, F, r1) and fk.check_index(ix, F, r1) == 0 and not fk.has_reducible_pair(F, r1)
    # and a long version-4 walk from it keeps every scheme valid and the index equal to a rebuild
    F, r = _strassen_square()
    ix = fk.make_index(F.shape[1])
    c = fk.new_counters()
    state = np.array([3], dtype=np.uint64)
    for _ in range(30):
        r = fk.walk_ix(ix, F, r, 46, 5000, 2000, 49 + climb, state, c, 4) if c[fk.ATTEMPTS] else \
            fk.walk(ix, F, r, 46, 5000, 2000, 49 + climb, state, c, 4)
        assert 47 <= r <= 49 + climb and gf2.is_valid_mod2(s, F, r) and fk.check_index(ix, F, r) == 0
    assert r == 49 + c[fk.PLUS] - c[fk.REMOVED] and c[fk.FLIPS] > 0
