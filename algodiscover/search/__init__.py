"""Search engines behind one signature, and the registry that names them.

Every engine module exposes::

    search(shape, rank, *, seed=None, budget=None, device="cpu", on_progress=None,
           stop=None, **options) -> Iterator[Scheme]

It yields only schemes that passed exact verification (``verify``); the caller
deduplicates.  ``budget`` bounds the work; ``stop()`` returning True asks the engine to
finish the current step and return; ``on_progress(Progress)`` is called now and then.
Engines also expose ``replay(provenance) -> Iterator[Scheme]``: re-run, deterministically, the search
that produced a scheme with this provenance (``algodiscover.provenance``), so that ``discover --replay FILE``
can compare canonical keys; it raises :class:`~algodiscover.errors.ReplayError` (one line: why not, e.g. an
old provenance, a GPU run, a time-bounded multi-worker walk) when that cannot be done.  Every engine yields
schemes of rank <= the rank asked, deduplicates by canonical key, keeps ``.stats`` (a dict with at least
``restarts_done``, ``restarts_proven`` and ``proven``) and defaults ``workers`` the same way.

Engines import heavy dependencies (torch, numba) inside their module, which is loaded
lazily from here, so ``import algodiscover`` stays fast.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..core.shape import parse_shape
from ..errors import EngineNotFound, RankError

ENGINES: dict[str, str] = {
    "spn": "algodiscover.search.spn",
    "flip": "algodiscover.search.flip",
}


@dataclass
class Budget:
    """When a search ends: after ``count`` proven schemes, ``restarts`` restarts or ``time_limit`` seconds.

    ``None`` means unbounded.  ``count`` counts *distinct* schemes (the caller deduplicates and
    tells the engine through ``stop``); engines use it only as a hint.
    """

    restarts: int | None = None
    time_limit: float | None = None
    count: int | None = 1
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def time_left(self) -> float | None:
        if self.time_limit is None:
            return None
        return self.time_limit - self.elapsed()

    def time_up(self) -> bool:
        return self.time_limit is not None and self.elapsed() >= self.time_limit


@dataclass
class Progress:
    """A snapshot an engine reports; the one set of progress fields for every engine.

    Fields (the CLI shows each of them, cluster runs fill them in the same way):

    - ``engine``; ``elapsed`` seconds since the search started
    - ``restarts_done``: units of work finished; ``unit`` says what a unit is (``"restarts"`` for the
      gradient/ALS engine, ``"walks"`` for flip walks, ``"tasks"`` for cluster tasks)
    - ``proven``: distinct proven schemes so far (engines that do not deduplicate report what they yielded)
    - ``best_rank``: the lowest rank reached (flip: the walk's rank, mod p; ``None`` where the rank is fixed)
    - ``best_residual``: the lowest rounded residual of a candidate not yet proven (``None`` before any
      candidate was checked; 0 once one was proven)
    - ``rate``: units per second (``None`` until measurable); ``extra``: engine-specific figures
      (flips/s, rank levels, ...)

    Budget left (time and restarts) is computed from :class:`Budget` by whoever displays it.
    """

    engine: str
    restarts_done: int = 0
    best_residual: float | None = None
    proven: int = 0
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    unit: str = "restarts"
    best_rank: int | None = None
    rate: float | None = None

    @property
    def done(self) -> int:
        return self.restarts_done


PROGRESS_FIELDS = ("elapsed", "budget_left", "done", "proven", "best_rank", "best_residual", "rate")


def engine_names() -> list[str]:
    return sorted(ENGINES)


def get_engine(name: str):
    """The engine module registered under ``name`` (imported on first use)."""
    if name not in ENGINES:
        raise EngineNotFound(f"unknown engine {name!r}; available: {', '.join(engine_names())}")
    return importlib.import_module(ENGINES[name])


def run_search(engine: str, shape, rank: int, *, seed: int | None = None, budget: Budget | None = None,
               device: str = "cpu", on_progress: Callable[[Progress], None] | None = None,
               stop: Callable[[], bool] | None = None, **options) -> Iterator:
    """Run a registered engine; yields verified Schemes."""
    s = parse_shape(shape)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise RankError(f"rank must be a positive integer, got {rank!r}")
    mod = get_engine(engine)
    return mod.search(s, rank, seed=seed, budget=budget or Budget(), device=device,
                      on_progress=on_progress, stop=stop, **options)
