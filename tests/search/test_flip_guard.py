"""The flip walk's lift guard (``--lift-guard K``): new levels near a goal over Z count only when they lift."""

import numpy as np
import pytest

from algodiscover.core.shape import Shape
from algodiscover.search import Budget, flip, gf2
from algodiscover.search import lift as lift_mod
from tests.conftest import run_cli_here, walker_state_without_clock

pytestmark = pytest.mark.usefixtures("flip_kernels")  # compile before any clock starts (tests/conftest.py)

SHAPE = Shape(2, 2, 3)  # the standard algorithm has 12 products; 11 is the best rank


def _walker(guard: int, seed: int = 3, target: int = 11) -> flip.Walker:
    opts = flip.resolve_options(SHAPE, target, ring="Z", init="standard", workers=1, lift_guard=guard)
    return flip.Walker(SHAPE, target, "Z", flip._params(opts), seed, gf2.standard_bits(SHAPE))


def _walk(w: flip.Walker, chunks: int) -> list:
    return [ev for ev in w.run(chunks * flip.CHUNK) if ev[0] != "tick"]


def test_a_refused_level_is_not_taken_and_the_walk_goes_on_from_the_best_level(monkeypatch):
    """Every lift fails: with the guard the walk never counts 11 (its best stays the start's 12, the refusals
    are counted, its pool at 12 holds only the start); without it, 11 is reached and its lift fails at the goal."""
    monkeypatch.setattr(lift_mod, "hensel_lift", lambda *a, **k: None)
    w = _walker(guard=1)
    events = _walk(w, 4)
    assert w.best == 12 and 11 not in w.levels
    assert w.guard_refused >= 1 and w.lifts_failed == len(w.guard_seen) >= 1
    assert not any(ev[0] in ("level", "scheme") for ev in events)
    assert len(w.pools[12]) == 1 and np.array_equal(w.pools[12][0], gf2.standard_bits(SHAPE)[0][:, :12])
    plain = _walker(guard=0)
    _walk(plain, 4)
    assert plain.best == 11 and plain.lifts_failed >= 1 and plain.guard_refused == 0


def test_schemes_that_lift_pass_and_the_goal_reuses_the_guards_lift(monkeypatch):
    """The first three distinct schemes the guard sees "do not lift", the rest lift for real: the walk refuses
    three levels, then reaches the goal with a lifted scheme, lifted once (the guard's lift is reused)."""
    real = lift_mod.hensel_lift
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        return None if calls["n"] <= 3 else real(*a, **k)

    monkeypatch.setattr(lift_mod, "hensel_lift", flaky)
    w = _walker(guard=1)
    first = next(ev for ev in w.run(64 * flip.CHUNK) if ev[0] == "scheme")
    assert w.guard_refused >= 3 and len(w.guard_seen) == 3
    assert calls["n"] == 4  # three refusals, then one lift for the level that is also the goal
    W_a, W_b, W_c = first[1]
    from algodiscover.core.scheme import Scheme
    assert Scheme(SHAPE, W_a, W_b, W_c).verify(symbolic=False).ok


def test_the_guarded_walk_is_a_function_of_attempts_and_survives_a_checkpoint(monkeypatch):
    """Two segments with a JSON round trip between them give the state of one walk of the same length
    (refusals included: they depend on the scheme, never on the clock)."""
    real = lift_mod.hensel_lift
    seen = []

    def every_other(*a, **k):
        seen.append(1)
        return None if len(seen) % 2 else real(*a, **k)

    monkeypatch.setattr(lift_mod, "hensel_lift", every_other)
    one = _walker(guard=1, seed=5, target=10)  # 10 is below the best rank: the walk never ends early
    _walk(one, 6)
    seen.clear()
    half = _walker(guard=1, seed=5, target=10)
    _walk(half, 3)
    again = flip.Walker.from_state(half.state())
    _walk(again, 3)
    a, b = walker_state_without_clock(one.state()), walker_state_without_clock(again.state())
    assert a == b and a["guard_refused"] >= 1


def test_a_guarded_search_records_the_guard_and_replays():
    out = next(flip.search((2, 2, 3), 11, seed=0, workers=1, init="standard", lift_guard=2,
                           budget=Budget(time_limit=120)))
    assert out.provenance["options"]["lift_guard"] == 2 and out.verify(symbolic=False).ok
    again = list(flip.replay(out.provenance, shape=out.shape, rank=out.rank))
    from algodiscover.core.canonical import canonical_key
    assert canonical_key(again[-1]) == canonical_key(out)
    off = next(flip.search((2, 2, 3), 11, seed=0, workers=1, init="standard", lift_guard=0,
                           budget=Budget(time_limit=120)))
    assert "lift_guard" not in off.provenance["options"]  # off: recorded as before the option existed


@pytest.mark.parametrize("args, says", [
    (["--ring", "Z2", "--lift-guard", "2"], "needs --ring Z"),
    (["--policy", "pool", "--lift-guard", "2"], "--policy walk only"),
    (["--field", "3", "--lift-guard", "2"], "without --symmetry or --field 3"),
    (["--lift-guard", "-1"], "lift-guard"),
])
def test_lift_guard_options_are_checked_in_one_line(args, says):
    r = run_cli_here("discover", "--engine", "flip", "--shape", "2x2x3", "--rank", "11", "--seed", "0",
                     "--no-catalog", *args)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
