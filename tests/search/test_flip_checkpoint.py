"""Flip searches survive: checkpoint/resume after kill -9, replay, best effort on a missed target."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.formats import load
from algodiscover.search import Budget, flip, run_search
from tests.conftest import REPO, run_cli


pytestmark = pytest.mark.usefixtures('flip_kernels')  # compile before any clock starts (tests/conftest.py)

_CHILD = """
import sys
from algodiscover.core.canonical import canonical_key
from algodiscover.search import Budget, run_search
it = run_search("flip", (3, 3, 3), 23, seed=11, workers=1, init="standard", checkpoint=sys.argv[1],
                checkpoint_every=0.3, budget=Budget(time_limit=120, count=None))
for s in it:
    print(canonical_key(s), flush=True)
"""


def test_kill_9_then_resume_loses_nothing(tmp_path):
    ck = tmp_path / "ck"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", _CHILD, str(ck)], env=env, stdout=subprocess.PIPE, text=True)
    walker = ck / "walkers" / "walker-000.json"
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 90:
            if walker.exists() and len(list((ck / "schemes").glob("*.json"))) >= 2:
                break
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        p.send_signal(signal.SIGKILL)
    out, _ = p.communicate(timeout=30)
    reported = set(out.split())
    assert p.returncode == -signal.SIGKILL
    assert len(reported) >= 1, "the child found schemes before it was killed"
    before = json.loads(walker.read_text())
    on_disk = {canonical_key(load(f)) for f in (ck / "schemes").glob("*.json")}
    assert reported <= on_disk  # every scheme reported was on disk first
    # resumed: the schemes found before come back first, then the walk goes on to a new one
    it = run_search("flip", (3, 3, 3), 23, resume=str(ck), budget=Budget(time_limit=60, count=len(on_disk) + 1))
    resumed = []
    for s in it:
        resumed.append(s)
        if len(resumed) > len(on_disk):
            break
    it.close()
    keys = {canonical_key(s) for s in resumed}
    assert on_disk <= keys and reported <= keys
    for s in resumed:
        assert s.rank <= 23 and s.verify(symbolic=False).ok
    assert len(resumed) == len(on_disk) + 1
    after = json.loads(walker.read_text())
    # the walk went on from its state, not from scratch, and its state was written when it ended
    assert after["attempts"] >= before["attempts"] and set(after["tried"]) > set(before["tried"])
    assert after["seed"] == before["seed"] and it.stats["seed"] == 11


def test_resume_continues_the_walk_exactly(tmp_path):
    # a walk checkpointed and resumed reaches the same state as one walk of the same length
    from algodiscover.search.flip import CHUNK, run_segment
    _, one = run_segment((4, 4, 4), 49, state=None, attempts=6 * CHUNK, seed=2, options={"init": "standard"})
    _, half = run_segment((4, 4, 4), 49, state=None, attempts=3 * CHUNK, seed=2, options={"init": "standard"})
    path = tmp_path / "w.json"
    path.write_text(json.dumps(half))
    _, two = run_segment((4, 4, 4), 49, state=json.loads(path.read_text()), attempts=3 * CHUNK)
    assert (one["F"], one["r"], one["kstate"], one["rng"], one["attempts"]) == \
        (two["F"], two["r"], two["kstate"], two["rng"], two["attempts"])


def test_resume_refuses_another_search(tmp_path):
    ck = tmp_path / "ck"
    it = run_search("flip", (2, 2, 2), 7, seed=0, workers=1, checkpoint=str(ck), budget=Budget(time_limit=20))
    next(it)
    it.close()
    m = json.loads((ck / "checkpoint.json").read_text())
    assert m["format"] == "algodiscover.checkpoint/1" and m["engine"] == "flip" and m["options"]["plateau"] >= 1
    with pytest.raises(flip.FlipOptionError, match="same --shape and --rank"):
        list(run_search("flip", (2, 2, 2), 8, resume=str(ck)))
    with pytest.raises(flip.FlipOptionError, match="no checkpoint"):
        list(run_search("flip", (2, 2, 2), 7, resume=str(tmp_path / "nothing")))


@pytest.mark.parametrize("workers", [1, 2])
def test_replay_finds_the_same_scheme(workers):
    s = next(iter(run_search("flip", (3, 3, 3), 23, seed=4, workers=workers, budget=Budget(time_limit=60))))
    p = s.provenance
    assert p["seed"] == 4 and p["workers"] == workers and p["options"]["workers"] == workers
    assert {"plateau", "restart_after", "pool_size", "climb", "init", "ring"} <= set(p["options"])
    again = list(flip.replay(p))
    assert again and canonical_key(again[-1]) == canonical_key(s)


def test_replay_of_a_result_recorded_before_kernel_versions_uses_the_version_1_walk():
    # results/ files of the flip engine carry no "kernel" option: they were walked by kernel version 1
    s = next(iter(run_search("flip", (2, 3, 3), 15, seed=3, workers=1, kernel=1, budget=Budget(time_limit=60))))
    p = dict(s.provenance)
    assert p["options"]["kernel"] == 1
    p["options"] = {k: v for k, v in p["options"].items() if k != "kernel"}
    again = list(flip.replay(p))
    assert again and canonical_key(again[-1]) == canonical_key(s)
    new = next(iter(run_search("flip", (2, 3, 3), 15, seed=3, workers=1, kernel=3, budget=Budget(time_limit=60))))
    assert new.provenance["options"]["kernel"] == 3 and flip.default_kernel(new.shape) in (1, 2, 3)
    assert canonical_key(list(flip.replay(new.provenance))[-1]) == canonical_key(new)


def test_replay_refuses_what_it_cannot_rerun():
    from algodiscover.errors import ReplayError
    with pytest.raises(ReplayError, match="old provenance"):
        list(flip.replay({"engine": "flip", "seed": 1}))
    with pytest.raises(ReplayError, match="not a flip"):
        list(flip.replay({"engine": "spn"}))


def test_engine_dedupes_and_reports_stats():
    it = run_search("flip", (2, 2, 3), 11, seed=0, workers=1, budget=Budget(time_limit=2, count=None))
    found = list(it)
    keys = [canonical_key(s) for s in found]
    assert len(keys) == len(set(keys)) >= 1 and all(s.rank <= 11 for s in found)
    st = it.stats
    assert st["proven"] == len(found) and st["flips"] > 0 and st["best_rank"] <= 11
    assert {"restarts_done", "restarts_proven", "proven", "flips"} <= set(st)


@pytest.mark.slow
def test_cli_missed_target_writes_the_best_above_it(tmp_path):
    out = tmp_path / "out"
    r = run_cli("discover!", "--engine", "flip", "--shape", "3x3x4", "--rank", "28", "--workers", "1", "--seed", "0",
                "--time-limit", "4", "--out", f"{out}/", "--quiet", "--no-catalog", "--force")
    assert r.returncode == 1, r.stderr
    assert "best rank reached" in r.stderr and "mod 2" in r.stderr
    above = json.loads((out / "best-above-target.json").read_text())
    assert above["provenance"]["above_target"] is True and above["provenance"]["target_rank"] == 28
    assert above["rank"] > 28 and above["ring"] in ("ZT", "Z", "Q")
    assert load(out / "best-above-target.json").verify(symbolic=False).ok
    mod = load(out / "best-modular-z2.json")
    assert mod.verify(symbolic=False).ring in ("Z2", "ZT", "Z")


@pytest.mark.slow
def test_cli_stuck_at_a_proven_start_says_so_and_lifts_nothing(tmp_path):
    """A walk that never goes below its proven start: the final message names the start as the best proven
    scheme (not a new result); no best-above-target file is written for it, the mod-2 file is."""
    from tests.conftest import REPO
    out = tmp_path / "out"
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x3", "--rank", "10", "--force", "--workers", "1",
                "--seed", "0", "--start", str(REPO / "results" / "2x2x3-r11.json"), "--time-limit", "2",
                "--out", f"{out}/", "--quiet", "--no-catalog")
    assert r.returncode == 1, r.stderr
    assert "best proven: the start scheme (11, " in r.stderr and "not a new result" in r.stderr
    assert not (out / "best-above-target.json").exists()
    assert load(out / "best-modular-z2.json").rank == 11


@pytest.mark.slow
def test_cli_checkpoint_and_resume(tmp_path):
    ck = tmp_path / "ck"
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x3", "--rank", "11", "--workers", "1", "--seed", "0",
                "--checkpoint", str(ck), "--quiet", "--no-catalog")
    assert r.returncode == 0, r.stderr
    assert (ck / "checkpoint.json").exists() and (ck / "walkers" / "walker-000.json").exists()
    assert len(list((ck / "schemes").glob("*.json"))) == 1
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x3", "--rank", "11", "--resume", str(ck),
                "--quiet", "--no-catalog")
    assert r.returncode == 0, r.stderr
    assert "seed 0" in r.stderr   # the run's own seed, read from the checkpoint (not a new random one)


def test_cli_resume_refuses_another_seed(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "checkpoint.json").write_text(json.dumps({"seed": 3}))
    r = run_cli("discover!", "--engine", "flip", "--shape", "2x2x3", "--rank", "11", "--resume", str(ck),
                "--seed", "4", "--no-catalog")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "seed is 3, not 4" in r.stderr


def test_option_errors_name_flags():
    with pytest.raises(flip.FlipOptionError) as e:
        next(iter(run_search("flip", (2, 2, 2), 7, batch=3)))
    msg = str(e.value)
    assert "--plateau" in msg and "--restart-after" in msg and "pool_size" not in msg
    with pytest.raises(flip.FlipOptionError, match="--plateau"):
        next(iter(run_search("flip", (2, 2, 2), 7, plateau=0)))


def test_the_default_kernel_is_chosen_by_shape_and_recorded():
    from algodiscover.core.shape import Shape
    assert flip.default_kernel(Shape(5, 5, 5)) == 2 and flip.default_kernel(Shape(4, 4, 4)) == 1
    assert flip.resolve_options(Shape(5, 5, 5), 93)["kernel"] == 2
    assert flip.resolve_options(Shape(5, 5, 5), 93, kernel=3)["kernel"] == 3
    assert flip.resolve_options(Shape(4, 4, 4), 47, kernel=4)["kernel"] == 4
    with pytest.raises(flip.FlipOptionError, match="kernel"):
        flip.resolve_options(Shape(2, 2, 2), 7, kernel=5)


def test_end_of_run_lift_has_a_time_budget(monkeypatch):
    """A missed target: the pool schemes above it are lifted for at most _finish_lift_budget seconds (one
    lift of a <6,6,6> scheme takes minutes); with no budget left the search ends without lifting them and
    says so in stats, and with the default it proves one."""
    def missed():
        it = run_search("flip", (3, 3, 3), 20, seed=0, workers=1, budget=Budget(time_limit=1, count=None))
        assert list(it) == []
        return it
    monkeypatch.setattr(flip, "_finish_lift_budget", lambda elapsed: -1.0)
    it = missed()
    assert it.stats.get("finish_lift_cut") is True and it.best_above_target is None
    assert it.best_modular is not None  # the mod-2 best is kept whatever the lift budget
    monkeypatch.undo()
    assert flip._finish_lift_budget(0.0) == flip.FINISH_LIFT_SECONDS and flip._finish_lift_budget(1000.0) == 100.0
    it = missed()
    assert "finish_lift_cut" not in it.stats and it.best_above_target is not None
    assert it.best_above_target.rank > 20 and it.best_above_target.verify(symbolic=False).ok
