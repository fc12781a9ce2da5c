"""The flip-graph engine: random walks over GF(2) schemes, then Hensel lifting and exact proof.

Kauers & Moosbauer (2022) walk the *flip graph*: vertices are schemes over GF(2), edges
are flips (rank kept) and reductions (rank drops); Arai, Ichikawa & Hukushima (2024) add
plus transitions (rank + 1) to leave plateaus and keep pools of schemes per rank level.
Here every walker starts from the standard algorithm, from Strassen on 2x2x2 blocks
(``init``: "mixed", the default, gives odd-numbered workers the block start, which
matters for shapes whose standard algorithm hardly flips, such as <2,5,5> and <3,4,5>),
or from ``start``; it walks with the compiled kernels of :mod:`.gf2`, keeps pools of
schemes per rank level and restarts from them when it stalls (one or two levels up
after a few schemes at the goal that do not lift).  A scheme that reaches the goal rank is lifted to
characteristic 0 (:mod:`.lift`) and proven with ``verify``; with ``ring="Z2"`` the mod-2
scheme itself is reported (and labelled Z2 unless it happens to hold over Z).

Options: ``workers`` (independent walkers in processes; default all cores), ``ring``
("Z" or "Z2"), ``start`` (a scheme file or Scheme), ``init``, and the tuning knobs ``plateau``,
``restart_after``, ``pool_size``, ``climb`` (plus transitions may raise the rank this far above
the best level reached).  ``workers=1`` with a seed is reproducible.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.transform import to_shape
from ..core.verify import verify
from ..errors import AlgoDiscoverError, DeviceError, RankError, SchemeError
from . import Budget, Progress
from ._workers import available_cores, receive, start_workers, stop_workers

ENGINE = "flip"
CHUNK = 1 << 17  # kernel attempts per call: fixed, so a seed gives the same walk on any machine
DEFAULTS = {"plateau": 1_000, "restart_after": 2_000_000, "pool_size": 16, "climb": 1}
_KNOWN_OPTIONS = {"workers", "ring", "start", "init", *DEFAULTS}
INITS = ("mixed", "standard", "strassen")


class FlipOptionError(AlgoDiscoverError, ValueError):
    """An option the flip engine does not understand or cannot use."""


# ---------------------------------------------------------------- option handling
def _resolve_start(start, shape: Shape) -> Scheme | None:
    if start is None:
        return None
    if isinstance(start, Scheme):
        scheme = start
    elif isinstance(start, (str, os.PathLike)):
        from ..formats import load
        scheme = load(Path(start))
    else:
        raise FlipOptionError(f"start must be a scheme file or a Scheme, got {type(start).__name__}")
    v = verify(scheme, symbolic=False)
    if not (v.ok or v.ring == "Z2"):
        raise SchemeError(f"the start scheme is {v.ring}: it must be valid (at least modulo 2)")
    if tuple(scheme.shape) != tuple(shape):
        if sorted(scheme.shape) != sorted(shape):
            raise SchemeError(f"the start scheme is for {scheme.shape.angle()}, not {shape.angle()}")
        scheme = to_shape(scheme, shape)
    return scheme


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise FlipOptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------- one walker
def _walker(shape: Shape, target: int, seed: int, start_bits, goal: str, params: dict,
            stop: Callable[[], bool], worker: int = 0) -> Iterator[tuple]:
    """Walk until stopped; yields ("progress", dict) and ("scheme", (W_a, W_b, W_c), dict) events.

    Deterministic for a given seed: all decisions depend on counts of kernel attempts,
    never on the clock (the clock only paces progress reports).
    """
    from . import gf2
    from .lift import hensel_lift

    F0, r0 = start_bits
    cap = r0 + 32
    F = np.zeros((3, cap), dtype=np.uint64)
    F[:, :r0] = F0[:, :r0]
    r = r0
    rng = np.random.default_rng(seed)
    state = np.array([rng.integers(1, 2**63 - 1)], dtype=np.uint64)
    counters = np.zeros(4, dtype=np.int64)
    plateau, restart_after, pool_size = params["plateau"], params["restart_after"], params["pool_size"]
    climb = params["climb"]

    best = r
    pools: dict[int, list[np.ndarray]] = {r: [F[:, :r].copy()]}
    pool = pools[r]
    unlifted_since_restart = 0
    attempts = 0
    flips_at_best = 0
    attempts_at_best = 0
    restarts = 0
    lifts_failed = 0
    t_start = time.monotonic()
    t_report = 0.0
    flips_report = 0

    def snapshot():
        return F[:, :r].copy()

    def load(snap):
        nonlocal r
        F[:] = 0
        r = snap.shape[1]
        F[:, :r] = snap
        counters[3] = 0

    tried: set[bytes] = set()
    while not stop():
        if r <= target:
            key = _key(F, r)
            if key not in tried:
                # a new scheme at the goal: report it mod 2, or try to lift it
                tried.add(key)
                a, b, c = gf2.bits_to_factors(shape, F, r)
                info = {"worker": worker, "seed": seed, "flips": int(counters[0]), "restarts": restarts}
                if goal == "Z2":
                    yield ("scheme", (a, b, c.T.copy()), info)
                else:
                    res = hensel_lift(shape, a, b, c)
                    if res is not None:
                        yield ("scheme", res, info)
                    else:
                        lifts_failed += 1
                        unlifted_since_restart += 1
                flips_at_best = int(counters[0])
                attempts_at_best = attempts
        # walk on; stop early only when a new best level is reached (to keep a snapshot of it)
        r_before = r
        r = gf2.walk(F, r, best - 1, CHUNK, plateau, best + climb, state, counters)
        attempts += CHUNK
        improved = r < best
        if improved:
            best = r
            pool = pools[r] = [snapshot()]
            flips_at_best = int(counters[0])
            attempts_at_best = attempts
        elif r == best and r_before != best:
            if len(pool) < pool_size:
                pool.append(snapshot())
            else:
                pool[int(rng.integers(len(pool)))] = snapshot()
        # restart from the pool after restart_after flips without progress (or 20x as many
        # kernel attempts: a scheme with hardly any flips must not trap the walker)
        if (int(counters[0]) - flips_at_best >= restart_after
                or attempts - attempts_at_best >= 20 * restart_after or unlifted_since_restart >= 4):
            # schemes that do not lift tend to come in flip-connected families: after a few,
            # go back one or two levels up; otherwise restart at the best level
            up = int(rng.integers(1, 3)) if unlifted_since_restart >= 4 else int(rng.integers(0, 2))
            level = min((lv for lv in pools if lv >= best + up), default=best)
            src = pools[level]
            unlifted_since_restart = 0
            load(src[int(rng.integers(len(src)))])
            flips_at_best = int(counters[0])
            attempts_at_best = attempts
            restarts += 1

        now = time.monotonic()
        if improved or now - t_report >= 0.5:
            dt = now - t_report if t_report else now - t_start
            fl = int(counters[0])
            yield ("progress", {"worker": worker, "rank": best, "current": r, "flips": fl,
                                "flips/s": (fl - flips_report) / max(dt, 1e-9), "pool": len(pool),
                                "restarts": restarts, "lifts_failed": lifts_failed, "plus": int(counters[2])})
            t_report, flips_report = now, fl


def _key(F: np.ndarray, r: int) -> bytes:
    """The scheme up to the order of its products."""
    cols = F[:, :r].T
    order = np.lexsort(cols.T[::-1])
    return cols[order].tobytes()


def _worker_main(args, out_queue, stop_event):
    """Entry point of a worker process: run one walker and send its events to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; Ctrl-C reaches the whole group
    flag = {"stop": False}

    def on_term(signum, frame):
        flag["stop"] = True

    signal.signal(signal.SIGTERM, on_term)
    shape, target, seed, start_bits, goal, params, worker = args

    def stop():
        return flag["stop"] or stop_event.is_set()

    try:
        for ev in _walker(shape, target, seed, start_bits, goal, params, stop, worker):
            out_queue.put(ev)
    except Exception as e:  # report, never hang the parent
        out_queue.put(("error", f"{type(e).__name__}: {e}", worker))
    out_queue.put(("done", worker))


# ---------------------------------------------------------------- the engine
def search(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None, device: str = "cpu",
           on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
           workers: int | None = None, ring: str | None = None, start=None, init: str | None = None,
           **options) -> Iterator[Scheme]:
    """Yield schemes of rank <= ``rank`` for ``shape`` that passed exact verification.

    Goal ring "Z" (default): lifted schemes proven over ZT, Z or Q.  Goal "Z2": the GF(2)
    schemes themselves (labelled Z2 by ``verify`` unless they hold over Z as written).
    """
    # --- dispatch (issue 12 points 3-4, flip-sym): symmetric walks and GF(3) walks live in their own modules
    if options.get("symmetry", "none") not in (None, "none") or init == "symmetric":
        from .flip_sym import search_symmetric
        yield from search_symmetric(shape, rank, seed=seed, budget=budget, device=device, on_progress=on_progress,
                                    stop=stop, workers=workers, ring=ring, start=start, init=init, **options)
        return
    if options.get("field") not in (None, 2):
        from .gf3 import search_gf3
        yield from search_gf3(shape, rank, seed=seed, budget=budget, device=device, on_progress=on_progress,
                              stop=stop, workers=workers, ring=ring, start=start, init=init, **options)
        return
    options.pop("symmetry", None), options.pop("field", None)
    # --- end of dispatch
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise FlipOptionError(f"unknown option(s) for the flip engine: {', '.join(sorted(unknown))}; "
                              f"expected {', '.join(sorted(_KNOWN_OPTIONS))}")
    if device is not None and str(device).strip().lower() != "cpu":
        raise DeviceError(f"the flip engine runs on the CPU only; got device {device!r} (use --device cpu)")
    s = parse_shape(shape)
    from .gf2 import check_shape
    check_shape(s)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    rank = int(rank)
    goal = "Z" if ring is None else str(ring).upper()
    if goal not in ("Z", "Z2"):
        raise FlipOptionError(f"ring must be Z or Z2 for the flip engine, got {ring!r}")
    params = dict(DEFAULTS)
    for name in DEFAULTS:
        if name in options and options[name] is not None:
            params[name] = _check_int(name, options[name], 1)
    n_workers = available_cores() if workers is None else _check_int("workers", workers, 1)
    budget = budget or Budget()
    stop = stop or (lambda: False)
    if seed is None:
        import secrets
        seed = secrets.randbits(62)
    seed = _check_int("seed", seed, 0)

    from . import gf2
    start_scheme = _resolve_start(start, s)
    init = "mixed" if init is None else str(init)
    if init not in INITS:
        raise FlipOptionError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    if start_scheme is None:
        # standard algorithm, or Strassen on 2x2x2 blocks; "mixed": odd-numbered workers use blocks
        std, blk = gf2.standard_bits(s), gf2.strassen_block_bits(s)
        starts = [blk if init == "strassen" or (init == "mixed" and w % 2 == 1) else std for w in range(n_workers)]
        start_bits = std
        origin = init
    else:
        start_bits = gf2.scheme_to_bits(start_scheme)
        if not gf2.is_valid_mod2(s, *start_bits):
            raise SchemeError("the start scheme is not valid modulo 2")
        origin = str(start) if not isinstance(start, Scheme) else "scheme"
        starts = [start_bits] * n_workers
    compile_s = gf2.warm_up()
    seeds = [int(x) for x in np.random.SeedSequence(seed).generate_state(n_workers, dtype=np.uint64) >> np.uint64(1)]
    t0 = budget.started
    provenance_base = {"engine": ENGINE, "seed": seed, "workers": n_workers, "start": origin,
                       "version": _version()}
    stats: dict[int, dict] = {}
    proven = 0

    def report():
        if on_progress is None:
            return
        best = min((d["rank"] for d in stats.values()), default=start_bits[1])
        fps = sum(d.get("flips/s", 0.0) for d in stats.values())
        pool = sum(d.get("pool", 0) for d in stats.values())
        restarts = sum(d.get("restarts", 0) for d in stats.values())
        on_progress(Progress(engine=ENGINE, restarts_done=restarts, proven=proven, elapsed=budget.elapsed(),
                             extra={"rank": best, "flips/s": f"{fps:.3g}", "pool": pool,
                                    "unlifted": sum(d.get("lifts_failed", 0) for d in stats.values())}))

    def make(mats, info) -> Scheme | None:
        Wa, Wb, Wc = mats
        sch = Scheme(s, Wa, Wb, Wc, provenance={**provenance_base, "worker": info["worker"],
                                                 "worker_seed": info["seed"], "flips": info["flips"],
                                                 "seconds": round(time.monotonic() - t0, 3),
                                                 "compile_seconds": round(compile_s, 3),
                                                 "method": "flip-graph GF(2)" + (" + Hensel lifting" if goal == "Z" else "")})
        v = verify(sch, symbolic=False)
        if v.ok or (goal == "Z2" and v.ring == "Z2"):
            return sch
        return None

    def restarts_exhausted():
        if budget.restarts is None:
            return False
        return sum(d.get("restarts", 0) for d in stats.values()) >= budget.restarts

    def halted():
        return stop() or budget.time_up() or restarts_exhausted()

    if n_workers == 1:
        for ev in _walker(s, rank, seeds[0], starts[0], goal, params, halted, 0):
            if ev[0] == "progress":
                stats[0] = ev[1]
                report()
            elif ev[0] == "scheme":
                sch = make(ev[1], ev[2])
                if sch is not None:
                    proven += 1
                    yield sch
        report()
        return

    procs, q, stop_event = start_workers(
        _worker_main, lambda w: ((s, rank, seeds[w], starts[w], goal, params, w),), n_workers)
    errors: list[str] = []
    try:
        for ev in receive(procs, q, stop_event, halted):
            kind = ev[0]
            if kind == "progress":
                stats[ev[1]["worker"]] = ev[1]
                report()
            elif kind == "scheme":
                sch = make(ev[1], ev[2])
                if sch is not None:
                    proven += 1
                    yield sch  # the consumer may stop here: the finally block ends the workers
            elif kind == "error":  # receive() has stopped the others
                errors.append(ev[1])
    finally:
        stop_workers(procs, q, stop_event)
    if errors:  # a defect, not bad input: exit 3, the traceback is in the log file the message names
        from ..errors import InternalError
        raise InternalError(f"a flip-engine worker failed: {errors[0]}")
    report()


def _version() -> str:
    try:
        from .. import __version__
        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"
