"""The flip-graph engine: random walks over GF(2) schemes, then Hensel lifting and exact proof.

Kauers & Moosbauer (2022) walk the *flip graph*: vertices are schemes over GF(2), edges are flips
(rank kept) and reductions (rank drops); Arai, Ichikawa & Hukushima (2024) add plus transitions
(rank + 1) to leave plateaus and keep pools of schemes per rank level.  Every walker starts from the
standard algorithm, from Strassen on 2x2x2 blocks (``init``: "mixed", the default, gives
odd-numbered walkers the block start), or from ``start``; it walks with the indexed kernel of
:mod:`.flipkernel` (about 10^7 flips per second per thread), keeps pools of schemes per rank level
and restarts from them when it stalls.  A scheme that reaches the goal rank is lifted to
characteristic 0 (:mod:`.lift`) and proven with ``verify``; with ``ring="Z2"`` the mod-2 scheme
itself is reported (labelled Z2 unless it happens to hold over Z).

Options (``search(..., **options)``; the CLI flag in brackets), all recorded, resolved, in provenance:

- ``workers`` [--workers]: independent walkers in processes (default all cores);
- ``ring`` [--ring] "Z" | "Z2"; ``start`` [--start] a scheme file or Scheme; ``init`` [--init];
- ``plateau`` [--plateau]: flips without a reduction before a plus transition;
- ``restart_after`` [--restart-after]: flips without a new best level before a restart from a pool;
  ``grow`` [--grow]: the walks grow at a hard level: one more ``restart_after`` for every ``grow``
  restarts since the last new best level, at most 64 times as long (default 8; 0: fixed length);
- ``pool_size`` [--pool-size]: schemes kept per rank level; ``climb`` [--climb]: how far above
  the best level plus transitions may go;
- ``nicer`` [--nicer N]: nicer results at the goal: after a scheme lifts, try to lift N more distinct
  goal schemes the walk reaches by flips at that rank (lifted or not, so the cost is bounded) and report
  the best lifted one: ZT over Z over Q, then fewer nonzeros; it stops looking after NICER_CHUNKS chunks
  of attempts (default 0: report every lifted scheme at once);
- ``lift_guard`` [--lift-guard K] (goal Z, policy walk): a new best level at most K above the goal rank
  counts only when its scheme lifts (Hensel, as at the goal); one that does not is refused and the walk
  goes back to a scheme of its best level that did.  Over GF(2) a walk drifts into families of schemes
  valid modulo 2 only (<4,4,5> reaches 60 mod 2 from a mod-2 start, and none of 883 schemes at 60-61
  lifts); the guard keeps the last K levels above the goal in liftable families.  Those levels' pools
  then hold only schemes that lifted (default 0: off; not recorded in provenance when 0, so earlier
  records replay unchanged);
- ``checkpoint`` [--checkpoint DIR], ``resume`` [--resume DIR], ``checkpoint_every`` (seconds, 5);
- ``kernel`` [--kernel]: the walk version of :mod:`.flipkernel` (default by shape, see
  :func:`default_kernel`; 1 is the walk before
  versions 2 and 3, which provenance, checkpoints and walker states without the key were made with: replay
  and resume use it for them);
- ``symmetry`` [--symmetry] "none" | "c3" | "s3" | "z6" | "t2" (or ``init="symmetric"``) and ``field`` [--field] 2 | 3:
  the hook for the symmetric and GF(3) searches, which live in their own modules
  (``search.flip_sym.search_symmetric``, ``search.gf3.search_gf3``): when either is asked for,
  :func:`search` hands the whole call to that function (see :data:`DELEGATES`).

Determinism: a walker's decisions depend on counts of kernel attempts, never on the clock.  The
kernel runs in calls that end at multiples of :data:`CHUNK` attempts (or earlier, at a new best
level); between calls the walker updates pools, restarts and lifts.  So a walk is a pure function of
its start state and the number of attempts made, wherever segments of whole chunks begin and end:
:func:`run_segment` is the unit a cluster task runs, and ``workers=1`` with a seed is reproducible;
every walker (``walk`` index w) of a multi-worker search is reproducible on its own.

Checkpoint directory (``checkpoint=DIR`` / ``resume=DIR``; the same layout as the cluster runner's,
:mod:`algodiscover.cluster.checkpoint`; every file is written to a temporary name, flushed and renamed,
so a crash never leaves half a file)::

    DIR/checkpoint.json          {"format": "algodiscover.checkpoint/1", "engine": "flip", "shape", "rank",
                                  "seed", "options" (resolved), "start" (start_record), "version",
                                  "commit", "created", "updated",
                                  "flip": {"walkers": W, "walker_format": "algodiscover.flip-walker/2"}}
    DIR/walkers/walker-NNN.json  walker NNN's state (the ``state`` of :func:`run_segment`), written
                                 every ``checkpoint_every`` seconds at a chunk boundary and at the end
    DIR/schemes/*.json           every proven scheme, in the algodiscover JSON format, when found

A walker state (``"format": "algodiscover.flip-walker/2"``, JSON): ``shape``, ``target``, ``goal``,
``params``, ``walk`` (walker index), ``seed`` (the walker's), ``cap``, ``r``, ``F`` (3 hex strings, 16
hex digits per product: the current scheme), ``rng`` and ``kstate`` (the walker's and the kernel's
generator states), ``counters`` (kernel counters), ``attempts``, ``best``, ``pools`` ({rank: [F...]}),
``tried`` (digests of goal schemes already lifted), ``levels`` ({rank: {"attempts", "flips",
"seconds"}}: when each level was first reached), ``restarts``, ``lifts_failed``, ``lifted_best`` and
the restart bookkeeping.  Resuming re-reads and re-proves ``schemes/`` (yielded again first: nothing
found is lost) and continues every walker from its state.  The GF(3) walk (:mod:`.gf3`) and the symmetric
walks (:mod:`.flip_sym`, ``"walker_format": "algodiscover.flip-sym-walker/1"``: the orbit columns ``cols``,
``pools`` by orbit count, ``levels`` by rank, the counters and generator states) use the same directory
with their own walker files (one per walker, ``walker-00w.json``; ``flip.walkers`` in checkpoint.json counts
them, :mod:`._parallel`); ``options`` in checkpoint.json says which walk resumes (``field``, ``symmetry``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.transform import to_shape
from ..core.verify import verify
from ..errors import AlgoDiscoverError, DeviceError, InternalError, RankError, ReplayError, SchemeError
from . import Budget, Progress
from ._workers import default_workers, receive, start_workers, stop_workers, worker_stop

ENGINE = "flip"
CHUNK = 1 << 17  # kernel attempts per call: fixed, so a seed gives the same walk on any machine
DEFAULTS = {"plateau": 1_000, "restart_after": 100_000, "pool_size": 16, "climb": 1, "nicer": 0, "grow": 8,
            "kernel": 3}
#: the kernel walk a result was found with (``flipkernel.VERSIONS``); provenance and walker states without
#: the key were found with version 1, which replay and resume then use
OLD_KERNEL = 1
KERNEL2_FROM = 100  # m*k*n from which the default kernel is version 2 (see default_kernel)
#: ``policy`` [--policy]: "walk" (one walker at its best level, restarts from its own pools) or "pool"
#: (level-by-level descent from a pool of schemes, see :meth:`Walker._run_pool`), whose unset
#: options default to POOL_DEFAULTS instead (long plateaus and paths, large pools)
POLICIES = ("walk", "pool")
POOL_DEFAULTS = {"plateau": 50_000, "restart_after": 1_000_000, "pool_size": 64}
POOL_SWITCH = 64  # policy "pool": the walk hands over after this many restarts without a new best level (~4e7 flips)
POOL_PATHS = 8  # policy "pool": after POOL_PATHS * pool_size paths at a level, go down with a partial pool
INITS = ("mixed", "standard", "strassen")
WALKER_FORMAT = "algodiscover.flip-walker/2"
CHECKPOINT_FORMAT = "algodiscover.checkpoint/1"
CHECKPOINT_EVERY = 5.0
NICER_CHUNKS = 64  # --nicer stops looking after this many chunks of attempts since its first candidate

#: option name -> the CLI flag that sets it (error messages name flags, not internal names)
FLAGS = {"workers": "--workers", "ring": "--ring", "start": "--start", "init": "--init",
         "plateau": "--plateau", "restart_after": "--restart-after", "pool_size": "--pool-size",
         "climb": "--climb", "nicer": "--nicer", "grow": "--grow", "checkpoint": "--checkpoint", "resume": "--resume",
         "checkpoint_every": "checkpoint_every (API only)", "kernel": "--kernel",
         "symmetry": "--symmetry", "field": "--field", "policy": "--policy",
         "max_weight": "--max-weight", "weight_bias": "--weight-bias", "lift_guard": "--lift-guard",
         "ternary": "--ternary", "lift": "lift (API only)"}
_KNOWN_OPTIONS = set(FLAGS)

#: where searches that are not plain GF(2) walks live: (option, "is it asked for?" given the option's value
#: and ``init``, module, function).  The function gets the whole call: shape, rank and every keyword
#: (seed, budget, device, on_progress, stop, workers, ring, start, init and the remaining options, e.g.
#: ``symmetry``, ``field``, ``cubes``) and returns an iterator of verified Schemes.
DELEGATES = (("symmetry", lambda v, init: v not in (None, "none") or init == "symmetric",
              "algodiscover.search.flip_sym", "search_symmetric"),
             ("field", lambda v, init: v not in (None, 2, "2"), "algodiscover.search.gf3", "search_gf3"))


class _Delegated:
    """The iterator of a delegated walk (symmetric, GF(3)) with the ``stats`` its function keeps (the CLI's
    final message reads best rank and time to each level from it, as from a GF(2) search)."""

    def __init__(self, fn, it):
        self._fn, self._it = fn, it

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def close(self):
        self._it.close()

    @property
    def stats(self) -> dict:
        return getattr(self._fn, "stats", None) or {}

    @property
    def best_above_target(self):
        """The best proven scheme above the rank asked, where the delegated walk keeps one (the GF(3) walks)."""
        return getattr(self._fn, "best_above_target", None)

    @property
    def best_modular(self):
        """The best modular scheme reached (labelled Z3 by ``verify``), where the delegated walk keeps one."""
        return getattr(self._fn, "best_modular", None)


class FlipOptionError(AlgoDiscoverError, ValueError):
    """An option the flip engine does not understand or cannot use."""


# ---------------------------------------------------------------- small helpers
_M64 = (1 << 64) - 1


def _splitmix(x: int) -> tuple[int, int]:
    """One step of splitmix64: (new state, output)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return x, z ^ (z >> 31)


def _hex_rows(F: np.ndarray) -> list[str]:
    return ["".join(format(int(x), "016x") for x in row) for row in np.asarray(F, dtype=np.uint64)]


def _unhex_rows(rows: list[str]) -> np.ndarray:
    r = len(rows[0]) // 16
    F = np.zeros((3, r), dtype=np.uint64)
    for s in range(3):
        F[s] = [int(rows[s][16 * t:16 * t + 16], 16) for t in range(r)]
    return F


def _digest(F: np.ndarray, r: int) -> str:
    """The GF(2) scheme up to the order of its products."""
    cols = F[:, :r].T
    order = np.lexsort(cols.T[::-1])
    return hashlib.blake2b(np.ascontiguousarray(cols[order]).tobytes(), digest_size=12).hexdigest()


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise FlipOptionError(f"{FLAGS.get(name, name)} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _write_json(path: Path, obj) -> None:
    """Write whole, then rename: a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_manifest(ck: Path, manifest: dict | None, **fields) -> None:
    """DIR/checkpoint.json: the resumed run's manifest, or a new one of ``fields`` (shape, rank, seed, options,
    start, version, commit, flip, ...), stamped ``updated`` now."""
    from ..provenance import jsonable
    m = manifest or {"format": CHECKPOINT_FORMAT, "engine": ENGINE, **fields, "created": _now()}
    m["updated"] = _now()
    _write_json(ck / "checkpoint.json", jsonable(m))


def _checkpoint_schemes(ck: Path, rank: int, modular: str) -> list:
    """The schemes of DIR/schemes/, each re-read and re-verified (a file that does not read or verify is
    skipped, never trusted): those valid over Z/Q, or labelled ``modular`` (Z2, Z3) when the run asked for
    that ring, of rank <= ``rank``."""
    from ..formats import load
    out = []
    for f in sorted((ck / "schemes").glob("*.json")):
        try:
            sch = load(f)
        except Exception:  # a file from an older run that does not read: skip, never trust it
            continue
        v = verify(sch, symbolic=False)
        if (v.ok or v.ring == modular) and sch.rank <= rank:
            out.append(sch)
    return out


def _keep_scheme(ck: Path, sch, key: str | None = None) -> None:
    """Write a proven scheme to DIR/schemes/ (a temporary name, then renamed), named by its canonical key."""
    from ..core.canonical import canonical_key
    from ..formats import save
    key = key or canonical_key(sch)
    s = sch.shape
    # a name of this process's own: a parallel run's parent and its walker (or a resumed walker and a dying
    # one of the run it resumes) may keep the same scheme at the same moment, and a shared temporary name made
    # one of them fail ("cannot write ...tmp.json: No such file or directory")
    tmp = ck / "schemes" / f".{key[:16]}.{os.getpid()}-{secrets.token_hex(4)}.tmp.json"
    save(sch, tmp)
    os.replace(tmp, ck / "schemes" / f"{s.m}x{s.k}x{s.n}-r{sch.rank}-{key[:16]}.json")


# ---------------------------------------------------------------- one walker
class Walker:
    """One flip-graph walker whose whole state is JSON (:meth:`state` / :meth:`from_state`).

    :meth:`run` walks ``attempts`` kernel attempts (rounded up to whole chunks) and yields events:
    ``("scheme", (W_a, W_b, W_c), info)`` for a scheme at the goal (lifted, or mod 2 for goal Z2;
    still to be proven by the caller), ``("level", rank, info)`` when a new best rank is reached and
    ``("tick", None, None)`` after every kernel call (the state is then consistent).
    """

    def __init__(self, shape: Shape, target: int, goal: str, params: dict, seed: int, start_bits,
                 walk: int = 0):
        from . import flipkernel as fk
        self.shape = shape
        self.target, self.goal, self.params = int(target), goal, dict(params)
        self.walk, self.seed = int(walk), int(seed)
        F0, r0 = start_bits
        self.cap = int(r0) + 32
        self.F = np.zeros((3, self.cap), dtype=np.uint64)
        self.F[:, :r0] = F0[:, :r0]
        self.r = int(r0)
        self.rng, k = _splitmix(self.seed)
        self.kstate = np.array([k | 1], dtype=np.uint64)
        self.counters = fk.new_counters()
        self.attempts = 0
        self.best = self.r
        self.pools: dict[int, list[np.ndarray]] = {self.r: [self.F[:, :self.r].copy()]}
        self.tried: set[str] = set()
        self.levels: dict[int, dict] = {self.r: {"attempts": 0, "flips": 0, "seconds": 0.0}}
        self.flips_at_best = self.attempts_at_best = 0
        self.unlifted_since_restart = self.restarts = self.lifts_failed = self.stalls = 0
        self.lifted_best: int | None = None
        self.guard_refused = 0  # lift_guard: new levels refused because their scheme did not lift
        self.guard_seen: set[str] = set()  # ... and those schemes (each is lifted once)
        self._guard_lift: tuple | None = None  # (digest, lift) of the last scheme the guard lifted
        self.nicer_best: dict | None = None  # the best lifted goal scheme not yet reported (nicer > 0)
        self.nicer_count = 0
        self.seconds = 0.0  # walking time spent in earlier runs (resumed walks add to it)
        self._ix = None
        # policy "pool": the level whose pool the paths start from, paths begun there, the flip and
        # attempt counts at the current path's start, and whether a new path is due
        # (level None: the first, free descent)
        self.pool = {"level": None, "paths": 0, "flips0": 0, "attempts0": 0, "due": False}

    # -------------------------------------------------- state
    def state(self) -> dict:
        return {"format": WALKER_FORMAT, "shape": list(self.shape), "target": self.target, "goal": self.goal,
                "params": self.params, "walk": self.walk, "seed": self.seed, "cap": self.cap, "r": self.r,
                "F": _hex_rows(self.F[:, :self.r]), "rng": format(self.rng, "x"),
                "kstate": format(int(self.kstate[0]), "x"), "counters": [int(c) for c in self.counters],
                "attempts": self.attempts, "best": self.best,
                "pools": {str(lv): [_hex_rows(s) for s in snaps] for lv, snaps in sorted(self.pools.items())},
                "tried": sorted(self.tried), "levels": {str(k): v for k, v in sorted(self.levels.items())},
                "flips_at_best": self.flips_at_best, "attempts_at_best": self.attempts_at_best,
                "unlifted_since_restart": self.unlifted_since_restart, "restarts": self.restarts,
                "stalls": self.stalls,
                "lifts_failed": self.lifts_failed, "lifted_best": self.lifted_best,
                "guard_refused": self.guard_refused, "guard_seen": sorted(self.guard_seen),
                "nicer_best": self.nicer_best, "nicer_count": self.nicer_count,
                "seconds": round(self.seconds, 3), "pool": dict(self.pool)}

    @classmethod
    def from_state(cls, state: dict) -> "Walker":
        if not isinstance(state, dict) or state.get("format") != WALKER_FORMAT:
            got = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise FlipOptionError(f"not a flip walker state ({got!r} is not {WALKER_FORMAT!r})")
        from . import flipkernel as fk
        w = cls.__new__(cls)
        w.shape = parse_shape(state["shape"])
        w.target, w.goal, w.params = int(state["target"]), state["goal"], dict(state["params"])
        w.walk, w.seed, w.cap, w.r = int(state["walk"]), int(state["seed"]), int(state["cap"]), int(state["r"])
        w.F = np.zeros((3, w.cap), dtype=np.uint64)
        w.F[:, :w.r] = _unhex_rows(state["F"])
        w.rng = int(state["rng"], 16)
        w.kstate = np.array([int(state["kstate"], 16)], dtype=np.uint64)
        w.counters = fk.new_counters()
        w.counters[:len(state["counters"])] = state["counters"]
        w.attempts, w.best = int(state["attempts"]), int(state["best"])
        w.pools = {int(lv): [_unhex_rows(s) for s in snaps] for lv, snaps in state["pools"].items()}
        w.tried = set(state["tried"])
        w.levels = {int(k): dict(v) for k, v in state["levels"].items()}
        for key in ("flips_at_best", "attempts_at_best", "unlifted_since_restart", "restarts", "lifts_failed"):
            setattr(w, key, int(state[key]))
        w.lifted_best = state.get("lifted_best")
        w.guard_refused = int(state.get("guard_refused", 0))
        w.guard_seen = set(state.get("guard_seen", ()))
        w._guard_lift = None
        w.stalls = int(state.get("stalls", 0))
        w.nicer_best = state.get("nicer_best")
        w.nicer_count = int(state.get("nicer_count", 0))
        w.params.setdefault("nicer", 0)
        w.params.setdefault("kernel", OLD_KERNEL)  # a state written before kernel versions: the version-1 walk
        w.params.setdefault("lift", 3)  # a state written before lift versions: version 3, as since 2026-12-01
        w.seconds = float(state.get("seconds", 0.0))
        w._ix = None
        w.pool = dict(state.get("pool") or {"level": None, "paths": 0, "flips0": 0, "attempts0": 0, "due": False})
        return w

    # -------------------------------------------------- random decisions (not the kernel's)
    def _below(self, n: int) -> int:
        self.rng, z = _splitmix(self.rng)
        return (z >> 32) * n >> 32

    def _load(self, snap: np.ndarray) -> None:
        from . import flipkernel as fk
        self.F[:] = 0
        self.r = snap.shape[1]
        self.F[:, :self.r] = snap
        self.counters[fk.SINCE] = 0

    @property
    def _lift_version(self) -> int:
        """The hensel_lift rule of this walk (``lift`` option; see :data:`.lift.LIFT_VERSIONS`)."""
        from .lift import LIFT_VERSION
        return int(self.params.get("lift", LIFT_VERSION))

    def best_modular(self) -> np.ndarray:
        """A scheme of the best level reached (F[:, :best])."""
        return self.pools[self.best][0]

    # -------------------------------------------------- the walk
    def run(self, attempts: int | None, stop: Callable[[], bool] = lambda: False,
            clock: Callable[[], float] = time.monotonic) -> Iterator[tuple]:
        from . import flipkernel as fk
        if self._ix is None:
            self._ix = fk.make_index(self.cap)
        p = self.params
        plateau, restart_after, pool_size, climb = p["plateau"], p["restart_after"], p["pool_size"], p["climb"]
        end = None
        if attempts is not None:
            # segments of whole chunks: end at the first multiple of CHUNK at or after the attempts asked
            want = self.attempts + max(int(attempts), 0)
            end = -(-want // CHUNK) * CHUNK
        t_run = clock()
        secs0 = self.seconds
        pooled = p.get("policy", "walk") == "pool"
        if pooled:
            if self.pool["level"] is not None:
                yield from self._run_pool(end, stop, clock, t_run, secs0)
                return
            # policy "pool" begins with the walk, with the walk's default plateau and restart lengths
            plateau, restart_after = min(plateau, DEFAULTS["plateau"]), min(restart_after, DEFAULTS["restart_after"])
        while (end is None or self.attempts < end) and not stop():
            if pooled and self.stalls >= POOL_SWITCH:  # the walk stalls: the pooled descent from here
                level = min((lv for lv in self.pools if lv >= self.best + 2), default=max(self.pools))
                for lv in self.pools:
                    if lv < level:  # the walk's own schemes there are one family: keep one, the descent refills
                        self.pools[lv] = self.pools[lv][:1]
                self.pool.update(level=level, due=True)
                yield from self._run_pool(end, stop, clock, t_run, secs0)
                return
            if self.r <= self.target:
                yield from self._goal()
            if self.nicer_best is not None and self.attempts - self.nicer_best["since"] >= NICER_CHUNKS * CHUNK:
                yield self._take_nicer()  # few distinct goal schemes around: report the best one so far
            n = CHUNK - self.attempts % CHUNK
            if end is not None:
                n = min(n, end - self.attempts)
            r_before = self.r
            a0 = int(self.counters[fk.ATTEMPTS])
            self.r = fk.walk(self._ix, self.F, self.r, self.best - 1, n, plateau, self.best + climb,
                             self.kstate, self.counters, p.get("kernel", OLD_KERNEL))
            self.attempts += int(self.counters[fk.ATTEMPTS]) - a0
            if int(self.counters[fk.ATTEMPTS]) == a0:  # already at or below the kernel's target
                self.attempts += 1  # (cannot happen: target < best <= r); never loop without progress
            self.seconds = secs0 + clock() - t_run
            if self.r < self.best and self._guarded(self.r) and not self._guard_lifts():
                # lift_guard: this level's scheme is valid modulo 2 only; back to one of the best level that lifted
                src = self.pools[self.best]
                self._load(src[self._below(len(src))])
                yield ("tick", None, None)
                continue
            if self.r < self.best:
                self.best = self.r
                self.stalls = 0
                self.pools[self.r] = [self.F[:, :self.r].copy()]
                for lv in [lv for lv in self.pools if lv > self.best + 3]:
                    del self.pools[lv]  # restarts go at most two levels up
                self.flips_at_best = int(self.counters[fk.FLIPS])
                self.attempts_at_best = self.attempts
                lvl = {"attempts": self.attempts, "flips": int(self.counters[fk.FLIPS]),
                       "seconds": round(self.seconds, 3)}
                self.levels[self.r] = lvl
                yield ("level", self.r, {**lvl, "walk": self.walk})
            elif self.r == self.best and r_before != self.best and not self._guarded(self.best):
                pool = self.pools[self.best]  # (a guarded level's pool holds only the schemes that lifted)
                if len(pool) < pool_size:
                    pool.append(self.F[:, :self.r].copy())
                else:
                    pool[self._below(len(pool))] = self.F[:, :self.r].copy()
            # restart from a pool after restart_after flips without progress (or 20x as many kernel
            # attempts: a scheme with hardly any flips must not trap the walker)
            # walks grow at a hard level: one more restart_after for every `grow` restarts without a new best
            grow = p.get("grow", 8)
            patience = restart_after * min(64, 1 + self.stalls // grow) if grow else restart_after
            if (int(self.counters[fk.FLIPS]) - self.flips_at_best >= patience
                    or self.attempts - self.attempts_at_best >= 20 * patience
                    or self.unlifted_since_restart >= 4):
                # schemes that do not lift come in flip-connected families: after a few, go back one or
                # two levels up; otherwise restart at the best level or one above it
                up = 1 + self._below(2) if self.unlifted_since_restart >= 4 else self._below(2)
                level = min((lv for lv in self.pools if lv >= self.best + up), default=self.best)
                src = self.pools[level]
                self.unlifted_since_restart = 0
                self._load(src[self._below(len(src))])
                self.flips_at_best = int(self.counters[fk.FLIPS])
                self.attempts_at_best = self.attempts
                self.restarts += 1
                self.stalls += 1
            yield ("tick", None, None)
        if self.nicer_best is not None and stop():  # ending: report the best candidate found so far
            yield self._take_nicer()

    def _run_pool(self, end, stop, clock, t_run, secs0) -> Iterator[tuple]:
        """Policy "pool": descent level by level from a pool of schemes (Kauers & Moosbauer's pools,
        Arai et al.'s plus transitions).  At level L, each *path* starts from a scheme drawn at random
        from ``pools[L]`` and walks (a plus transition after ``plateau`` flips without a reduction, at
        most ``climb`` above L) until it reaches a rank below L (the scheme joins the pool of its rank)
        or has made ``restart_after`` flips.  When the pools below L hold ``pool_size`` schemes (or after
        POOL_PATHS * pool_size paths, if they hold any), the descent moves to the highest level below L.
        Many independent descents from one level give the next level diverse schemes, where one walker
        keeps circling one family.  The descent begins with the walk of :meth:`run` (its default plateau
        and restart lengths: quick at the easy levels, and away from a rigid start such as the standard
        algorithm, which paths would each pay for leaving) until POOL_SWITCH restarts bring no new best
        level; the pooled descent then starts two levels above the best the walk reached, the walk's
        pools below that level cut to their first scheme each (one family; the paths refill them).  The decisions depend on attempt counts only."""
        from . import flipkernel as fk
        p = self.params
        plateau, path_len, pool_size, climb = p["plateau"], p["restart_after"], p["pool_size"], p["climb"]
        st = self.pool
        while (end is None or self.attempts < end) and not stop():
            if self.r <= self.target:
                yield from self._goal()
            if self.nicer_best is not None and self.attempts - self.nicer_best["since"] >= NICER_CHUNKS * CHUNK:
                yield self._take_nicer()
            level = st["level"]
            if st["due"]:
                below = sum(len(v) for lv, v in self.pools.items() if lv < level)
                if below >= pool_size or (below and st["paths"] >= POOL_PATHS * pool_size):
                    level = st["level"] = max(lv for lv, v in self.pools.items() if lv < level and v)
                    st["paths"] = 0
                    for lv in [lv for lv in self.pools if lv > level + 2]:
                        del self.pools[lv]  # the pools above stay for the best-above-target lift
                src = self.pools[level]
                self._load(src[self._below(len(src))])
                st.update(paths=st["paths"] + 1, flips0=int(self.counters[fk.FLIPS]), attempts0=self.attempts,
                          due=False)
                self.restarts += 1
            n = CHUNK - self.attempts % CHUNK
            if end is not None:
                n = min(n, end - self.attempts)
            a0 = int(self.counters[fk.ATTEMPTS])
            self.r = fk.walk(self._ix, self.F, self.r, level - 1, n, plateau, level + climb, self.kstate, self.counters)
            self.attempts += int(self.counters[fk.ATTEMPTS]) - a0
            if int(self.counters[fk.ATTEMPTS]) == a0:
                self.attempts += 1  # (cannot happen: a path starts at L and stops below it); never loop idle
            self.seconds = secs0 + clock() - t_run
            if self.r < level:
                pool = self.pools.setdefault(self.r, [])
                if len(pool) < pool_size:
                    pool.append(self.F[:, :self.r].copy())
                else:
                    pool[self._below(len(pool))] = self.F[:, :self.r].copy()
                st["due"] = True
                if self.r < self.best:
                    self.best = self.r
                    lvl = {"attempts": self.attempts, "flips": int(self.counters[fk.FLIPS]),
                           "seconds": round(self.seconds, 3)}
                    self.levels[self.r] = lvl
                    yield ("level", self.r, {**lvl, "walk": self.walk})
            elif (int(self.counters[fk.FLIPS]) - st["flips0"] >= path_len
                  or self.attempts - st["attempts0"] - (int(self.counters[fk.FLIPS]) - st["flips0"]) >= path_len):
                st["due"] = True  # path_len flips, or as many attempts without a flip (a scheme with no flips)
            yield ("tick", None, None)
        if self.nicer_best is not None and stop():
            yield self._take_nicer()

    def _goal(self) -> Iterator[tuple]:
        """At or below the goal rank: report the scheme mod 2, or try to lift it (once per distinct scheme)."""
        from . import flipkernel as fk
        from .lift import hensel_lift
        p = self.params
        key = _digest(self.F, self.r)
        if key not in self.tried:
            # a new scheme at the goal: report it mod 2, or try to lift it
            self.tried.add(key)
            a, b, c = _factors(self.shape, self.F, self.r)
            info = self._info()
            if self.goal == "Z2":
                yield ("scheme", (a, b, c.T.copy()), info)
            else:
                g = self._guard_lift
                res = g[1] if g is not None and g[0] == key else hensel_lift(self.shape, a, b, c, version=self._lift_version)
                if res is None and self.nicer_best is not None:
                    self.nicer_count += 1  # a distinct goal scheme tried (it did not lift)
                    if self.nicer_count > p["nicer"]:
                        yield self._take_nicer()
                if res is not None:
                    if self.lifted_best is None or self.r < self.lifted_best:
                        self.lifted_best = self.r
                    if not p.get("nicer"):
                        yield ("scheme", res, info)
                    else:
                        score = _nice_score(res)
                        if self.nicer_best is None or score < tuple(self.nicer_best["score"]):
                            since = self.nicer_best["since"] if self.nicer_best else self.attempts
                            self.nicer_best = {"F": _hex_rows(self.F[:, :self.r]), "score": list(score),
                                               "info": {**info, "nicer_tried": self.nicer_count + 1},
                                               "since": since}
                        self.nicer_count += 1
                        if self.nicer_count > p["nicer"]:
                            yield self._take_nicer()
                else:
                    self.lifts_failed += 1
                    self.unlifted_since_restart += 1
            self.flips_at_best = int(self.counters[fk.FLIPS])
            self.attempts_at_best = self.attempts

    def _guarded(self, r: int) -> bool:
        """Whether a new best level r must lift (``lift_guard``: goal Z, r at most K above the goal)."""
        k = self.params.get("lift_guard", 0)
        return bool(k) and self.goal == "Z" and r <= self.target + k

    def _guard_lifts(self) -> bool:
        """lift_guard: whether the current scheme lifts (Hensel, as at the goal); a refusal is counted."""
        from .lift import hensel_lift
        key = _digest(self.F, self.r)
        if key in self.guard_seen:
            res = None  # refused before (the same scheme reached again)
        else:
            a, b, c = _factors(self.shape, self.F, self.r)
            res = hensel_lift(self.shape, a, b, c, version=self._lift_version)
            if res is None:
                self.guard_seen.add(key)
                self.lifts_failed += 1
        if res is None:
            self.guard_refused += 1
            return False
        self._guard_lift = (key, res)
        return True

    def _take_nicer(self) -> tuple:
        """The best lifted goal scheme collected so far (lifted again from its mod-2 form: deterministic)."""
        from .lift import hensel_lift
        F = _unhex_rows(self.nicer_best["F"])
        a, b, c = _factors(self.shape, F, F.shape[1])
        info = dict(self.nicer_best["info"])
        info["nicer_tried"] = self.nicer_count
        info["attempts"] = self.attempts  # reported now: a replay must walk this far
        self.nicer_best, self.nicer_count = None, 0
        return ("scheme", hensel_lift(self.shape, a, b, c, version=self._lift_version), info)

    def _info(self) -> dict:
        from . import flipkernel as fk
        return {"walk": self.walk, "worker_seed": self.seed, "attempts": self.attempts,
                "flips": int(self.counters[fk.FLIPS]), "restarts": self.restarts, "rank_mod2": self.r,
                "seconds_walked": round(self.seconds, 3)}

    def progress(self) -> dict:
        from . import flipkernel as fk
        return {"walk": self.walk, "rank": self.best, "current": self.r, "flips": int(self.counters[fk.FLIPS]),
                "attempts": self.attempts, "reductions": int(self.counters[fk.REMOVED]),
                "plus": int(self.counters[fk.PLUS]), "restarts": self.restarts, "lifts_failed": self.lifts_failed,
                "guard_refused": self.guard_refused, "lifted_best": self.lifted_best,
                "pool": len(self.pools.get(self.best, [])),
                "seconds": self.seconds, "levels": {k: v["seconds"] for k, v in self.levels.items()}}


_RING_ORDER = {"ZT": 0, "Z": 1, "Q": 2}


def _nice_score(mats) -> tuple[int, int]:
    """(ring: 0 ZT, 1 Z, 2 Q; nonzeros): smaller is nicer."""
    from fractions import Fraction
    ring = 0
    nnz = 0
    for W in mats:
        for x in np.asarray(W).ravel():
            if x != 0:
                nnz += 1
                if isinstance(x, Fraction) and x.denominator != 1:
                    ring = 2
                elif abs(x) > 1 and ring < 1:
                    ring = 1
    return ring, nnz


def _factors(shape: Shape, F: np.ndarray, r: int):
    from .gf2 import bits_to_factors
    return bits_to_factors(shape, F, r)


# ---------------------------------------------------------------- option handling
def _found_by_toolkit(scheme: Scheme) -> bool:
    prov = scheme.provenance or {}
    return prov.get("engine") in ("flip", "spn", "cluster") and not (prov.get("start") or {}).get("published", False)


def _resolve_start(start, shape: Shape, recorded_move: str | None = None):
    """(scheme or None, start_record).  ``recorded_move``: the moves a start record names (a replay or a resume):
    re-applied exactly (flip_moves.apply_moves) instead of searching for the best move again."""
    from ..provenance import start_record
    if start is None:
        return None, None
    kind = "file"
    if isinstance(start, Scheme):
        scheme, source = start, "scheme"
    elif isinstance(start, str) and (start == "catalog" or start.startswith("catalog:")):
        scheme, source = _from_catalog(start, shape)
        kind = "catalog"
    elif isinstance(start, (str, os.PathLike)):
        from ..formats import load
        scheme, source = load(Path(start)), str(start)
    else:
        raise FlipOptionError(f"--start must be a scheme file or a Scheme, got {type(start).__name__}")
    v = verify(scheme, symbolic=False)
    if not (v.ok or v.ring == "Z2"):
        raise SchemeError(f"the start scheme is {v.ring}: it must be valid (at least modulo 2)")
    move = None
    if tuple(scheme.shape) != tuple(shape):
        if sorted(scheme.shape) != sorted(shape):
            from .flip_moves import apply_moves, move_to
            if recorded_move is not None:
                moved = apply_moves(scheme, recorded_move), recorded_move
                if tuple(moved[0].shape) != tuple(shape):
                    raise SchemeError(f"the recorded move {recorded_move!r} gives {moved[0].shape.angle()}, not {shape.angle()}")
            else:
                moved = move_to(scheme, shape, steps=2)
            if moved is None:
                raise SchemeError(f"the start scheme is for {scheme.shape.angle()}, not {shape.angle()} "
                                  f"(nor a shape one or two moves away: each move makes one dimension one "
                                  f"more or one less)")
            published = not _found_by_toolkit(scheme)
            src_rank = scheme.rank
            scheme, move = moved
            v = verify(scheme, symbolic=False)
            if not (v.ok or v.ring == "Z2"):  # pragma: no cover - the moves are exact
                raise SchemeError(f"the move {move} gave an invalid scheme")
            rec = start_record(kind, source, published=published)
            rec["move"] = move
            return scheme, _with_origin(rec, scheme, src_rank)
        scheme = to_shape(scheme, shape)
    return scheme, _with_origin(start_record(kind, source, published=not _found_by_toolkit(scheme)), scheme)


def _with_origin(rec: dict, scheme: Scheme, rank: int | None = None) -> dict:
    """The start record plus ``origin`` (what produced the start scheme: provenance.origin_record) when
    this toolkit found it, so the chain of searches behind a result can be read from the result alone."""
    from ..provenance import origin_record
    if not rec.get("published"):
        o = origin_record(scheme.provenance, rank=scheme.rank if rank is None else rank)
        if o:
            rec["origin"] = o
    return rec


def _from_catalog(start: str, shape: Shape):
    """``catalog:ID`` (that entry) or ``catalog`` (the lowest-rank entry of the shape, else of a neighbouring
    shape), from the catalogue at $ALGODISCOVER_DB or the default path.  Only schemes this toolkit found
    may start a walk: imported or published ones are refused."""
    from ..catalog import Catalog
    with Catalog(None, readonly=True) as cat:
        if start.startswith("catalog:"):
            try:
                eid = int(start.split(":", 1)[1])
            except ValueError:
                raise FlipOptionError(f"--start {start}: expected catalog or catalog:ID with an integer ID") from None
            e = cat.get(eid)
            if e is None:
                raise FlipOptionError(f"--start {start}: no catalogue entry {eid} in {cat.path}")
            sch = e.scheme()
            if not _found_by_toolkit(sch):
                raise FlipOptionError(f"--start {start}: entry {eid} was imported ({e.engine or 'no engine'}), "
                                      f"not found by this toolkit; start from a file instead (it is then recorded "
                                      f"as published)")
            return sch, f"{cat.path}#{eid}"
        m, k, n = shape
        near = [tuple(shape)] + [tuple(d + (1 if i == a else 0) * sgn for i, d in enumerate(shape))
                                 for a in range(3) for sgn in (-1, 1)]
        for sh in near:
            if min(sh) < 1:
                continue
            for e in cat.entries(shape=sh, with_data=True):
                sch = e.scheme()
                if _found_by_toolkit(sch):
                    return sch, f"{cat.path}#{e.id}"
    raise FlipOptionError(f"--start catalog: no scheme found by this toolkit for {shape.angle()} or a neighbouring "
                          f"shape in the catalogue")


def resolve_options(shape: Shape, rank: int, *, ring=None, init=None, workers=None, **options) -> dict:
    """Every walk option resolved (defaults filled in), as recorded in provenance."""
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise FlipOptionError(f"unknown option(s) for the flip engine: {', '.join(sorted(unknown))}; "
                              f"the flip engine's flags are {', '.join(sorted(set(FLAGS.values())))}")
    goal = "Z" if ring is None else str(ring).upper()
    if goal not in ("Z", "Z2"):
        raise FlipOptionError(f"--ring must be Z or Z2 for the flip engine, got {ring!r}")
    out = {"ring": goal}
    policy = "walk" if options.get("policy") is None else str(options["policy"])
    if policy not in POLICIES:
        raise FlipOptionError(f"--policy must be one of {', '.join(POLICIES)}, got {options.get('policy')!r}")
    defaults = {**DEFAULTS, **POOL_DEFAULTS} if policy == "pool" else DEFAULTS
    for name, default in defaults.items():
        v = options.get(name)
        out[name] = default if v is None else _check_int(name, v, 0 if name in ("climb", "nicer", "grow") else 1)
    out["policy"] = policy
    guard = options.get("lift_guard")
    if guard not in (None, 0):
        guard = _check_int("lift_guard", guard, 0)
        if goal != "Z":
            raise FlipOptionError("--lift-guard keeps the walk in schemes that lift to the integers: it needs --ring Z")
        if policy != "walk":
            raise FlipOptionError("--lift-guard applies to --policy walk only")
        out["lift_guard"] = guard  # recorded only when on: records without it replay the unguarded walk
    if options.get("kernel") is None:
        out["kernel"] = default_kernel(shape)
    if out["kernel"] not in fk_versions():
        raise FlipOptionError(f"kernel must be one of {', '.join(map(str, fk_versions()))}, got {out['kernel']}")
    from .lift import LIFT_VERSION, LIFT_VERSIONS
    out["lift"] = LIFT_VERSION if options.get("lift") is None else options["lift"]
    if out["lift"] not in LIFT_VERSIONS:
        raise FlipOptionError(f"lift must be one of {', '.join(map(str, LIFT_VERSIONS))}, got {out['lift']!r}")
    out["init"] = "mixed" if init is None else str(init)
    if out["init"] not in INITS:
        raise FlipOptionError(f"--init must be one of {', '.join(INITS)}, got {init!r}")
    out["workers"] = default_workers(shape) if workers is None else _check_int("workers", workers, 1)
    out["chunk"] = CHUNK
    return out


def _start_bits(s: Shape, init: str, start_scheme, n_workers: int):
    from . import gf2
    if start_scheme is None:
        std = gf2.standard_bits(s)
        blk = gf2.strassen_block_bits(s) if init != "standard" else None
        return [blk if init == "strassen" or (init == "mixed" and w % 2 == 1) else std for w in range(n_workers)]
    bits = gf2.scheme_to_bits(start_scheme)
    if not gf2.is_valid_mod2(s, *bits):
        raise SchemeError("the start scheme is not valid modulo 2")
    return [bits] * n_workers


def _walker_seeds(seed: int, n: int) -> list[int]:
    return [int(x) for x in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64) >> np.uint64(1)]


def default_kernel(shape: Shape) -> int:
    """The kernel walk used when none is asked for: version 2 (every attempt a move) for shapes with
    m*k*n >= KERNEL2_FROM (measured, one seed each, 300 s, <5,5,5> from the standard algorithm: 102 mod 2
    with version 2, 107 with version 3, 115 with version 1), version 1 below (<4,4,4>:49 mod 2 from the
    standard algorithm was reached by more seeds with version 1 than with 2 or 3, and version 2 finds
    new goal schemes of <2,2,2> slowly); benchmarks/results/flip-versions*.md, flip-555-descent.md."""
    return 2 if shape.m * shape.k * shape.n >= KERNEL2_FROM else 1


def fk_versions() -> tuple:
    from .flipkernel import VERSIONS
    return VERSIONS


def _params(opts: dict) -> dict:
    from .lift import LIFT_VERSION
    out = {k: opts[k] for k in DEFAULTS}
    out["lift"] = opts.get("lift", LIFT_VERSION)
    if opts.get("policy", "walk") != "walk":  # older walker states and provenance have no policy: "walk"
        out["policy"] = opts["policy"]
    if opts.get("lift_guard"):  # (absent when off, as in older states)
        out["lift_guard"] = opts["lift_guard"]
    return out


# ---------------------------------------------------------------- run_segment: the cluster's unit
def run_segment(shape, rank: int, *, state: dict | None, attempts: int, seed: int | None = None,
                options: dict | None = None, stop: Callable[[], bool] | None = None) -> tuple[list[Scheme], dict]:
    """One segment of a flip walk: ``attempts`` kernel attempts (rounded up to whole chunks of
    :data:`CHUNK`), deterministic given its inputs.

    ``state=None`` starts walk ``options.get("walk", 0)`` of a search with this ``seed`` (required
    then) from ``options["init"]`` / ``options["start"]``, exactly as walker w of :func:`search` does;
    otherwise ``state`` (a walker state, JSON-able, as returned before or read from a checkpoint's
    ``walkers/``) is continued and ``seed`` is ignored.  Returns (the schemes reached at the goal,
    verified, rank <= ``rank``, each with provenance; the new state).  Two segments of a and b whole
    chunks give the same walk as one of a + b.  ``stop``: looked at between kernel calls; when it
    returns True the segment ends there (at a whole chunk: the state returned continues the same walk).
    """
    from ..provenance import search_record, start_record
    s = parse_shape(shape)
    opts = dict(options or {})
    walk = int(opts.pop("walk", 0))
    start = opts.pop("start", None)
    start_move = opts.pop("start_move", None)  # a replay: the moves its start record names
    if state is None:
        if seed is None:
            raise FlipOptionError("run_segment needs a seed to start a new walk (state=None)")
        res = resolve_options(s, rank, **opts)
        start_scheme, srec = _resolve_start(start, s, start_move)
        bits = _start_bits(s, res["init"], start_scheme, walk + 1)[walk]
        w = Walker(s, rank, res["ring"], _params(res), _walker_seeds(int(seed), walk + 1)[walk], bits, walk)
    else:
        w = Walker.from_state(state)
        res = resolve_options(s, rank, **{**opts, "ring": w.goal, **w.params})
        srec = None
    if srec is None:
        srec = start_record("file", str(start), published=True) if start is not None else \
            start_record("standard" if res["init"] == "standard" else res["init"])
    from .gf2 import warm_up  # noqa: F401  (loads numba)
    rec = search_record(ENGINE, options=res, seed=seed, workers=res["workers"], start=srec, shape=list(s),
                        rank_asked=int(rank))
    found = []
    for ev in (w.run(int(attempts)) if stop is None else w.run(int(attempts), stop)):
        if ev[0] == "scheme":
            sch = _prove(s, ev[1], w.goal, rec, ev[2], w.seconds)
            if sch is not None and sch.rank <= rank:
                found.append(sch)
    return found, w.state()


def _prove(s: Shape, mats, goal: str, rec: dict, info: dict, seconds: float) -> Scheme | None:
    from ..provenance import result_record
    Wa, Wb, Wc = mats
    parts = ["flip", "reduction"] + (["lift"] if goal == "Z" else [])
    prov = result_record(rec, completed_by=parts, seconds=seconds, restart=info["walk"], walk=info["walk"],
                         attempts=info["attempts"], flips=info["flips"], walk_restarts=info["restarts"],
                         worker_seed=info["worker_seed"], **({"nicer_tried": info["nicer_tried"]}
                                                             if "nicer_tried" in info else {}),
                         method="flip-graph GF(2)" + (" + Hensel lifting" if goal == "Z" else ""))
    sch = Scheme(s, Wa, Wb, Wc, provenance=prov)
    v = verify(sch, symbolic=False)
    if goal == "Z" and v.ok and v.ring == "Q":
        # a lift with fractions may be one per-product rescaling away from an integer scheme (as for the GF(3)
        # walk's lifts): keep the rescaled one when it is nicer.  Only Q lifts are touched, so the recorded
        # ZT/Z results replay to the same scheme.
        from .gf3 import niceness, normalise_products
        alt = Scheme(s, *normalise_products(Wa, Wb, Wc), provenance={**prov, "normalised": True})
        va = verify(alt, symbolic=False)
        if va.ok and niceness(alt, va.ring) < niceness(sch, v.ring):
            return alt
    if v.ok or (goal == "Z2" and v.ring == "Z2"):
        return sch
    return None


# ---------------------------------------------------------------- worker processes
def _worker_main(args, out_queue, stop_event):
    """Entry point of a worker process: run one walker and send its events to the parent."""
    stop = worker_stop(stop_event)
    walker_state, ck_dir, every = args
    w = Walker.from_state(walker_state)
    try:
        for ev in _drive(w, stop, ck_dir, every):
            out_queue.put(ev)
    except Exception as e:  # report, never hang the parent
        import traceback
        out_queue.put(("error", f"{type(e).__name__}: {e}", w.walk, traceback.format_exc()))
    out_queue.put(("done", w.walk))


def _drive(w: Walker, stop, ck_dir: str | None, every: float) -> Iterator[tuple]:
    """Run a walker without bound; yield its scheme/level events and a progress event twice a second;
    write its checkpoint file every ``every`` seconds at a chunk boundary, and when it ends."""
    t_report = t_ck = time.monotonic()
    flips_report = 0
    path = Path(ck_dir) / "walkers" / f"walker-{w.walk:03d}.json" if ck_dir else None
    try:
        for ev in w.run(None, stop):
            if ev[0] != "tick":
                yield ev
                continue
            now = time.monotonic()
            if path is not None and now - t_ck >= every and w.attempts % CHUNK == 0:
                _write_json(path, w.state())
                t_ck = now
            if now - t_report >= 0.5:
                pr = w.progress()
                pr["flips/s"] = (pr["flips"] - flips_report) / max(now - t_report, 1e-9)
                flips_report = pr["flips"]
                t_report = now
                yield ("progress", pr)
    finally:
        if path is not None:
            _write_json(path, w.state())
    pr = w.progress()
    pr["flips/s"] = 0.0
    yield ("progress", pr)


# ---------------------------------------------------------------- the engine
class FlipSearch:
    """The iterator :func:`search` returns: proven schemes of rank <= the rank asked, deduplicated.

    Attributes, filled while it runs and final when it is exhausted:

    - ``stats``: ``restarts_done`` (walk restarts), ``restarts_proven``, ``proven``, ``flips``, ``attempts``,
      ``walks``, ``best_rank`` (mod 2), ``best_lifted`` (lowest rank proven over Z, or None), ``levels``
      ({rank: seconds to first reach it}), ``flips_per_s``;
    - ``best_above_target``: when no scheme of the rank asked was proven, the best proven scheme the
      walks passed on the way (lifted from a pool scheme of the lowest level that lifts), with
      ``target_rank`` and ``above_target: true`` in provenance; else None;
    - ``best_modular``: the best mod-2 scheme reached (a Scheme labelled Z2 by ``verify``), or None.
    """

    def __init__(self, gen_factory):
        self.stats: dict = {"restarts_done": 0, "restarts_proven": 0, "proven": 0, "flips": 0}
        self.best_above_target: Scheme | None = None
        self.best_modular: Scheme | None = None
        self._gen = gen_factory(self)

    def __iter__(self):
        return self

    def __next__(self) -> Scheme:
        return next(self._gen)

    def close(self):
        self._gen.close()


def search(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None, device: str = "cpu",
           on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
           workers: int | None = None, ring: str | None = None, start=None, init: str | None = None,
           **options) -> FlipSearch:
    """Yield schemes of rank <= ``rank`` for ``shape`` that passed exact verification (see the module doc)."""
    if options.get("resume") is not None and options.get("field") is None:
        options["field"] = _checkpoint_field(options["resume"])  # a GF(3) checkpoint resumes the GF(3) walk
    if options.get("resume") is not None:
        sym = (checkpoint_manifest(options["resume"]).get("options") or {}).get("symmetry")
        asked = options.get("symmetry")
        if asked not in (None, "none") and sym not in (None, "none") and asked != sym:
            raise FlipOptionError(f"the checkpoint in {options['resume']} is a --symmetry {sym} walk, not {asked}; "
                                  f"resume it without --symmetry")
        if asked in (None, "none") and sym not in (None, "none"):  # a symmetric checkpoint resumes that walk
            options["symmetry"], init = sym, "symmetric"
    weights = [FLAGS[k] for k in ("max_weight", "weight_bias", "ternary")
               if options.get(k) not in (None, 0, 0.0, False)]
    if weights and options.get("field") in (None, 2, "2"):
        raise FlipOptionError(f"{' and '.join(weights)} {'apply' if len(weights) > 1 else 'applies'} to the GF(3) "
                              f"walk only (add --field 3)")
    if options.get("field") in (None, 2, "2"):
        for k in ("max_weight", "weight_bias", "ternary"):
            options.pop(k, None)
    if options.get("lift_guard") in (None, 0):
        options.pop("lift_guard", None)
    elif any(asked(options.get(name), init) for name, asked, *_ in DELEGATES):
        raise FlipOptionError("--lift-guard applies to the GF(2) walk without --symmetry or --field 3")
    for name, asked, module, function in DELEGATES:
        if asked(options.get(name), init):
            import importlib
            try:
                fn = getattr(importlib.import_module(module), function)
            except (ImportError, AttributeError):
                raise FlipOptionError(f"{FLAGS[name]} {options.get(name)}: not available in this version "
                                      f"({module}.{function} is missing)") from None
            return _Delegated(fn, fn(shape, rank, seed=seed, budget=budget, device=device, on_progress=on_progress,
                                     stop=stop, workers=workers, ring=ring, start=start, init=init, **options))
    for name, *_ in DELEGATES:  # their default values select this module: nothing to pass on
        options.pop(name, None)
    if device is not None and str(device).strip().lower() != "cpu":
        raise DeviceError(f"the flip engine runs on the CPU only; got device {device!r} (use --device cpu)")
    s = parse_shape(shape)
    from .gf2 import check_shape
    check_shape(s)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    rank = int(rank)
    ck_dir = options.pop("checkpoint", None)
    resume = options.pop("resume", None)
    every = float(options.pop("checkpoint_every", None) or CHECKPOINT_EVERY)
    if ck_dir is not None and resume is not None and Path(ck_dir) != Path(resume):
        raise FlipOptionError("give --checkpoint DIR to start a run or --resume DIR to continue one, not both")
    manifest = None
    if resume is not None:
        manifest = _read_manifest(Path(resume), s, rank)
        ck_dir = str(resume)
        seed = manifest["seed"]
        opts = dict(manifest["options"])
        opts.setdefault("kernel", OLD_KERNEL)  # a checkpoint written before kernel versions
        workers = opts["workers"]
    else:
        if seed is None:
            import secrets
            seed = secrets.randbits(62)
        seed = _check_int("seed", seed, 0)
        opts = resolve_options(s, rank, ring=ring, init=init, workers=workers, **options)
    budget = budget or Budget()
    stop = stop or (lambda: False)
    return FlipSearch(lambda fs: _search_gen(fs, s, rank, seed, budget, on_progress, stop, opts, start,
                                            ck_dir, manifest, every))


def checkpoint_manifest(d) -> dict:
    """DIR/checkpoint.json as a dict, or {} when it is absent or unreadable (for peeking at a recorded
    option before the run; :func:`_read_manifest` is the checked read that says what is wrong)."""
    try:
        m = json.loads((Path(d) / "checkpoint.json").read_text())
    except (OSError, ValueError):
        return {}
    return m if isinstance(m, dict) else {}


def _checkpoint_field(d) -> int | None:
    """The ``field`` option recorded in DIR/checkpoint.json (None when absent or unreadable)."""
    opts = checkpoint_manifest(d).get("options")
    return opts.get("field") if isinstance(opts, dict) else None


def _read_manifest(d: Path, s: Shape, rank: int) -> dict:
    f = d / "checkpoint.json"
    try:
        m = json.loads(f.read_text())
    except FileNotFoundError:
        raise FlipOptionError(f"{d} holds no checkpoint (checkpoint.json missing); start one with --checkpoint {d}") from None
    except (OSError, ValueError) as e:
        raise FlipOptionError(f"cannot read the checkpoint {f}: {e}") from None
    if not isinstance(m, dict) or m.get("format") != CHECKPOINT_FORMAT or m.get("engine") != ENGINE:
        raise FlipOptionError(f"{f} is not a flip-engine checkpoint")
    if tuple(m["shape"]) != tuple(s) or int(m["rank"]) != rank:
        raise FlipOptionError(f"the checkpoint in {d} is for {tuple(m['shape'])} rank {m['rank']}, "
                              f"not {tuple(s)} rank {rank}; resume it with the same --shape and --rank")
    return m


def _search_gen(fs: FlipSearch, s: Shape, rank: int, seed: int, budget: Budget, on_progress, stop, opts: dict,
                start, ck_dir, manifest, every):
    from ..core.canonical import canonical_key
    from ..provenance import search_record, start_record
    from . import flipkernel as fk
    from . import gf2
    n_workers = opts["workers"]
    goal = opts["ring"]
    if manifest is not None:
        srec = manifest["start"]
        start_scheme = None
        if srec and srec.get("kind") == "file":
            start_scheme, _ = (_resolve_start(srec["source"], s, srec.get("move"))
                               if srec.get("source") not in (None, "scheme") else (None, None))
    else:
        start_scheme, srec = _resolve_start(start, s)
        if srec is None:
            srec = start_record(opts["init"])
    compile_s = gf2.warm_up() + fk.warm_up()
    rec = search_record(ENGINE, strategy=None, options=opts, seed=seed, workers=n_workers, device="cpu",
                        start=srec, shape=list(s), rank_asked=rank, compile_seconds=round(compile_s, 3))
    t0 = budget.started
    seen: set[str] = set()
    proven_walks: set[int] = set()
    walkers: list[Walker] = []
    ck = Path(ck_dir) if ck_dir else None
    resumed: list[Scheme] = []
    if ck is not None:
        (ck / "walkers").mkdir(parents=True, exist_ok=True)
        (ck / "schemes").mkdir(exist_ok=True)
    if manifest is not None:
        for w in range(n_workers):
            f = ck / "walkers" / f"walker-{w:03d}.json"
            if f.exists():
                walkers.append(Walker.from_state(json.loads(f.read_text())))
            else:
                walkers.append(None)
        resumed = _checkpoint_schemes(ck, rank, "Z2" if goal == "Z2" else None)
    if manifest is None or any(w is None for w in walkers):
        bits = _start_bits(s, opts["init"], start_scheme, n_workers)
        seeds = _walker_seeds(seed, n_workers)
        fresh = [Walker(s, rank, goal, _params(opts), seeds[w], bits[w], w) for w in range(n_workers)]
        walkers = fresh if manifest is None else [w if w is not None else fresh[i] for i, w in enumerate(walkers)]
    if ck is not None:
        _write_manifest(ck, manifest, shape=list(s), rank=rank, seed=seed, options=opts, start=srec,
                        version=rec.get("version"), commit=rec.get("commit"),
                        flip={"walkers": n_workers, "walker_format": WALKER_FORMAT})

    state = {w.walk: w.progress() for w in walkers}
    base_restarts = sum(w.restarts for w in walkers)
    fs.stats.update({"walks": n_workers, "seed": seed})

    def totals():
        fl = sum(d["flips"] for d in state.values())
        best = min(d["rank"] for d in state.values())
        lifted = [d["lifted_best"] for d in state.values() if d.get("lifted_best") is not None]
        levels: dict[int, float] = {}
        for d in state.values():
            for lv, sec in d["levels"].items():
                lv = int(lv)
                levels[lv] = min(levels.get(lv, sec), sec)
        restarts = sum(d["restarts"] for d in state.values())
        fs.stats.update({"restarts_done": restarts, "flips": fl, "attempts": sum(d["attempts"] for d in state.values()),
                         "best_rank": best, "best_lifted": min(lifted) if lifted else None,
                         "levels": dict(sorted(levels.items(), reverse=True)),
                         "flips_per_s": sum(d.get("flips/s", 0.0) for d in state.values())})
        return fs.stats

    def report():
        if on_progress is None:
            return
        st = totals()
        el = budget.elapsed()
        lv = st["levels"]
        shown = ", ".join(f"{k}: {v:.1f}s" for k, v in list(lv.items())[-4:])
        on_progress(Progress(engine=ENGINE, restarts_done=st["restarts_done"], unit="walks", proven=st["proven"],
                             elapsed=el, best_rank=st["best_rank"], best_residual=None,
                             rate=(st["restarts_done"] - base_restarts) / el if el > 0 else None,
                             extra={"flips/s": f"{st['flips_per_s']:.3g}", "rank mod 2": st["best_rank"],
                                    "best lifted": st["best_lifted"] if st["best_lifted"] is not None else "none yet",
                                    "levels": shown}))

    def make(mats, info):
        sch = _prove(s, mats, goal, rec, info, time.monotonic() - t0)
        if sch is None or sch.rank > rank:
            return None
        key = canonical_key(sch)
        if key in seen:
            return None
        seen.add(key)
        fs.stats["proven"] += 1
        proven_walks.add(info["walk"])
        fs.stats["restarts_proven"] = len(proven_walks)
        if ck is not None:
            _keep_scheme(ck, sch, key)
        return sch

    for sch in resumed:
        key = canonical_key(sch)
        if key not in seen:
            seen.add(key)
            fs.stats["proven"] += 1
            yield sch

    def restarts_exhausted():
        return budget.restarts is not None and sum(d["restarts"] for d in state.values()) - base_restarts >= budget.restarts

    def halted():
        return stop() or budget.time_up() or restarts_exhausted()

    try:
        if n_workers == 1:
            w = walkers[0]
            for ev in _drive(w, halted, ck_dir, every):
                if ev[0] == "progress":
                    state[w.walk] = ev[1]
                    report()
                elif ev[0] == "level":
                    state[w.walk] = {**w.progress(), "flips/s": state[w.walk].get("flips/s", 0.0)}
                    report()
                elif ev[0] == "scheme":
                    sch = make(ev[1], ev[2])
                    if sch is not None:
                        yield sch
            state[w.walk] = w.progress()
        else:
            procs, q, stop_event = start_workers(
                _worker_main, lambda i: ((walkers[i].state(), ck_dir, every),), n_workers)
            errors: list[tuple] = []
            try:
                for ev in receive(procs, q, stop_event, halted):
                    kind = ev[0]
                    if kind == "progress":
                        state[ev[1]["walk"]] = ev[1]
                        report()
                    elif kind == "scheme":
                        sch = make(ev[1], ev[2])
                        if sch is not None:
                            yield sch  # the consumer may stop here: the finally block ends the workers
                    elif kind == "error":
                        errors.append(ev)
            finally:
                stop_workers(procs, q, stop_event)
            if errors:
                _raise_worker_error(errors[0])
            if ck is not None:  # the workers wrote their final states: read them for the report
                for i in range(n_workers):
                    f = ck / "walkers" / f"walker-{i:03d}.json"
                    if f.exists():
                        walkers[i] = Walker.from_state(json.loads(f.read_text()))
        totals()
        report()
        if ck is not None:
            m = json.loads((ck / "checkpoint.json").read_text())
            m["updated"] = _now()
            _write_json(ck / "checkpoint.json", m)
        _finish(fs, s, rank, goal, rec, walkers, state, t0, start_scheme)
    finally:
        totals()


def _raise_worker_error(ev):
    # the worker's queue (search._workers) wrote its traceback to a log file and named it in ev[1]
    raise InternalError(f"a flip-engine worker failed: {ev[1]}")


FINISH_LIFT_SECONDS = 30.0  # end-of-run lifting of pool schemes above the target (see _finish)


def _finish_lift_budget(elapsed: float) -> float:
    """Seconds the end-of-run lift may take after a run of ``elapsed`` seconds."""
    return max(FINISH_LIFT_SECONDS, 0.1 * elapsed)


def _finish(fs: FlipSearch, s: Shape, rank: int, goal: str, rec: dict, walkers, state, t0, start_scheme=None):
    """After the walks: the best mod-2 scheme, and (no scheme at the goal) the best proven one above it.

    When the walks never went below the rank of a proven start scheme (``--start``), nothing is lifted: the
    best proven scheme is the start itself, which is not a result of this run; ``stats["start_proven"]`` says
    so (rank, ring) for the final message.  Lifting the pool schemes at that rank again took minutes on
    <6,6,6> and could only give a scheme no better than the start."""
    from .gf2 import bits_to_factors
    from .lift import hensel_lift
    live = [w for w in walkers if w is not None]
    if not live:
        return
    best_w = min(live, key=lambda w: w.best)
    F = best_w.best_modular()
    a, b, c = bits_to_factors(s, F, F.shape[1])
    from ..provenance import result_record
    info = {"target_rank": rank, "above_target": F.shape[1] > rank, "walk": best_w.walk}
    mod = Scheme(s, a, b, c.T.copy(), provenance=result_record(rec, completed_by=["flip", "reduction"],
                                                               seconds=time.monotonic() - t0, **info))
    fs.best_modular = mod
    if fs.stats["proven"] or goal == "Z2" and F.shape[1] <= rank:
        return
    if goal == "Z" and start_scheme is not None and F.shape[1] >= start_scheme.rank:
        sv = verify(start_scheme, symbolic=False)
        if sv.ok:
            fs.stats["start_proven"] = {"rank": int(start_scheme.rank), "ring": sv.ring}
            return
    # the lowest level whose pool schemes lift: try every pool scheme, from the best level up, for at most
    # FINISH_LIFT_SECONDS (or a tenth of the run, if longer): on <6,6,6> one lift takes minutes
    levels = sorted({lv for w in live for lv in w.pools})
    deadline = time.monotonic() + _finish_lift_budget(time.monotonic() - t0)
    for lv in levels:
        for w in live:
            for snap in w.pools.get(lv, []):
                if goal == "Z" and time.monotonic() > deadline:
                    fs.stats["finish_lift_cut"] = True
                    return
                a, b, c = bits_to_factors(s, snap, lv)
                res = hensel_lift(s, a, b, c) if goal == "Z" else (a, b, c.T.copy())
                if res is None:
                    continue
                prov = result_record(rec, completed_by=["flip", "reduction"] + (["lift"] if goal == "Z" else []),
                                     seconds=time.monotonic() - t0, target_rank=rank, above_target=True,
                                     walk=w.walk)
                sch = Scheme(s, *res, provenance=prov)
                v = verify(sch, symbolic=False)
                if v.ok or (goal == "Z2" and v.ring == "Z2"):
                    fs.best_above_target = sch
                    fs.stats["best_lifted_above"] = lv
                    return


# ---------------------------------------------------------------- replay
def replay(provenance: dict, shape=None, rank=None) -> Iterator[Scheme]:
    """Re-run the walk that produced a scheme with this provenance, deterministically: walk
    ``provenance["walk"]`` of a search with the recorded seed and options, bounded by the recorded
    kernel attempts (never by time).  Yields the schemes that walk proves up to that point (the
    recorded one last).  Raises :class:`ReplayError` when that cannot be done."""
    p = provenance or {}
    if p.get("engine") != ENGINE:
        raise ReplayError(f"not a flip-engine result (engine {p.get('engine')!r})")
    if str(p.get("strategy") or "").startswith("symmetric-"):  # a symmetric walk (search.flip_sym)
        from .flip_sym import replay_symmetric
        yield from replay_symmetric(p, shape=shape, rank=rank)
        return
    if p.get("strategy") == "gf3":  # a GF(3) or ZT walk (search.gf3)
        from .gf3 import replay_gf3
        yield from replay_gf3(p, shape=shape, rank=rank)
        return
    if p.get("schema") != "algodiscover.provenance/2":
        raise ReplayError("old provenance (before algodiscover.provenance/2): the walk options were not recorded")
    for key in ("seed", "options", "attempts", "walk", "start"):
        if p.get(key) is None:
            raise ReplayError(f"the provenance has no {key!r}: the walk cannot be re-run")
    opts = dict(p["options"])
    if opts.get("chunk", CHUNK) != CHUNK:
        raise ReplayError(f"the walk ran with kernel calls of {opts.get('chunk')} attempts; this version uses {CHUNK}")
    if p.get("above_target"):
        raise ReplayError("a best-effort result above the target rank (found after the budget ended) is not replayed")
    shape = p.get("shape")
    rank = p.get("rank_asked") or p.get("target_rank")
    srec = p["start"]
    start = None
    if srec.get("kind") == "file":
        src = srec.get("source")
        if not src or src == "scheme" or not Path(src).exists():
            raise ReplayError(f"the walk started from {src!r}, which is not available here")
        start = src
    if shape is None or rank is None:
        raise ReplayError("the provenance does not name the shape and the rank asked")
    walk = int(p["walk"])
    run_opts = {k: opts[k] for k in ("ring", "init", "policy", "lift_guard", "lift", *DEFAULTS) if k in opts}
    run_opts.setdefault("kernel", OLD_KERNEL)  # recorded before kernel versions existed: the version-1 walk
    run_opts["workers"] = opts.get("workers", 1)
    run_opts["walk"] = walk
    if start is not None:
        run_opts["start"] = start
        if srec.get("move"):
            run_opts["start_move"] = srec["move"]
    # a record without a lift version was made with one of versions 1-3 (the lift decides which schemes
    # count, so the walk and its result depend on it): replay with each, newest first; the caller stops at
    # the recorded scheme, and each yielded scheme's provenance names the version it was lifted with
    from .lift import LIFT_VERSION, LIFT_VERSIONS
    if "lift" in run_opts:
        versions = [run_opts["lift"]]
    elif opts.get("ring") == "Z2":
        versions = [LIFT_VERSION]  # a mod-2 walk lifts nothing: one walk
    else:
        versions = sorted(LIFT_VERSIONS, reverse=True)
    for v in versions:
        # + 1: a scheme is taken at the goal check before the next kernel call, so walk into that call
        found, _ = run_segment(tuple(shape), int(rank), state=None, attempts=int(p["attempts"]) + 1,
                               seed=int(p["seed"]), options={**run_opts, "lift": v})
        yield from found
