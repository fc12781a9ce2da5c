"""Independent walkers in parallel for the walks that keep one walker per process (symmetric, GF(3)).

The walk function (``search_symmetric``, ``search_gf3``) is run in every worker process as walker ``w`` of
the run (keyword ``_walker=w, _child=True``): it walks with :func:`walker_seed` (seed, w) -- walker 0 with the
run's seed, so a one-walker run is the walk it always was --, keeps its own state file
``DIR/walkers/walker-00w.json`` and its proven schemes in ``DIR/schemes/``, and lifts and proves what it finds.
The parent (:func:`run_walkers`) proves every scheme again (``verify``), keeps one per canonical key, yields
it, sums the walkers' figures for the progress line and the final message, and collects what each walker
keeps for a missed target (the best scheme above it, the best modular one).  Workers die with the parent
and a crash or a kill is an ``InternalError`` (:mod:`._workers`).
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..core.canonical import canonical_key
from ..core.verify import verify
from . import Budget, Progress
from ._workers import receive, start_workers, stop_workers, worker_stop


def walker_seed(seed: int, walker: int) -> int:
    """The seed walker ``walker`` of a parallel run walks with: the run's seed for walker 0 (so a run with one
    walker is the walk it always was), a splitmix64 output of (seed, walker) for the others."""
    if walker == 0:
        return int(seed)
    from .flip import _splitmix
    x = (int(seed) ^ (int(walker) * 0xD1B54A32D192ED03)) & ((1 << 64) - 1)
    return _splitmix(x)[1] >> 2


def resolve_walkers(workers, shape, child: bool) -> int:
    """The number of walkers of a symmetric or GF(3) walk: as asked (an integer >= 1), or all cores from
    m*k*n = 24 on (``_workers.default_workers``, as the other engines); a walker process keeps the run's."""
    from ._workers import default_workers
    from .flip import FlipOptionError
    if child:
        return int(workers)
    if workers is None:
        return default_workers(shape)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise FlipOptionError(f"workers must be an integer >= 1, got {workers!r}")
    return int(workers)


def run_walkers(fn: Callable, kwargs: dict, n_workers: int, *, rank: int, goal_ok: Callable, modular: str | None,
                budget: Budget, stop: Callable[[], bool], on_progress, stats: dict, ck: Path | None,
                manifest: dict | None, manifest_fields: dict, label: dict, on_end: Callable[[dict], None],
                grace: float = 5.0) -> Iterator:
    """Run ``fn(**kwargs)`` as walkers 0..n_workers-1 in worker processes; yield their schemes (proven here
    again: ``goal_ok(verify(...))``, one per canonical key, kept in ``ck``/schemes when given).  With ``ck``
    this writes the run's manifest (``manifest`` when resuming, else one of ``manifest_fields``), and a
    resumed run first yields the schemes kept there (valid, or labelled ``modular``) and the walkers resume
    from their files.  ``stats`` (the dict the CLI's final message reads) gets the walkers' summed figures;
    ``on_end`` is called once the walkers have ended (also when the consumer closes the generator early) with a
    dict: ``last`` (the run's summed figures) and the walkers' best ``best_above_target`` / ``best_modular``
    schemes.  ``grace``: seconds the walkers get, once stopped, to finish (a missed target's end-of-run lift)."""
    from ..errors import InternalError
    from .flip import _checkpoint_schemes, _keep_scheme, _write_manifest
    resumed: list = []
    if ck is not None:
        (ck / "walkers").mkdir(parents=True, exist_ok=True)
        (ck / "schemes").mkdir(exist_ok=True)
        if manifest is not None:
            resumed = _checkpoint_schemes(ck, rank, modular)
        _write_manifest(ck, manifest, **manifest_fields)
        kwargs = {**kwargs, ("resume" if manifest is not None else "checkpoint"): str(ck)}
    seen: set[str] = set()
    for sch in resumed:
        key = canonical_key(sch)
        if key not in seen:
            seen.add(key)
            stats["proven"] = stats.get("proven", 0) + 1
            yield sch
    state: dict[int, dict] = {}
    extras: dict[int, dict] = {}
    t0 = time.monotonic()

    def totals() -> dict:
        got = [d for d in state.values() if d.get("best_rank") is not None]
        if got:
            levels: dict[int, float] = {}
            for d in got:
                for lv, sec in (d.get("levels") or {}).items():
                    levels[int(lv)] = min(levels.get(int(lv), sec), sec)
            stats.update({"best_rank": min(d["best_rank"] for d in got),
                          "levels": dict(sorted(levels.items(), reverse=True)),
                          "flips": sum(d.get("flips", 0) for d in got),
                          "flips_per_s": sum(d.get("flips_per_s", 0.0) for d in got),
                          "restarts_done": sum(d.get("restarts", 0) for d in got)})
        return stats

    def report():
        st = totals()
        if on_progress is None or st.get("best_rank") is None:
            return
        on_progress(Progress(engine="flip", restarts_done=st["restarts_done"], unit="walks", proven=st.get("proven", 0),
                             elapsed=budget.elapsed(), best_rank=st["best_rank"], rate=None,
                             extra={"rank": st["best_rank"], "flips/s": f"{st['flips_per_s']:.3g}", **label,
                                    "walkers": n_workers}))

    def halted() -> bool:
        return bool(stop() or budget.time_up() or (budget.restarts is not None
                                                    and stats.get("restarts_done", 0) >= budget.restarts))

    def note(ev) -> bool:
        if ev[0] == "progress":
            state[ev[1]] = ev[2]
            return True
        if ev[0] == "extra":
            extras[ev[1]] = ev[2]
            return True
        return False

    mod, name = fn.__module__, fn.__name__
    procs, q, stop_event = start_workers(_worker_main, lambda w: ((mod, name, kwargs, n_workers, w),), n_workers)
    errors: list[tuple] = []
    try:
        for ev in receive(procs, q, stop_event, halted):
            if note(ev):
                if ev[0] == "progress":
                    report()
            elif ev[0] == "scheme":
                sch = ev[2]
                v = verify(sch, symbolic=False)
                if not goal_ok(v):  # pragma: no cover - the walker proved it
                    raise InternalError(f"walker {ev[1]} sent a scheme that fails verification ({v.ring})")
                key = canonical_key(sch)
                if key in seen or sch.rank > rank:
                    continue
                seen.add(key)
                stats["proven"] = stats.get("proven", 0) + 1
                stats["restarts_proven"] = stats.get("restarts_proven", 0) + 1
                if ck is not None:
                    _keep_scheme(ck, sch, key)
                yield sch  # the consumer may stop here: the finally block ends the workers
            elif ev[0] == "error":
                errors.append(ev)
    finally:
        # the end-of-run lift is for a missed target: once a scheme is in, walkers still lifting are not waited for
        stop_workers(procs, q, stop_event, on_message=note, grace=grace if stats.get("proven", 0) == 0 else 5.0)
        report()
        st = totals()
        result = {"last": {"best_rank": st.get("best_rank"), "levels": dict(st.get("levels", {})),
                           "flips": st.get("flips", 0), "walkers": n_workers, "seconds": time.monotonic() - t0}}
        for what in ("best_above_target", "best_modular"):
            got = [e[what] for e in extras.values() if e.get(what) is not None]
            result[what] = min(got, key=lambda x: x.rank) if got else None
        on_end(result)
    if errors:
        raise InternalError(f"a walker failed: {errors[0][1]}")


def _worker_main(args, out_queue, stop_event):
    """A worker process of :func:`run_walkers`: walker w of the run, its events sent to the parent."""
    stop = worker_stop(stop_event)
    mod, name, kwargs, n_workers, w = args
    fn = getattr(importlib.import_module(mod), name)

    def progress(p: Progress):
        st = dict(getattr(fn, "stats", {}) or {})
        out_queue.put(("progress", w, {"best_rank": st.get("best_rank", p.best_rank), "levels": st.get("levels", {}),
                                       "flips": st.get("flips", 0), "flips_per_s": st.get("flips_per_s", 0.0),
                                       "restarts": p.restarts_done}))

    try:
        for sch in fn(**kwargs, budget=Budget(), workers=n_workers, on_progress=progress,
                      stop=stop, _walker=w, _child=True):
            out_queue.put(("scheme", w, sch))
        out_queue.put(("extra", w, {"best_above_target": getattr(fn, "best_above_target", None),
                                    "best_modular": getattr(fn, "best_modular", None)}))
    except Exception as e:  # report, never hang the parent
        out_queue.put(("error", f"{type(e).__name__}: {e}", w))
    out_queue.put(("done", w))
