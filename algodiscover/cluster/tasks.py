"""The work a cluster worker does: pure functions of their inputs, bounded by work (never by time).

Two kinds of task, both taking and returning JSON text (never pickled Schemes: the client trusts
nothing a worker sends and proves every candidate itself):

- :func:`spn_task`: SPN restarts ``j0 .. j1-1`` of a seed.  Restart ``j`` depends on ``(seed, j)``
  only, so a restart budget cut into ranges gives the same set of schemes as one machine, and a
  range lost with its worker is simply run again.
- :func:`flip_task`: one segment of a flip-graph walk, ``attempts`` kernel attempts from a walker
  state; it returns the candidates it reached and the walker state after the segment, from which
  the next task continues.  A walk is a pure function of its start state and the attempts made,
  wherever the segment boundaries fall.
- :func:`walk_task`: the same for the walks that keep their walker in a checkpoint directory (the
  symmetric walk, ``--symmetry``, and the GF(3)/ZT walk, ``--field 3``): the task writes the run's
  manifest and the walker's state into a temporary directory, resumes that walker there for
  ``attempts`` kernel attempts and hands back the state the engine wrote.

Each task checks first that the worker runs the algodiscover version (and commit) the client
expects, and uses one torch thread.  A task polls the run's stop :class:`distributed.Event` (at most
every ``POLL_S`` seconds) and returns what it has, marked incomplete, when the client stops the run.

Engine entry points: ``search.spn.run_restarts`` (exactly the given restart indices) and
``search.flip.run_segment`` (a walk segment from a JSON walker state) where the engines have them; the
task then cuts its work into sub-ranges / sub-segments and looks at the stop event between them.  With
an engine that predates them, the private adapters below drive it (``_spn_range_adapter`` over
``_Run``, :class:`FlipWalker` after ``search.flip._walker``).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Callable

import numpy as np

TASK_FORMAT = "algodiscover.cluster-task/1"
WALKER_FORMAT = "algodiscover.flip-walker/1"
POLL_S = 0.5  # seconds between two looks at the stop event
FLIP_SUB_CHUNKS = 32  # run_segment calls of this many kernel calls, the stop event looked at between them


class VersionMismatch(RuntimeError):
    """Raised on a worker whose algodiscover differs from the client's (the client turns it into one line)."""


# ---------------------------------------------------------------------------------------------- identity
def identity() -> dict:
    """What this process runs: algodiscover version and the checkout's commit (None when installed)."""
    from .. import __version__
    from ..provenance import git_commit
    c = git_commit()
    return {"version": __version__, "commit": c["hash"] if c else None, "dirty": bool(c and c["dirty"])}


def mismatch(expected: dict, got: dict) -> str | None:
    """Why ``got`` may not work for a client that runs ``expected`` (None when they agree).

    The versions must be equal; the commits too when both sides run from a checkout."""
    if expected.get("version") != got.get("version"):
        return f"algodiscover {got.get('version')} (the client runs {expected.get('version')})"
    a, b = expected.get("commit"), got.get("commit")
    if a and b and a != b:
        return f"commit {b[:12]} (the client runs commit {a[:12]})"
    return None


def _check(expected: dict | None) -> None:
    if expected is None:
        return
    why = mismatch(expected, identity())
    if why is not None:
        raise VersionMismatch(f"this worker runs {why}")


def _one_thread() -> None:
    import torch
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def _stopper(event_name: str | None) -> Callable[[], bool]:
    """A ``stop()`` that asks the run's distributed Event, at most every POLL_S seconds."""
    if not event_name:
        return lambda: False
    try:
        from distributed import Event
        ev = Event(event_name)
    except Exception:  # not inside a worker (a direct call in tests): nothing to poll
        return lambda: False
    last = [0.0, False]

    def stop() -> bool:
        if last[1]:
            return True
        now = time.monotonic()
        if now - last[0] >= POLL_S:
            last[0] = now
            try:
                last[1] = bool(ev.is_set())
            except Exception:  # the scheduler went away: stop, the client is gone too
                last[1] = True
        return last[1]
    return stop


def scheme_payload(shape, Wa, Wb, Wc, provenance: dict) -> dict:
    """A candidate in the algodiscover JSON format (unverified: the client proves it)."""
    from ..core.arith import to_jsonable
    from ..formats.json_format import FORMAT_ID, _jsonable
    Wa, Wb, Wc = (np.asarray(W) for W in (Wa, Wb, Wc))
    return {"format": FORMAT_ID, "shape": list(shape), "rank": int(Wa.shape[0]), "W_a": to_jsonable(Wa),
            "W_b": to_jsonable(Wb), "W_c": to_jsonable(Wc), "provenance": _jsonable(provenance)}


# ---------------------------------------------------------------------------------------------- SPN
def spn_task(spec: str, j0: int, j1: int, event: str | None = None, stream: str | None = None) -> str:
    """Train SPN restarts ``j0 .. j1-1`` of ``spec`` (JSON: shape, rank, seed, options, expect);
    return JSON text: ``{"complete", "candidates": [scheme JSON objects], "stats", "worker", "seconds"}``.

    ``stream``: the name of the run's ``distributed.Queue``; each candidate is also put there (JSON
    text) as soon as the worker has it, so that the client proves and keeps it while the task runs
    on (the final result lists every candidate again: the client deduplicates).

    On a Dask worker the training runs in a compute process of this worker (:mod:`._compute`), so that
    the worker's event loop does not slow it down; elsewhere (or if that process cannot start) here."""
    sp = json.loads(spec)
    _check(sp.get("expect"))
    t0 = time.monotonic()
    stop = _stopper(event)
    req = {"shape": sp["shape"], "rank": int(sp["rank"]), "seed": int(sp["seed"]), "j0": int(j0), "j1": int(j1),
           "options": sp.get("options") or {}}
    send = _streamer(stream, [int(j0), int(j1)])
    child = _take_compute() if sp.get("compute_process", True) and _on_worker() else None
    if child is not None:
        try:
            cands, stats, complete = child.run(req, stop, send)
        finally:
            _give_back(child)
    else:
        _one_thread()
        cands, stats, complete = _spn_range(req["shape"], req["rank"], seed=req["seed"], j0=req["j0"],
                                            j1=req["j1"], options=req["options"], stop=stop, on_candidate=send)
    return json.dumps({"format": TASK_FORMAT, "kind": "spn", "range": [int(j0), int(j1)], "complete": complete,
                       "candidates": cands, "stats": stats, "worker": identity(),
                       "seconds": round(time.monotonic() - t0, 3)}, separators=(",", ":"))


def _streamer(name: str | None, rng: list) -> Callable[[dict], None] | None:
    """Put each candidate on the run's Queue (best effort: the task's result carries it anyway)."""
    if not name or not _on_worker():
        return None
    try:
        from distributed import Queue
        q = Queue(name)
    except Exception:
        return None

    def send(cand: dict) -> None:
        try:
            q.put(json.dumps({"range": rng, "candidate": cand}, separators=(",", ":")), timeout=10)
        except Exception:
            pass
    return send


def _on_worker() -> bool:
    try:
        from distributed import get_worker
        get_worker()
        return True
    except Exception:
        return False


class _ComputeProcess:
    """This worker thread's compute process (``python -m algodiscover.cluster._compute``)."""

    def __init__(self):
        import os
        import subprocess
        import sys
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the worker's own algodiscover
        env.setdefault("OMP_NUM_THREADS", "1")
        # a Dask nanny sets glibc's trim threshold to 64 KiB for its workers' memory reports; the torch loop
        # frees and takes back small buffers all the time, and returning them to the OS each time cost it a
        # third of its speed (measured); the compute process keeps glibc's default
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "algodiscover.cluster._compute"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1, env=env)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, req: dict, stop, on_candidate=None) -> tuple[list, dict, bool]:
        import select
        import signal
        self.proc.stdin.write(json.dumps({**req, "stream": on_candidate is not None}, separators=(",", ":")) + "\n")
        self.proc.stdin.flush()
        fd = self.proc.stdout
        while True:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                line = fd.readline()
                if not line:
                    raise RuntimeError(f"the compute process ended (exit status {self.proc.wait()})")
                reply = json.loads(line)
                if "candidate" in reply:  # found while the restarts go on
                    if on_candidate is not None:
                        on_candidate(reply["candidate"])
                    continue
                if not reply.get("ok"):
                    raise RuntimeError(f"SPN restarts failed: {reply.get('error')}")
                return reply["candidates"], reply["stats"], bool(reply["complete"])
            if not self.alive():
                raise RuntimeError(f"the compute process ended (exit status {self.proc.returncode})")
            if stop():
                try:
                    self.proc.send_signal(signal.SIGUSR1)  # again at each look: a stop is never lost
                except OSError:
                    pass


_IDLE: list = []  # this worker process's compute processes not running a task now


def _take_compute() -> "_ComputeProcess | None":
    """An idle compute process of this worker (started now if there is none, or none alive)."""
    while _IDLE:
        try:
            cp = _IDLE.pop()
        except IndexError:
            break
        if cp.alive():
            return cp
    try:
        return _ComputeProcess()
    except OSError:
        return None


def _give_back(cp: "_ComputeProcess") -> None:
    if cp.alive():
        _IDLE.append(cp)


def prestart_compute(n: int | None = None) -> int:
    """Start this worker's compute processes ahead of its first SPN task (one per worker thread, or
    ``n``), so that their torch import and set-up overlap the client's; returns how many are idle.
    Run on every worker with ``client.run(prestart_compute)``."""
    if n is None:
        try:
            from distributed import get_worker
            n = int(get_worker().state.nthreads)
        except Exception:
            n = 1
    while sum(1 for cp in _IDLE if cp.alive()) < n:
        try:
            _IDLE.append(_ComputeProcess())
        except OSError:
            break
    return len(_IDLE)


def has_run_restarts() -> bool:
    from ..search import spn
    return hasattr(spn, "run_restarts")


def has_run_segment() -> bool:
    from ..search import flip
    return hasattr(flip, "run_segment")


def _spn_range(shape, rank: int, *, seed: int, j0: int, j1: int, options: dict, stop,
               on_candidate=None) -> tuple[list, dict, bool]:
    if has_run_restarts():
        return _spn_run_restarts(shape, rank, seed=seed, j0=j0, j1=j1, options=options, stop=stop,
                                 on_candidate=on_candidate)
    return _spn_range_adapter(shape, rank, seed=seed, j0=j0, j1=j1, options=options, stop=stop)


def _spn_run_restarts(shape, rank, *, seed, j0, j1, options, stop, on_candidate=None):
    """``spn.run_restarts`` on the range: in one call when it takes a ``stop`` callable (the batch
    stays full until the range's last restarts; a stop ends it within a step), else over sub-ranges
    of one batch each with the stop event looked at between them (each sub-range then ends with its
    batch draining: slower, but a stop still ends the task within one batch)."""
    import inspect
    from ..search import Budget, spn
    opts = {k: v for k, v in options.items() if k not in ("workers", "curves")}
    params = inspect.signature(spn.run_restarts).parameters
    if "stop" in params:
        st: dict = {}
        payload = lambda x: scheme_payload(x.shape, x.W_a, x.W_b, x.W_c, dict(x.provenance))  # noqa: E731
        extra = {"stats": st} if "stats" in params else {}
        if on_candidate is not None and "on_scheme" in params:
            extra["on_scheme"] = lambda x: on_candidate(payload(x))
        found = spn.run_restarts(shape, rank, seed=seed, restarts=range(j0, j1), options=opts, stop=stop, **extra)
        cands = [payload(x) for x in found]
        done = st.get("restarts_done")
        complete = (done == j1 - j0) if done is not None else not stop()
        best = st.get("best_residual")
        return cands, {"restarts_done": (j1 - j0) if complete else done,
                       "successes": st.get("restarts_proven"),
                       "best_residual": None if best is None or not np.isfinite(best) else float(best),
                       "steps": st.get("steps")}, complete
    it = spn.search(shape, rank, seed=seed, budget=Budget(restarts=1, count=None), workers=1, **opts)
    sub = max(1, int(it._run.strat.batch))
    it.close()
    cands, done = [], 0
    for a in range(j0, j1, sub):
        if stop():
            break
        b = min(j1, a + sub)
        for sch in spn.run_restarts(shape, rank, seed=seed, restarts=range(a, b), options=opts):
            cands.append(scheme_payload(sch.shape, sch.W_a, sch.W_b, sch.W_c, dict(sch.provenance)))
        done += b - a
    return cands, {"restarts_done": done, "successes": None, "best_residual": None}, done == j1 - j0


def _spn_range_adapter(shape, rank: int, *, seed: int, j0: int, j1: int, options: dict, stop) -> tuple[list, dict, bool]:
    """Private adapter over an SPN engine without ``run_restarts``: one process, restarts j0..j1-1
    (``_Run`` trains restarts ``offset, offset + stride, ...`` below ``budget.restarts``)."""
    from ..search import Budget
    from ..search import spn
    it = spn.search(shape, rank, seed=seed, budget=Budget(restarts=j1, count=None), workers=1,
                    **{k: v for k, v in options.items() if k != "workers"})
    run = it._run
    run.offset, run.stride = j0, 1
    run.budget = Budget(restarts=j1, count=None)
    run.stop = stop
    cands = []
    for s in it:  # every scheme the engine proved (the client proves it again)
        cands.append(scheme_payload(s.shape, s.W_a, s.W_b, s.W_c, dict(s.provenance)))
    st = dict(it.stats)
    done = int(st.get("restarts_done", 0))
    complete = not stop() and done >= j1 - j0
    best = st.get("best_residual")
    return cands, {"restarts_done": done, "successes": int(st.get("successes", 0)),
                   "best_residual": None if best is None or not np.isfinite(best) else float(best),
                   "steps": int(st.get("steps", 0))}, complete


# ---------------------------------------------------------------------------------------------- flip
def _words(a) -> list[str]:
    return [format(int(x), "x") for x in np.asarray(a, dtype=np.uint64).ravel()]


def _unwords(ws, shape=None) -> np.ndarray:
    a = np.array([int(w, 16) for w in ws], dtype=np.uint64)
    return a.reshape(shape) if shape is not None else a


class FlipWalker:
    """One flip-graph walker whose whole state is JSON, so that a walk continues on any worker.

    The step logic is that of ``search.flip._walker`` (same decisions from the same counts of kernel
    attempts, never from the clock); the state is everything that loop keeps between steps.
    """

    def __init__(self, state: dict):
        from ..core.shape import parse_shape
        if state.get("format") != WALKER_FORMAT:
            raise ValueError(f"not a flip walker state ({state.get('format')!r} is not {WALKER_FORMAT!r})")
        self.shape = parse_shape(state["shape"])
        self.target, self.goal = int(state["target"]), state["goal"]
        self.params = dict(state["params"])
        self.worker, self.seed = int(state["worker"]), int(state["seed"])
        cap = int(state["cap"])
        self.r = int(state["r"])
        self.F = np.zeros((3, cap), dtype=np.uint64)
        self.F[:, :self.r] = _unwords(state["F"], (3, self.r))
        self.rng = np.random.default_rng(0)
        self.rng.bit_generator.state = state["rng"]
        self.kstate = np.array([int(state["kernel_state"], 16)], dtype=np.uint64)
        self.counters = np.array(state["counters"], dtype=np.int64)
        self.best = int(state["best"])
        self.pools = {int(lv): [_unwords(s, (3, int(lv))) for s in snaps] for lv, snaps in state["pools"].items()}
        self.tried = set(state["tried"])  # digests of the schemes at the goal seen so far
        for key in ("unlifted_since_restart", "attempts", "flips_at_best", "attempts_at_best", "restarts",
                    "lifts_failed", "lifted", "segments"):
            setattr(self, key, int(state.get(key, 0)))

    @staticmethod
    def initial(shape, target: int, seed: int, start_bits, goal: str, params: dict, worker: int) -> dict:
        """The state ``search.flip._walker`` starts from (same rng draws, same pools)."""
        from ..core.shape import parse_shape
        s = parse_shape(shape)
        F0, r0 = start_bits
        rng = np.random.default_rng(seed)
        kstate = int(rng.integers(1, 2**63 - 1))
        snap = np.asarray(F0[:, :r0], dtype=np.uint64)
        return {"format": WALKER_FORMAT, "shape": list(s), "target": int(target), "goal": goal,
                "params": dict(params), "worker": int(worker), "seed": int(seed), "cap": int(r0) + 32,
                "r": int(r0), "F": _words(snap), "rng": rng.bit_generator.state, "kernel_state": format(kstate, "x"),
                "counters": [0, 0, 0, 0], "best": int(r0), "pools": {str(r0): [_words(snap)]}, "tried": [],
                "unlifted_since_restart": 0, "attempts": 0, "flips_at_best": 0, "attempts_at_best": 0,
                "restarts": 0, "lifts_failed": 0, "lifted": 0, "segments": 0}

    def state(self) -> dict:
        return {"format": WALKER_FORMAT, "shape": list(self.shape), "target": self.target, "goal": self.goal,
                "params": self.params, "worker": self.worker, "seed": self.seed, "cap": int(self.F.shape[1]),
                "r": self.r, "F": _words(self.F[:, :self.r]), "rng": self.rng.bit_generator.state,
                "kernel_state": format(int(self.kstate[0]), "x"), "counters": [int(c) for c in self.counters],
                "best": self.best, "pools": {str(lv): [_words(s) for s in snaps] for lv, snaps in sorted(self.pools.items())},
                "tried": sorted(self.tried),
                **{key: int(getattr(self, key)) for key in ("unlifted_since_restart", "attempts", "flips_at_best",
                                                            "attempts_at_best", "restarts", "lifts_failed", "lifted",
                                                            "segments")}}

    def _load(self, snap) -> None:
        self.F[:] = 0
        self.r = snap.shape[1]
        self.F[:, :self.r] = snap
        self.counters[3] = 0

    def run(self, attempts: int, stop: Callable[[], bool] = lambda: False) -> tuple[list, bool]:
        """Walk ``attempts`` more kernel attempts (a multiple of the engine's CHUNK); returns the
        candidates reached (scheme JSON objects) and whether the segment ran to its end."""
        from ..search import gf2
        from ..search.flip import CHUNK
        from ..search.lift import hensel_lift
        p = self.params
        plateau, restart_after, pool_size, climb = p["plateau"], p["restart_after"], p["pool_size"], p["climb"]
        end = self.attempts + int(attempts)
        F, counters, rng = self.F, self.counters, self.rng
        found = []
        while self.attempts < end:
            if stop():
                return found, False
            r = self.r
            if r <= self.target:
                key = hashlib.blake2b(_order_free(F, r), digest_size=16).hexdigest()
                if key not in self.tried:
                    self.tried.add(key)
                    a, b, c = gf2.bits_to_factors(self.shape, F, r)
                    info = {"worker": self.worker, "worker_seed": self.seed, "flips": int(counters[0]),
                            "restarts": self.restarts, "attempts": self.attempts}
                    if self.goal == "Z2":
                        found.append(scheme_payload(self.shape, a, b, c.T.copy(), info))
                    else:
                        res = hensel_lift(self.shape, a, b, c)
                        if res is not None:
                            self.lifted += 1
                            found.append(scheme_payload(self.shape, *res, info))
                        else:
                            self.lifts_failed += 1
                            self.unlifted_since_restart += 1
                    self.flips_at_best = int(counters[0])
                    self.attempts_at_best = self.attempts
            r_before = r
            r = self.r = gf2.walk(F, r, self.best - 1, CHUNK, plateau, self.best + climb, self.kstate, counters)
            self.attempts += CHUNK
            if r < self.best:
                self.best = r
                self.pools[r] = [F[:, :r].copy()]
                self.flips_at_best = int(counters[0])
                self.attempts_at_best = self.attempts
            elif r == self.best and r_before != self.best:
                pool = self.pools[self.best]
                if len(pool) < pool_size:
                    pool.append(F[:, :r].copy())
                else:
                    pool[int(rng.integers(len(pool)))] = F[:, :r].copy()
            if (int(counters[0]) - self.flips_at_best >= restart_after
                    or self.attempts - self.attempts_at_best >= 20 * restart_after or self.unlifted_since_restart >= 4):
                up = int(rng.integers(1, 3)) if self.unlifted_since_restart >= 4 else int(rng.integers(0, 2))
                level = min((lv for lv in self.pools if lv >= self.best + up), default=self.best)
                src = self.pools[level]
                self.unlifted_since_restart = 0
                self._load(src[int(rng.integers(len(src)))])
                self.flips_at_best = int(counters[0])
                self.attempts_at_best = self.attempts
                self.restarts += 1
        self.segments += 1
        return found, True


def _order_free(F: np.ndarray, r: int) -> bytes:
    """The scheme up to the order of its products (as ``search.flip._key`` of the engine it follows)."""
    cols = F[:, :r].T
    order = np.lexsort(cols.T[::-1])
    return cols[order].tobytes()


_WARM = [False]


def walker_summary(state: dict) -> dict:
    """Figures of a walker state of either format (flips are counters[0] in both)."""
    c = state.get("counters") or [0]
    return {"rank": int(state["best"]), "current": int(state["r"]), "flips": int(c[0]),
            "attempts": int(state["attempts"]), "restarts": int(state.get("restarts", 0)),
            "lifts_failed": int(state.get("lifts_failed", 0)),
            "pool": len((state.get("pools") or {}).get(str(state["best"]), []))}


def initial_walker(shape, rank: int, *, seed: int, walk: int, walkers: int, options: dict, start_bits=None,
                   goal: str = "Z", params: dict | None = None) -> dict:
    """The start state of walk ``walk`` of ``walkers`` (that of the local engine's worker ``walk``)."""
    if has_run_segment():
        from ..search import flip
        opts = {k: v for k, v in options.items() if k not in ("checkpoint", "resume", "workers")}
        return flip.run_segment(shape, rank, state=None, attempts=0, seed=seed,
                                options={**opts, "walk": walk, "workers": walkers})[1]
    return FlipWalker.initial(shape, rank, seed, start_bits, goal, params, walk)


def flip_task(state: str, attempts: int, event: str | None = None, expect: dict | None = None,
              options: dict | None = None) -> str:
    """Continue a flip walk for ``attempts`` kernel attempts from ``state`` (a walker state, JSON text).

    Returns JSON text ``{"complete", "candidates", "state", "stats", "worker", "seconds"}``; ``state``
    is where the next segment starts (also after an incomplete, stopped segment: it is a valid state)."""
    _check(expect)
    t0 = time.monotonic()
    st = json.loads(state)
    flips0 = walker_summary(st)["flips"]
    stop = _stopper(event)
    if st.get("format") == WALKER_FORMAT:
        if not _WARM[0]:
            from ..search import gf2
            gf2.warm_up()
            _WARM[0] = True
        w = FlipWalker(st)
        found, complete = w.run(int(attempts), stop)
        st = w.state()
    else:  # the engine's own walker (search.flip.run_segment)
        import inspect
        from ..search import flip
        opts = {k: v for k, v in (options or {}).items() if k in ("workers",)}
        found, complete, left = [], True, int(attempts)
        if "stop" in inspect.signature(flip.run_segment).parameters:
            # one walker for the whole segment, the stop event looked at between kernel calls
            a0 = int(st["attempts"])
            schemes, st = flip.run_segment(st["shape"], int(st["target"]), state=st, attempts=left, options=opts,
                                           stop=stop)
            found = [scheme_payload(x.shape, x.W_a, x.W_b, x.W_c, dict(x.provenance)) for x in schemes]
            complete = int(st["attempts"]) - a0 >= left
            left = 0
        while left > 0:  # an engine without stop=: sub-segments, the stop event looked at between them
            if stop():
                complete = False
                break
            n = min(left, FLIP_SUB_CHUNKS * flip.CHUNK)
            schemes, st = flip.run_segment(st["shape"], int(st["target"]), state=st, attempts=n, options=opts)
            found += [scheme_payload(x.shape, x.W_a, x.W_b, x.W_c, dict(x.provenance)) for x in schemes]
            left -= n
    stats = walker_summary(st)
    stats["segment_flips"] = stats["flips"] - flips0
    return json.dumps({"format": TASK_FORMAT, "kind": "flip", "complete": complete, "candidates": found,
                       "state": st, "stats": stats, "worker": identity(),
                       "seconds": round(time.monotonic() - t0, 3)}, separators=(",", ":"))


# ------------------------------------------------------------------------------------ symmetric and GF(3) walks
def walk_engine(manifest: dict):
    """The walk a checkpoint manifest describes (symmetric or GF(3)), as its search function."""
    opts = manifest.get("options") or {}
    if opts.get("symmetry") not in (None, "none"):
        from ..search.flip_sym import search_symmetric
        return search_symmetric
    if opts.get("field") == 3:
        from ..search.gf3 import search_gf3
        return search_gf3
    raise ValueError("the manifest names neither a symmetric nor a GF(3) walk")


def walk_summary(state: dict | None) -> dict:
    """Figures of a symmetric or GF(3) walker state (levels are keyed by rank in both)."""
    if not state:
        return {"rank": None, "flips": 0, "attempts": 0, "restarts": 0, "lifts_failed": 0, "levels": {}}
    levels = {int(k): float(v) for k, v in (state.get("levels") or {}).items()}
    return {"rank": min(levels) if levels else None, "flips": int((state.get("counters") or [0])[0]),
            "attempts": int(state.get("attempts", 0)), "restarts": int(state.get("restarts", 0)),
            "lifts_failed": int(state.get("lifts_failed", 0)), "levels": levels}


#: a task's scratch directory older than this (newest file inside), of a process no longer running, is litter
SCRATCH_STALE_SECONDS = 600.0


def scratch_dir(kind: str):
    """A new temporary directory ``algodiscover-KIND-HOST-PID-XXXX`` for one task.

    First removes this host's directories of the same kind left by processes that no longer run (a worker
    killed with SIGKILL cannot remove its own) and untouched for :data:`SCRATCH_STALE_SECONDS`; a directory
    of a live process, of another host or of another user is left alone."""
    import os
    import re
    import shutil
    import socket
    import tempfile
    from pathlib import Path
    host = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:40] or "host"
    root = Path(tempfile.gettempdir())
    pat = re.compile(rf"algodiscover-{re.escape(kind)}-{re.escape(host)}-(\d+)-")
    now = time.time()
    for d in root.glob(f"algodiscover-{kind}-{host}-*"):
        mt = pat.match(d.name)
        if not mt or int(mt.group(1)) == os.getpid() or not d.is_dir():
            continue
        try:
            os.kill(int(mt.group(1)), 0)
            continue  # alive
        except ProcessLookupError:
            pass
        except OSError:
            continue  # another user's process, or cannot tell
        try:
            newest = max([d.stat().st_mtime] + [f.stat().st_mtime for f in d.rglob("*")])
        except OSError:
            continue
        if now - newest >= SCRATCH_STALE_SECONDS:
            shutil.rmtree(d, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"algodiscover-{kind}-{host}-{os.getpid()}-"))


def walk_task(spec: str, state: str | None, walker: int, attempts: int, event: str | None = None,
              expect: dict | None = None) -> str:
    """Continue walker ``walker`` of a symmetric or GF(3) walk for ``attempts`` kernel attempts.

    ``spec`` (JSON): ``manifest`` (the run's checkpoint manifest: shape, rank, seed, resolved options, start,
    walker count) and ``start`` (the start scheme in the JSON format when the walk starts from one, else
    null: the worker needs no file of the client's).  ``state``: the walker's state (JSON text, the engine's
    ``walkers/walker-NNN.json``), or None for a walker that has not walked yet.  Returns JSON text
    ``{"complete", "candidates", "state", "stats", "worker", "seconds"}`` as :func:`flip_task`."""
    import shutil
    from ..search import Budget
    _check(expect)
    t0 = time.monotonic()
    sp = json.loads(spec)
    m = dict(sp["manifest"])
    st0 = json.loads(state) if state else None
    before = walk_summary(st0)
    stop = _stopper(event)
    d = scratch_dir("walk")
    try:
        (d / "walkers").mkdir()
        (d / "schemes").mkdir()
        if sp.get("start") is not None:  # the start scheme travels with the task; its record names this copy
            (d / "start.json").write_text(json.dumps(sp["start"]))
            m["start"] = {**(m.get("start") or {}), "source": str(d / "start.json")}
        (d / "checkpoint.json").write_text(json.dumps(m))
        wf = d / "walkers" / f"walker-{int(walker):03d}.json"
        if st0 is not None:
            wf.write_text(json.dumps(st0))
        fn = walk_engine(m)
        found = []
        for x in fn(tuple(m["shape"]), int(m["rank"]), resume=str(d), budget=Budget(), stop=stop,
                    _walker=int(walker), _child=True, _attempts_to=before["attempts"] + int(attempts)):
            found.append(scheme_payload(x.shape, x.W_a, x.W_b, x.W_c, dict(x.provenance)))
        st = json.loads(wf.read_text())
    finally:
        shutil.rmtree(d, ignore_errors=True)
    stats = walk_summary(st)
    stats["segment_flips"] = stats["flips"] - before["flips"]
    stats["levels"] = {str(k): v for k, v in stats["levels"].items()}
    complete = stats["attempts"] - before["attempts"] >= int(attempts)
    return json.dumps({"format": TASK_FORMAT, "kind": "walk", "complete": complete, "candidates": found,
                       "state": st, "stats": stats, "worker": identity(),
                       "seconds": round(time.monotonic() - t0, 3)}, separators=(",", ":"))
