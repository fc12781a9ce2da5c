"""run_segment: the flip walk as pure segments (the cluster's unit and the checkpoint's walker state)."""

import json

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.search import flip
from algodiscover.search.flip import CHUNK, run_segment
from tests.conftest import walker_state_without_clock


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)


_det = walker_state_without_clock  # the state without its clock readings


def _keys(found):
    return sorted(canonical_key(s) for s in found)


def test_segments_compose_and_repeat():
    opts = {"init": "standard", "workers": 1}
    f1, st1 = run_segment((3, 3, 3), 23, state=None, attempts=2 * CHUNK, seed=3, options=opts)
    st1 = json.loads(json.dumps(st1))  # JSON-able
    f2, st2 = run_segment((3, 3, 3), 23, state=st1, attempts=2 * CHUNK, seed=None, options=opts)
    g, st = run_segment((3, 3, 3), 23, state=None, attempts=4 * CHUNK, seed=3, options=opts)
    assert st["attempts"] == st2["attempts"] == 4 * CHUNK or st["r"] <= 23
    assert _det(st) == _det(st2)
    assert _keys(f1 + f2) == _keys(g)
    again, st_again = run_segment((3, 3, 3), 23, state=None, attempts=4 * CHUNK, seed=3, options=opts)
    assert _keys(again) == _keys(g) and _det(st_again) == _det(st)


def test_segment_results_are_proven_and_carry_provenance():
    found, st = run_segment((2, 2, 2), 7, state=None, attempts=CHUNK, seed=0, options={"init": "standard"})
    assert found, "Strassen's rank is reached from the standard algorithm within one chunk"
    for s in found:
        assert s.rank <= 7 and s.verify(symbolic=False).ok
        p = s.provenance
        assert p["engine"] == "flip" and p["seed"] == 0 and p["start"]["kind"] == "standard"
        assert p["options"]["plateau"] == flip.DEFAULTS["plateau"] and p["attempts"] <= st["attempts"]
        assert p["completed_by"] == ["flip", "reduction", "lift"]


def test_a_new_walk_needs_a_seed_and_a_state_must_be_a_walker_state():
    with pytest.raises(flip.FlipOptionError, match="seed"):
        run_segment((2, 2, 2), 7, state=None, attempts=1, seed=None)
    with pytest.raises(flip.FlipOptionError, match="walker state"):
        run_segment((2, 2, 2), 7, state={"format": "x"}, attempts=1)


def test_nicer_reports_a_scheme_at_least_as_nice_as_the_first_lifted_one():
    from algodiscover.search import Budget, run_search
    from algodiscover.search.flip import _nice_score

    def first(**kw):
        it = run_search("flip", (3, 3, 3), 23, seed=1, workers=1, init="standard", budget=Budget(time_limit=60), **kw)
        s = next(it)
        it.close()
        return s

    plain, nice = first(), first(nicer=8)
    assert plain.verify(symbolic=False).ok and nice.verify(symbolic=False).ok and nice.rank <= 23
    score = lambda s: _nice_score((s.W_a, s.W_b, s.W_c))  # noqa: E731
    assert score(nice) <= score(plain)  # the first lifted scheme is among the candidates
    assert nice.provenance["options"]["nicer"] == 8 and nice.provenance["nicer_tried"] >= 1
    assert _nice_score(([[1, -1]], [[0, 1]], [[1]])) == (0, 4)
    assert _nice_score(([[2, 0]], [[1, 1]], [[1]])) == (1, 4)


def test_pool_policy_defaults_and_bad_value():
    from algodiscover.core.shape import Shape
    opts = flip.resolve_options(Shape(3, 3, 3), 23, policy="pool")
    assert opts["policy"] == "pool" and opts["plateau"] == flip.POOL_DEFAULTS["plateau"]
    assert opts["restart_after"] == flip.POOL_DEFAULTS["restart_after"]
    assert flip.resolve_options(Shape(3, 3, 3), 23, policy="pool", plateau=7)["plateau"] == 7
    assert flip.resolve_options(Shape(3, 3, 3), 23)["policy"] == "walk"
    with pytest.raises(flip.FlipOptionError, match="--policy"):
        flip.resolve_options(Shape(3, 3, 3), 23, policy="greedy")


@pytest.mark.slow
def test_pool_policy_segments_compose_and_keep_valid_pools():
    from algodiscover.search import gf2
    # rank 21 < the best known 23: the walk stalls (one restart at most per chunk), hands over to the pooled
    # descent, which keeps going
    opts = {"init": "standard", "workers": 1, "ring": "Z2", "policy": "pool", "plateau": 300,
            "restart_after": 3000, "pool_size": 4}
    f1, st1 = run_segment((3, 3, 3), 21, state=None, attempts=40 * CHUNK, seed=2, options=opts)
    st1 = json.loads(json.dumps(st1))
    f2, st2 = run_segment((3, 3, 3), 21, state=st1, attempts=40 * CHUNK, seed=None, options=opts)
    g, st = run_segment((3, 3, 3), 21, state=None, attempts=80 * CHUNK, seed=2, options=opts)
    assert _det(st) == _det(st2) and _keys(f1 + f2) == _keys(g)
    assert st["pool"]["level"] is not None and st["pool"]["paths"] >= 1  # the pooled descent ran
    assert st["best"] <= 24
    w = flip.Walker.from_state(st)
    for lv, snaps in w.pools.items():
        assert 1 <= len(snaps) <= 4 or lv >= w.pool["level"]
        for F in snaps:
            assert F.shape[1] == lv and gf2.is_valid_mod2(w.shape, F, lv)


def test_pool_policy_reaches_laderman_rank_over_z():
    from algodiscover.search import Budget, run_search
    it = run_search("flip", (3, 3, 3), 23, seed=0, workers=1, init="standard", policy="pool",
                    budget=Budget(time_limit=60))
    s = next(it)
    it.close()
    assert s.rank <= 23 and s.verify(symbolic=False).ok and s.provenance["options"]["policy"] == "pool"
    again = list(flip.replay(s.provenance))
    assert again and canonical_key(again[-1]) == canonical_key(s)
