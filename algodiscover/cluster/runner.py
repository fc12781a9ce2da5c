"""The client side of a cluster search: cut the work into tasks, keep the cluster busy, prove what
comes back, and stop cleanly.

- SPN: the restarts ``0, 1, 2, ...`` of one seed are cut into ranges of ``task_restarts``; about two
  ranges per worker thread are in flight.  A restart budget gives exactly the ranges below it.
- flip: ``walkers`` walks (by default one per worker thread), each a chain of segments of
  ``segment_attempts`` kernel attempts; walker ``w`` has the seed and the start the local engine gives
  its worker ``w``, and a segment continues from the state the previous one returned.  The symmetric
  walk (``symmetry``) and the GF(3)/ZT walk (``field=3``) run the same way: their options are resolved
  here by the engine itself (into the manifest its own ``checkpoint`` writes), and walker ``w`` walks as
  walker ``w`` of a local ``--workers W`` run (``search._parallel.walker_seed``), in segments of
  :func:`.tasks.walk_task`.

Nothing a worker sends is trusted: every candidate is parsed from JSON, proven here with the exact
Brent check (``verify``), deduplicated by canonical key and only then yielded, saved or catalogued.
A task lost with its worker runs again (the scheduler reschedules it; one that ends in
``KilledWorker`` is resubmitted here a few times).  Stopping (``stop()``, the time limit, the count,
the budget) sets the run's ``distributed.Event``: running tasks return what they have within about a
second, their candidates are proven and kept, the rest is cancelled.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Callable, Iterator

import numpy as np

from ..core.canonical import canonical_key
from ..core.shape import parse_shape
from ..core.verify import verify
from ..errors import AlgoDiscoverError, RankError
from ..search import Budget, Progress
from .checkpoint import Checkpoint, CheckpointError, merge_ranges
from .connect import ClusterError, Connection, check_workers, connect

ENGINES = ("spn", "flip")
FILE_START = "a flip start for a cluster run must be a scheme file (its path is recorded)"
STOP_GRACE_S = 8.0  # how long running tasks may take to hand in their results once stopped
RESUBMITS = 3  # a task whose worker died this many times more (after the scheduler's own retries) fails the run
FLIP_SEGMENT = 512  # kernel calls (of search.flip.CHUNK attempts) per flip task: about 5-20 s of walking (the
# worker waits for the client between two segments of a walk: longer segments, fewer waits) ...
FLIP_FIRST = 8  # ... after a first segment of 8 kernel calls, doubling (the first results come soon)
WALK_SEGMENT = 256  # kernel calls per symmetric / GF(3) task (about 5-30 s), after WALK_FIRST doubling as for flip
WALK_FIRST = 8
SPN_TASK_BATCHES = 8  # restarts per SPN task, in batches of the strategy: a task's batch drains only at
# its end (about 1.3 s of one core lost per drain, measured), so fewer, longer tasks; their candidates
# stream to the client as they are found (the run's Queue), and a stop ends a task within a step
STREAM_POLL_S = 0.5  # seconds between two looks at the candidate stream


class ClusterSearch:
    """The iterator :func:`run_cluster` returns (proven, distinct Schemes), with ``stats``, ``info``
    (address, workers, dashboard) and ``close``."""

    def __init__(self, run: "_ClusterRun"):
        self._run = run
        self._gen = run.iterate()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()
        self._run.shutdown()

    @property
    def stats(self) -> dict:
        return dict(self._run.stats)

    @property
    def info(self) -> dict:
        return self._run.info()

    @property
    def best_above_target(self):
        """A missed flip target: the best proven scheme above the rank asked (as the local engines), or None."""
        return self._run.best_above_target

    @property
    def best_modular(self):
        """A missed flip target: the best scheme reached modulo p (labelled Z2 / Z3 by ``verify``), or None."""
        return self._run.best_modular


def run_cluster(engine: str, shape, rank: int, *, cluster, seed: int | None = None, budget: Budget | None = None,
                device: str = "cpu", on_progress: Callable[[Progress], None] | None = None,
                stop: Callable[[], bool] | None = None, checkpoint=None, resume=None,
                task_restarts: int | None = None, segment_attempts: int | None = None,
                segments: int | None = None, **options) -> ClusterSearch:
    """Run a search engine's work on a Dask cluster; yields verified, distinct Schemes as they arrive.

    ``cluster``: an address (``tcp://host:8786``), ``local:N``, or a ``distributed.Client``.
    ``checkpoint``/``resume``: a checkpoint directory to start / to continue (see :mod:`.checkpoint`).
    ``task_restarts`` (spn: restarts per task), ``segment_attempts`` (flip: kernel attempts per task)
    and ``segments`` (flip: segments per walker, a work budget) size the tasks; options are the
    engine's own (flip ``workers`` = number of walkers; default one per worker thread).
    The connection is made and checked here, so a bad address or a version mismatch raises at once.
    """
    if engine not in ENGINES:
        raise ClusterError(f"the {engine!r} engine cannot run on a cluster; available: {', '.join(ENGINES)}")
    if device is not None and str(device).strip().lower() != "cpu":
        raise ClusterError(f"cluster workers run on the CPU; got --device {device!r}")
    if checkpoint is not None and resume is not None:
        raise CheckpointError("give --checkpoint DIR to start a run or --resume DIR to continue one, not both")
    s = parse_shape(shape)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    run = _ClusterRun(engine, s, int(rank), seed=seed, budget=budget or Budget(), on_progress=on_progress,
                      stop=stop, options=options, task_restarts=task_restarts, segment_attempts=segment_attempts,
                      segments=segments, checkpoint=checkpoint, resume=resume)
    run.prepare()  # validate the options before any connection
    run.start(cluster)
    return ClusterSearch(run)


def _positive(name, v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ClusterError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


class _ClusterRun:
    def __init__(self, engine, shape, rank, *, seed, budget, on_progress, stop, options, task_restarts,
                 segment_attempts, segments, checkpoint, resume):
        self.engine, self.shape, self.rank = engine, shape, rank
        self.seed, self.budget, self.on_progress = seed, budget, on_progress
        self.user_stop = stop or (lambda: False)
        self.options = {k: v for k, v in options.items() if v is not None}
        self.task_restarts = _positive("task_restarts", task_restarts)
        self.segment_attempts = _positive("segment_attempts", segment_attempts)
        self.segments = _positive("segments", segments)
        self.checkpoint_dir, self.resume_dir = checkpoint, resume
        self.conn: Connection | None = None
        self.ck: Checkpoint | None = None
        self.seen: set[str] = set()
        self.stats = {"restarts_done": 0, "restarts_proven": 0, "proven": 0, "tasks_done": 0, "tasks_submitted": 0,
                      "tasks_retried": 0, "tasks_partial": 0, "rejected": 0, "workers": 0, "resumed": 0}
        self.best_residual = None
        self.best_rank = None
        self.walk_manifest = None  # a symmetric or GF(3) walk: the engine's manifest (_prepare_walk)
        self.best_above_target = self.best_modular = None  # a missed flip target (_best_effort)
        self.field = 2
        self.levels: dict[int, float] = {}
        self.flips = 0
        self.flip_rates: dict[int, float] = {}
        self._workers: dict = {}
        self._workers_at = 0.0
        self._closed = False

    # ------------------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        from pathlib import Path
        from .checkpoint import MANIFEST
        if self.checkpoint_dir is not None and (Path(self.checkpoint_dir) / MANIFEST).exists():
            raise CheckpointError(f"{self.checkpoint_dir} already holds a checkpoint; continue it with --resume "
                                  f"{self.checkpoint_dir} (or choose an empty directory)")
        if self.resume_dir is not None:
            self.ck = Checkpoint.open(self.resume_dir)
            self.ck.check_matches(self.engine, self.shape, self.rank, self.seed)
            m = self.ck.manifest
            self.seed = int(m["seed"])
            self.options = dict(m.get("options") or {})  # the run goes on as it began
        if self.seed is None:
            self.seed = int.from_bytes(os.urandom(4), "little") if self.engine == "spn" else int.from_bytes(
                os.urandom(8), "little") >> 2
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ClusterError(f"seed must be a non-negative integer, got {self.seed!r}")
        self.seed = int(self.seed)
        (self._prepare_spn if self.engine == "spn" else self._prepare_flip)()

    def _prepare_spn(self) -> None:
        from ..search import spn
        if self.options.get("workers") is not None:
            raise ClusterError("--workers does not apply to spn with --cluster: every worker process of the "
                               "cluster trains its own tasks (size the cluster instead)")
        if self.options.get("curves") is not None:
            raise ClusterError("training curves (--plot) are not recorded on a cluster")
        it = spn.search(self.shape, self.rank, seed=self.seed, budget=Budget(restarts=1, count=None), workers=1,
                        **self.options)  # validates every option; trains nothing
        strat = it._run.strat
        it.close()
        self.strategy = strat
        from dataclasses import asdict
        self.resolved = {**{k: v for k, v in self.options.items()}, "strategy_fields": asdict(strat),
                         "task_restarts": None}
        if self.task_restarts is None:
            self.task_restarts = int((self.ck.manifest.get("spn") or {}).get("task_restarts", 0)) if self.ck else 0
            self.task_restarts = self.task_restarts or SPN_TASK_BATCHES * int(strat.batch)
        self.resolved["task_restarts"] = self.task_restarts

    def _prepare_flip(self) -> None:
        from ..search import flip, gf2
        from .tasks import has_run_segment
        opts = {k: v for k, v in self.options.items() if k not in ("checkpoint", "resume")}
        self.walk_manifest = None
        if any(asked(opts.get(name), opts.get("init")) for name, asked, *_ in flip.DELEGATES):
            self._prepare_walk(opts)
            return
        gf2.check_shape(self.shape)
        if has_run_segment():  # the engine resolves (and checks) its own options
            res = flip.resolve_options(self.shape, self.rank, **opts)
            goal, init = res["ring"], res["init"]
            params = {k: res[k] for k in flip.DEFAULTS}
            lift = res.get("lift")  # the walkers' lift rule (run_segment resolves the same): recorded below
            start = opts.get("start")
            if start is not None and not isinstance(start, (str, os.PathLike)):
                raise ClusterError(FILE_START)
            self.start_scheme = None
            self.start_path = None if start is None else str(start)
        else:
            unknown = set(opts) - flip._KNOWN_OPTIONS
            if unknown:
                raise flip.FlipOptionError(f"unknown option(s) for the flip engine: {', '.join(sorted(unknown))}; "
                                           f"expected {', '.join(sorted(flip._KNOWN_OPTIONS))}")
            goal = str(opts.get("ring") or "Z").upper()
            if goal not in ("Z", "Z2"):
                raise flip.FlipOptionError(f"ring must be Z or Z2 for the flip engine, got {opts.get('ring')!r}")
            params = dict(flip.DEFAULTS)
            lift = None
            for name in flip.DEFAULTS:
                if opts.get(name) is not None:
                    params[name] = flip._check_int(name, opts[name], 1)
            init = str(opts.get("init") or "mixed")
            if init not in flip.INITS:
                raise flip.FlipOptionError(f"init must be one of {', '.join(flip.INITS)}, got {init!r}")
            if opts.get("workers") is not None:
                flip._check_int("workers", opts["workers"], 1)
            start = flip._resolve_start(opts.get("start"), self.shape)
            if start is not None and not isinstance(opts.get("start"), (str, os.PathLike)):
                raise ClusterError(FILE_START)
            self.start_scheme = start
            self.start_path = None if start is None else str(opts["start"])
        self.walk_options = opts
        self.goal, self.params, self.init = goal, params, init
        self._segment_size(flip.CHUNK, FLIP_SEGMENT)
        self.resolved = {"ring": goal, "init": init, **params, "start": self.start_path,
                         "segment_attempts": self.segment_attempts, "chunk": flip.CHUNK,
                         **({"lift": lift} if lift is not None else {})}

    def _segment_size(self, chunk: int, calls: int) -> None:
        """Kernel attempts per task: as given, as the checkpoint recorded, or ``calls`` kernel calls reached by
        doubling from the first segments (``self.grow``); a whole number of kernel calls of ``chunk``."""
        ck_flip = (self.ck.manifest.get("flip") or {}) if self.ck else {}
        self.grow = False
        if self.segment_attempts is None:
            self.segment_attempts = int(ck_flip.get("segment_attempts", 0)) or calls * chunk
            self.grow = not ck_flip.get("segment_attempts")
        if self.segment_attempts % chunk:
            raise ClusterError(f"segment_attempts must be a multiple of {chunk} (one kernel call)")

    def _prepare_walk(self, opts: dict) -> None:
        """The symmetric or GF(3) walk: the engine checks and resolves the options itself, writing the manifest
        of a walk that has not moved yet (a budget of no restarts) into a temporary directory; that manifest
        (the walker count set at the start) is what every task resumes its walker from, and what the run's
        checkpoint.json holds (with the cluster's own fields).  A resumed run -- begun on a cluster or by a local
        ``--checkpoint`` of the same walk -- takes it from DIR as it is; a local ``--resume DIR`` continues
        either."""
        import shutil
        from pathlib import Path
        from ..formats import load
        from ..formats.json_format import dump
        from ..search import flip, flip_sym, gf3
        from .tasks import scratch_dir
        self.start_json = None
        ck_flip = (self.ck.manifest.get("flip") or {}) if self.ck else {}
        if ck_flip.get("walker_format") in (flip_sym.WALKER_FORMAT, gf3.WALKER_FORMAT):
            m = {k: v for k, v in self.ck.manifest.items() if k not in ("created", "updated", "tasks_done")}
            m["flip"] = {k: v for k, v in ck_flip.items() if k in ("walkers", "walker_format")}
            srec = m.get("start") or {}
            if srec.get("kind") == "catalog":
                raise ClusterError(FILE_START)
            if srec.get("kind") == "file":
                src = srec.get("source")
                if not src or not Path(src).is_file():
                    raise CheckpointError(f"the walk in {self.ck.path} started from {src!r}, which is not here; "
                                          f"resume it where that file is")
                self.start_json = json.loads(dump(load(src)))
        else:
            start = opts.get("start")
            if start is not None:
                if not isinstance(start, (str, os.PathLike)) or str(start).startswith("catalog"):
                    raise ClusterError(FILE_START)
                self.start_json = json.loads(dump(load(start)))  # sent with every task: the workers need no file
            d = scratch_dir("resolve")
            try:
                run = flip.search(self.shape, self.rank, seed=self.seed, budget=Budget(restarts=0, count=None),
                                  **{**opts, "workers": 1, "checkpoint": str(d / "ck")})
                for _ in run:  # a walk with no restarts to make walks nowhere and proves nothing
                    pass
                m = json.loads((d / "ck" / "checkpoint.json").read_text())
            finally:
                shutil.rmtree(d, ignore_errors=True)
            for k in ("created", "updated"):
                m.pop(k, None)
        self.walk_manifest = m
        res = dict(m.get("options") or {})
        self.goal = str(res.get("ring", "Z"))
        self.field = int(res.get("field", 2))
        self.walk_chunk = flip_sym.CHUNK if self.field == 2 else gf3.CHUNK
        self._segment_size(self.walk_chunk, WALK_SEGMENT)
        self.resolved = {**res, "segment_attempts": self.segment_attempts, "chunk": self.walk_chunk}
        self.stats["field"] = self.field
        if res.get("ternary"):
            self.stats["walk"] = "ZT"

    def start(self, cluster) -> None:
        self.conn = connect(cluster)
        try:
            self._start()
        except BaseException:
            self.conn.close()  # a LocalCluster started here ends with it
            raise

    def _start(self) -> None:
        self._workers = check_workers(self.conn)
        self._workers_at = time.monotonic()
        from .tasks import identity
        self.expect = identity()
        self.event_name = f"algodiscover-stop-{uuid.uuid4().hex}"
        from distributed import Event
        self.event = Event(self.event_name, client=self.conn.client)
        self.stream = None
        if self.engine == "spn":
            from distributed import Queue
            self.stream = Queue(f"algodiscover-found-{self.event_name[-32:]}", client=self.conn.client)
            try:  # the workers' compute processes start (torch import, set-up) while the run is prepared
                from .tasks import prestart_compute
                self.conn.client.run(prestart_compute, wait=False)
            except Exception:
                pass
        self.stats["workers"] = self.threads()
        from ..provenance import search_record, start_record
        if self.engine == "spn":
            start = start_record("random")
            strategy = self.strategy.name
            workers = self.threads()
        elif self.walk_manifest is not None:  # the engine's own start record (kind, source, moves)
            start = self.walk_manifest.get("start")
            strategy = self.walk_manifest.get("strategy") or ("gf3" if self.field == 3 else None)
            workers = self.walkers_count()
            self.walk_manifest["flip"] = {**(self.walk_manifest.get("flip") or {}), "walkers": workers}
            self.walk_manifest["options"] = {**self.walk_manifest["options"], "workers": workers}
            self.resolved = {**self.resolved, "workers": workers}
        else:
            kind = "file" if self.start_path is not None else self.init
            start = start_record(kind, self.start_path)
            strategy = None
            workers = self.walkers_count()
        self.record = search_record(self.engine, strategy=strategy, options=self.resolved, seed=self.seed,
                                    workers=workers, device="cpu", start=start)
        if self.resume_dir is None and self.checkpoint_dir is not None:
            self.ck = Checkpoint.create(self.checkpoint_dir, self._manifest())
        if self.ck is not None and self.resume_dir is not None:
            for sch in self.ck.schemes():
                v = verify(sch, symbolic=False)
                if self._goal_ok(v) and tuple(sch.shape) == tuple(self.shape) and sch.rank <= self.rank:
                    self.seen.add(canonical_key(sch))
            self.stats["resumed"] = len(self.seen)
            self.stats["proven"] = len(self.seen)

    def _goal_ok(self, v) -> bool:
        """A verification result the run keeps: valid over Z/Q, or valid mod p for a modular goal (Z2, Z3)."""
        return bool(v.ok or (self.engine == "flip" and self.goal in ("Z2", "Z3") and v.ring == self.goal))

    def _manifest(self) -> dict:
        from .tasks import identity
        me = identity()
        m = {"engine": self.engine, "shape": list(self.shape), "rank": self.rank, "seed": self.seed,
             "options": {k: v for k, v in self.options.items()}, "version": me["version"], "commit": me["commit"]}
        if self.walk_manifest is not None:  # the engine's manifest (resolved options, start): a local run resumes it
            m = {**self.walk_manifest, "version": me["version"], "commit": me["commit"]}
        if self.engine == "spn":
            m["spn"] = {"task_restarts": self.task_restarts, "done": [], "next": 0}
        else:
            from ..search import flip
            from .tasks import WALKER_FORMAT
            wf = getattr(flip, "WALKER_FORMAT", WALKER_FORMAT)  # the engine's own walker, where it has one
            if self.walk_manifest is not None:
                wf = (self.walk_manifest.get("flip") or {}).get("walker_format", wf)
            m["flip"] = {"walkers": self.walkers_count(), "segment_attempts": self.segment_attempts,
                         "walker_format": wf, "segments": [0] * self.walkers_count()}
        from ..provenance import jsonable
        return jsonable(m)

    def threads(self) -> int:
        now = time.monotonic()
        if now - self._workers_at > 2.0 and self.conn is not None:
            w = self.conn.workers()
            if w:
                self._workers = w
            self._workers_at = now
        return max(1, sum(int(v) for v in self._workers.values()))

    def walkers_count(self) -> int:
        if self.ck is not None and (self.ck.manifest.get("flip") or {}).get("walkers"):
            return int(self.ck.manifest["flip"]["walkers"])
        if self.options.get("workers") is not None:
            return int(self.options["workers"])
        return self.threads()

    def info(self) -> dict:
        return {"address": self.conn.address if self.conn else None, "workers": self.threads(),
                "dashboard": self.conn.dashboard if self.conn else None, "seed": self.seed,
                "checkpoint": str(self.ck.path) if self.ck else None, "resumed": self.stats["resumed"]}

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.conn is not None:
            try:
                self.event.set()
            except Exception:
                pass
            self.conn.close()

    # ------------------------------------------------------------------------------ the loop
    def halted(self) -> bool:
        b = self.budget
        if self.user_stop() or b.time_up():
            return True
        return b.count is not None and len(self.seen) >= b.count

    def iterate(self) -> Iterator:
        try:
            yield from (self._spn() if self.engine == "spn" else self._flip())
        finally:
            self.shutdown()

    def _submit(self, fn, *args, key: str):
        self.stats["tasks_submitted"] += 1
        return self.conn.client.submit(fn, *args, key=key, pure=False, retries=0)

    def _wait(self, futures, timeout: float):
        """The futures that are done, waiting up to ``timeout`` seconds for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            done = [f for f in futures if f.done()]
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def _outcome(self, fut):
        """The task's decoded result, or "retry" (its worker was lost), raising for a real failure."""
        from distributed import KilledWorker
        from .tasks import VersionMismatch
        st = fut.status
        if st == "finished":
            try:
                text = fut.result(timeout=30)
                out = json.loads(text)
                if not isinstance(out, dict) or not isinstance(out.get("candidates"), list):
                    raise ValueError("not a task result")
                return out
            except (ValueError, TypeError) as e:
                raise AlgoDiscoverError(f"a cluster worker sent a malformed result ({e})") from None
        if st == "cancelled":
            return "retry"
        exc = fut.exception(timeout=30)
        if isinstance(exc, KilledWorker) or isinstance(exc, (OSError, TimeoutError)):
            return "retry"
        if isinstance(exc, VersionMismatch):
            raise ClusterError(f"refusing to run: a worker joined that {str(exc)[5:]}; install the same "
                               f"algodiscover version and commit on the client and every worker")
        raise AlgoDiscoverError(f"a cluster task failed on a worker: {type(exc).__name__}: {exc}")

    def _accept(self, cand, extra: dict):
        """Prove one candidate here; the Scheme if it is new and valid, else None."""
        from ..formats.json_format import from_dict
        from ..provenance import result_record
        try:
            sch = from_dict(cand, source="a cluster worker's candidate")
        except AlgoDiscoverError:
            self.stats["rejected"] += 1
            return None
        if tuple(sch.shape) != tuple(self.shape) or sch.rank > self.rank:
            self.stats["rejected"] += 1
            return None
        v = verify(sch, symbolic=False)  # the exact Brent check: the proof
        if not self._goal_ok(v):
            self.stats["rejected"] += 1
            return None
        key = canonical_key(sch)
        if key in self.seen:
            return None
        self.seen.add(key)
        wp = cand.get("provenance") if isinstance(cand.get("provenance"), dict) else {}
        keep = {k: wp[k] for k in ("restart", "step", "flips", "worker", "worker_seed", "attempts", "walk",
                                   "walk_restarts", "walker") if k in wp
                and isinstance(wp[k], (int, float)) and not isinstance(wp[k], bool)}
        keep.update({k: wp[k] for k in ("invariant", "normalised") if isinstance(wp.get(k), bool)})
        if self.engine == "spn":
            parts = ["gradient" if self.strategy.method == "adam" else "als"]
        elif self.walk_manifest is not None and isinstance(wp.get("completed_by"), list) \
                and set(wp["completed_by"]) <= {"flip", "lift"} and "flip" in wp["completed_by"]:
            parts = list(wp["completed_by"])  # a ZT walk's scheme is integral as walked: no lift
        else:
            parts = ["flip"] + (["lift"] if self.goal == "Z" else [])
        prov = result_record(self.record, completed_by=parts, seconds=self.budget.elapsed(), **keep,
                             cluster={"address": self.conn.address, "workers": self.threads(),
                                      "tasks": self.stats["tasks_done"], **extra})
        sch = sch.with_provenance(**prov)
        verify(sch, symbolic=False)  # cached on the new object too
        if self.ck is not None:
            self.ck.add_scheme(sch, key)
        self.stats["proven"] = len(self.seen)
        return sch

    def _progress(self, running: int) -> None:
        if self.on_progress is None:
            return
        el = self.budget.elapsed()
        extra = {"workers": self.threads(), "running": running}
        if self.engine == "spn":
            extra["restarts"] = self.stats["restarts_done"]
        else:
            extra["rank"] = self.best_rank
            extra["flips/s"] = f"{sum(self.flip_rates.values()):.3g}"
            if self.walk_manifest is not None:
                wo = self.walk_manifest.get("options") or {}
                extra.update({"symmetry": wo["symmetry"]} if wo.get("symmetry") not in (None, "none") else
                             {"field": self.field})
        if self.stats["tasks_retried"]:
            extra["retried"] = self.stats["tasks_retried"]
        done = self.stats["tasks_done"]
        self.on_progress(Progress(engine=self.engine, restarts_done=done, unit="tasks", proven=len(self.seen),
                                  elapsed=el, best_rank=self.best_rank if self.engine == "flip" else None,
                                  best_residual=self.best_residual, rate=done / el if el > 0 and done else None,
                                  extra=extra))

    def _drain(self, futures: dict, handle) -> Iterator:
        """Stop: tell the running tasks, take what they hand in within STOP_GRACE_S, cancel the rest."""
        try:
            self.event.set()
        except Exception:
            pass
        deadline = time.monotonic() + STOP_GRACE_S
        while futures and time.monotonic() < deadline:
            for fut in self._wait(futures, 0.2):
                meta = futures.pop(fut)
                try:
                    out = self._outcome(fut)
                except AlgoDiscoverError:
                    continue
                if out != "retry":
                    yield from handle(meta, out, resubmit=False)
        if futures:
            try:
                self.conn.client.cancel(list(futures))
            except Exception:
                pass
            futures.clear()

    # ------------------------------------------------------------------------------ SPN
    def _spn(self) -> Iterator:
        from .tasks import spn_task
        size = self.task_restarts
        limit = self.budget.restarts
        done_ranges: list[list[int]] = []
        nxt = 0
        todo: list[tuple[int, int]] = []
        if self.ck is not None:
            sp = self.ck.manifest.setdefault("spn", {"task_restarts": size, "done": [], "next": 0})
            done_ranges = merge_ranges(sp.get("done") or [])
            nxt = int(sp.get("next") or 0)
            # ranges below ``next`` that never finished (lost with the client) run again
            pos = 0
            for a, b in done_ranges + [[nxt, nxt]]:
                j = pos
                while j < a:
                    todo.append((j, min(a, j + size)))
                    j += size
                pos = max(pos, b)
            self.stats["restarts_done"] = sum(b - a for a, b in done_ranges)
        spec = json.dumps({"shape": list(self.shape), "rank": self.rank, "seed": self.seed,
                           "options": self.options, "expect": self.expect})
        futures: dict = {}
        attempts: dict[tuple[int, int], int] = {}
        run_id = self.event_name[-12:]

        def next_range():
            nonlocal nxt
            if todo:
                return todo.pop(0)
            if limit is not None and nxt >= limit:
                return None
            a = nxt
            b = a + size if limit is None else min(limit, a + size)
            nxt = b
            return (a, b)

        def submit(rng):
            n = attempts.get(rng, 0)
            fut = self._submit(spn_task, spec, rng[0], rng[1], self.event_name, self.stream.name,
                               key=f"spn-{run_id}-{rng[0]}-{rng[1]}-{n}")
            futures[fut] = rng

        polled = [0.0]

        def streamed(force=False):
            """The candidates running tasks have put on the run's Queue: proven and kept now."""
            now = time.monotonic()
            if not force and now - polled[0] < STREAM_POLL_S:
                return
            polled[0] = now
            try:
                items = self.stream.get(batch=True, timeout=5)
            except Exception:  # the task results carry every candidate too
                return
            for text in items or []:
                try:
                    msg = json.loads(text)
                    cand, rng = msg["candidate"], msg["range"]
                    if not isinstance(cand, dict):
                        raise ValueError
                except (ValueError, TypeError, KeyError):
                    self.stats["rejected"] += 1
                    continue
                sch = self._accept(cand, {"task": f"restarts {rng[0]}..{rng[1] - 1}" if isinstance(rng, list)
                                          and len(rng) == 2 else "?"})
                if sch is not None:
                    self.best_residual = 0.0
                    yield sch

        def handle(rng, out, resubmit=True):
            st = out.get("stats") or {}
            self.stats["tasks_done"] += 1
            self.stats["restarts_done"] += int(st.get("restarts_done") or 0)  # a stopped range's finished restarts too
            self.stats["restarts_proven"] += int(st.get("successes") or 0)
            br = st.get("best_residual")
            if isinstance(br, (int, float)) and (self.best_residual is None or br < self.best_residual):
                self.best_residual = float(br)
            for c in out["candidates"]:
                sch = self._accept(c, {"task": f"restarts {rng[0]}..{rng[1] - 1}"})
                if sch is not None:
                    self.best_residual = 0.0
                    yield sch
            if out.get("complete"):
                done_ranges.append(list(rng))
                done_ranges[:] = merge_ranges(done_ranges)
            else:
                self.stats["tasks_partial"] += 1
                todo.insert(0, rng)  # stopped early: a resumed run trains it again
            if self.ck is not None:
                self.ck.manifest["spn"] = {"task_restarts": size, "done": done_ranges, "next": nxt}
                self.ck.manifest["tasks_done"] = self.ck.manifest.get("tasks_done", 0) + 1
                self.ck.save()

        try:
            while True:
                if self.halted():
                    yield from self._drain(futures, handle)
                    yield from streamed(force=True)  # what a task cancelled after the grace had sent
                    break
                want = 2 * self.threads()
                while len(futures) < want:
                    rng = next_range()
                    if rng is None:
                        break
                    submit(rng)
                if not futures:
                    break  # the restart budget is done
                yield from streamed()
                for fut in self._wait(futures, 0.2):
                    rng = futures.pop(fut)
                    out = self._outcome(fut)
                    if out == "retry":
                        attempts[rng] = attempts.get(rng, 0) + 1
                        self.stats["tasks_retried"] += 1
                        if attempts[rng] > RESUBMITS:
                            raise AlgoDiscoverError(f"SPN restarts {rng[0]}..{rng[1] - 1} lost their worker "
                                                    f"{attempts[rng]} times; giving up")
                        submit(rng)
                        continue
                    yield from handle(rng, out)
                self._progress(len(futures))
        finally:
            self._cancel(futures)

    def _cancel(self, futures) -> None:
        """End the run's cluster work: tell running tasks to stop (the event), cancel the queued ones."""
        if futures:
            try:
                self.event.set()
                self.conn.client.cancel(list(futures))
            except Exception:  # the scheduler may already be gone; what was proven is kept
                pass
        self._progress(0)

    # ------------------------------------------------------------------------------ flip
    def _walk_levels(self, levels: dict) -> None:
        """Merge a walker's time to each rank (walking seconds of that walker) into the run's figures."""
        for lv, sec in levels.items():
            lv = int(lv)
            self.levels[lv] = min(self.levels.get(lv, float(sec)), float(sec))
        if self.levels:
            self.best_rank = min(self.levels)
            self.stats.update({"best_rank": self.best_rank, "field": self.field,
                               "levels": dict(sorted(self.levels.items(), reverse=True))})

    def _flip_states(self) -> list[dict]:
        from ..search import flip, gf2
        from .tasks import has_run_segment, initial_walker
        W = self.walkers_count()
        saved = self.ck.walkers() if (self.ck is not None and self.resume_dir is not None) else {}
        if self.walk_manifest is not None:  # a walker that has not walked yet starts in its first task
            return [saved.get(w) for w in range(W)]
        s = self.shape
        starts = [None] * W
        if not has_run_segment():
            if self.start_scheme is None:
                std, blk = gf2.standard_bits(s), gf2.strassen_block_bits(s)
                starts = [blk if self.init == "strassen" or (self.init == "mixed" and w % 2 == 1) else std
                          for w in range(W)]
            else:
                bits = gf2.scheme_to_bits(self.start_scheme)
                if not gf2.is_valid_mod2(s, *bits):
                    raise flip.FlipOptionError("the start scheme is not valid modulo 2")
                starts = [bits] * W
        seeds = [int(x) for x in np.random.SeedSequence(self.seed).generate_state(W, dtype=np.uint64) >> np.uint64(1)]
        states = []
        for w in range(W):
            if w in saved:
                states.append(saved[w])
            else:
                states.append(initial_walker(s, self.rank, seed=self.seed, walk=w, walkers=W,
                                             options=self.walk_options, start_bits=starts[w], goal=self.goal,
                                             params=self.params) if has_run_segment() else
                              initial_walker(s, self.rank, seed=seeds[w], walk=w, walkers=W, options={},
                                             start_bits=starts[w], goal=self.goal, params=self.params))
        return states

    def _flip(self) -> Iterator:
        from .tasks import flip_task, walk_summary, walk_task
        states = self._flip_states()
        W = len(states)
        walk = self.walk_manifest is not None
        futures: dict = {}
        lost: dict[int, int] = {}
        saved_segs = ((self.ck.manifest.get("flip") or {}).get("segments") if self.ck is not None else None) or []
        segs = [int(saved_segs[w]) if w < len(saved_segs) else 0 for w in range(W)]
        restarts = [int(st.get("restarts", 0)) if st else 0 for st in states]
        if walk:
            for st in states:
                self._walk_levels(walk_summary(st)["levels"])
        else:
            self.best_rank = min(int(st["best"]) for st in states)
        run_id = self.event_name[-12:]
        n_sub = [0]
        spec = json.dumps({"manifest": self.walk_manifest, "start": self.start_json}) if walk else None
        from ..search.flip import CHUNK
        chunk = self.walk_chunk if walk else CHUNK
        first = WALK_FIRST if walk else FLIP_FIRST

        def seg_len(w):
            """Segments grow from FLIP_FIRST (WALK_FIRST) kernel calls to segment_attempts (a walk does not
            depend on where its segments end, so this changes latency and overhead only)."""
            if not self.grow:
                return self.segment_attempts
            return min(self.segment_attempts, (first << min(segs[w], 16)) * chunk)

        def submit(w):
            n_sub[0] += 1
            key = f"{'walk' if walk else 'flip'}-{run_id}-w{w}-s{segs[w]}-{n_sub[0]}"
            if walk:
                fut = self._submit(walk_task, spec, None if states[w] is None else json.dumps(states[w]), w,
                                   seg_len(w), self.event_name, self.expect, key=key)
            else:
                fut = self._submit(flip_task, json.dumps(states[w]), seg_len(w), self.event_name,
                                   self.expect, {"workers": W}, key=key)
            futures[fut] = w

        def budget_left(w) -> bool:
            if self.segments is not None and segs[w] >= self.segments:
                return False
            if self.budget.restarts is not None and sum(restarts) >= self.budget.restarts:
                return False
            return True

        def handle(w, out, resubmit=True):
            st = out.get("stats") or {}
            self.stats["tasks_done"] += 1
            if isinstance(out.get("state"), dict):
                states[w] = out["state"]
                restarts[w] = int(states[w].get("restarts", restarts[w]))
                if self.ck is not None:
                    self.ck.save_walker(w, states[w])
            if out.get("complete"):
                segs[w] += 1
            else:
                self.stats["tasks_partial"] += 1
            self.flips += int(st.get("segment_flips", 0))
            secs = float(out.get("seconds") or 0)
            if secs > 0:
                self.flip_rates[w] = int(st.get("segment_flips", 0)) / secs
            if walk and isinstance(st.get("levels"), dict):
                self._walk_levels(st["levels"])
            elif isinstance(st.get("rank"), int):
                self.best_rank = min(self.best_rank, st["rank"])
            self.stats["best_rank"] = self.best_rank
            self.stats["restarts_done"] = sum(restarts)
            self.stats["flips"] = self.flips
            self.stats["flips_per_s"] = sum(self.flip_rates.values())
            self.stats["segments"] = sum(segs)
            for c in out["candidates"]:
                sch = self._accept(c, {"task": f"walker {w} segment {segs[w]}"})
                if sch is not None:
                    self.stats["restarts_proven"] += 1
                    yield sch
            if self.ck is not None:
                self.ck.manifest["tasks_done"] = self.ck.manifest.get("tasks_done", 0) + 1
                self.ck.manifest.setdefault("flip", {})["segments"] = list(segs)
                self.ck.save()
            if resubmit and budget_left(w) and not self.halted():
                submit(w)

        try:
            for w in range(W):
                if budget_left(w):
                    submit(w)
            while futures:
                if self.halted():
                    yield from self._drain(futures, handle)
                    break
                for fut in self._wait(futures, 0.2):
                    w = futures.pop(fut)
                    out = self._outcome(fut)
                    if out == "retry":
                        lost[w] = lost.get(w, 0) + 1
                        self.stats["tasks_retried"] += 1
                        if lost[w] > RESUBMITS:
                            raise AlgoDiscoverError(f"flip walker {w} lost its worker {lost[w]} times; giving up")
                        submit(w)  # the same segment from the same state: the same walk
                        continue
                    yield from handle(w, out)
                self._progress(len(futures))
            if not self.seen:  # the walks have ended (or were stopped): nothing is running any more
                self._best_effort(states)
        finally:
            self._cancel(futures)

    def _best_effort(self, states) -> None:
        """A missed target, as the local engines do it, from the walkers' pools kept in their states: the GF(2)
        walk's ``search.flip._finish`` and the GF(3) walk's ``search.gf3._finish`` (the best modular scheme, and
        the best scheme above the rank asked that lifts and is proven); the symmetric walk's
        ``search.flip_sym._finish_missed`` on the lowest levels its walkers kept (their ``archive``)."""
        live = [st for st in states if st]
        if not live:
            return
        from types import SimpleNamespace
        t0 = time.monotonic() - self.budget.elapsed()
        if self.walk_manifest is None:
            from ..search import flip
            if not hasattr(flip, "Walker") or not hasattr(flip, "_finish"):
                return
            start = None
            if self.start_path is not None:
                from ..formats import load
                start = load(self.start_path)
            out = SimpleNamespace(stats=self.stats, best_modular=None, best_above_target=None)
            flip._finish(out, self.shape, self.rank, self.goal, self.record,
                         [flip.Walker.from_state(st) for st in live], None, t0, start)
            above, modular = out.best_above_target, out.best_modular
        elif self.field != 3:  # the symmetric walk: the lowest levels it reached, kept in its states (archive)
            from ..search import flip_sym
            from .tasks import walk_summary
            res = self.walk_manifest.get("options") or {}
            group, fixed, _, _, _ = flip_sym.seed_parts(self.shape, res["symmetry"], res.get("cubes"))
            st = min(live, key=lambda x: walk_summary(x)["rank"] or 1 << 30)
            w = flip_sym._parse_walker(st, self.shape, res["symmetry"], group.order, "a cluster walker")
            flip_sym.search_symmetric.stats = self.stats
            flip_sym.search_symmetric.best_above_target = flip_sym.search_symmetric.best_modular = None
            flip_sym._finish_missed(self.shape, group, self.rank, self.goal, self.record, w["archive"], fixed,
                                    w["levels"], self.budget.elapsed(), int(w["counters"][0]), 0.0)
            above, modular = flip_sym.search_symmetric.best_above_target, flip_sym.search_symmetric.best_modular
        else:
            from ..search import gf3
            from .tasks import walk_summary
            st = min(live, key=lambda x: walk_summary(x)["rank"] or 1 << 30)
            levels = walk_summary(st)["levels"]
            best = min(levels)
            if not (self.rank < best < max(levels)):  # nothing below the start: not a result of the run
                return
            w = gf3._parse_walker(dict(st), self.shape, 1 << 30, "a cluster walker")
            gf3.search_gf3.stats = self.stats
            gf3.search_gf3.best_above_target = gf3.search_gf3.best_modular = None
            res = self.walk_manifest.get("options") or {}
            gf3._finish(self.shape, self.rank, self.goal, bool(res.get("ternary")), self.record, w["pools"],
                        w["levels"], best, self.budget.elapsed(), int(w["counters"][0]), 0.0)
            above, modular = gf3.search_gf3.best_above_target, gf3.search_gf3.best_modular
        where = {"cluster": {"address": self.conn.address if self.conn else None, "workers": self.threads(),
                             "tasks": self.stats["tasks_done"]}}
        self.best_above_target = above.with_provenance(**where) if above is not None else None
        self.best_modular = modular.with_provenance(**where) if modular is not None else None
