"""The SPN engine (StrassenNets): learn the two-layer sum-product network

    vec(C) = W_c ((W_a vec A) * (W_b vec B))

with coefficients driven into a small set ({-1,0,1} by default), for many restarts at once as one
batched tensor, and prove every rounded candidate exactly.

Restarts live in ``batch`` slots trained together; a slot whose restart succeeded, ran out of steps
or is clearly stuck is refilled with the next restart, so the batch stays full.  On the CPU restart
``j`` depends on ``(seed, j)`` alone: its initial factors, random pairs and parameter noise come from
generators seeded by ``(seed, j)``, it is checked at its own steps, and every per-restart scalar
(schedules, Adam's bias corrections) is computed so that its value does not depend on the slot's
position in the batch.  So a restart budget gives the same schemes, each at the same (restart, step),
for any batch and any number of workers; :func:`run_restarts` runs given restart indices (cluster
tasks) and :func:`replay` re-runs the restart a provenance names.  Every scheme carries
``provenance.result_record`` provenance with ``completed_by`` (gradient, als, repair, polish).  Schedules are in
:mod:`algodiscover.search.spn_strategies`.  Torch is imported here only.
"""

from __future__ import annotations

import math
import itertools
import os
from typing import Callable, Iterator

import numpy as np

from ..core.canonical import canonical_key
from ..core.scheme import Scheme
from ..core.shape import parse_shape
from ..core.verify import verify
from . import Budget, Progress
from .device import resolve_device
from ..errors import AlgoDiscoverError
from .spn_strategies import COEFFICIENTS, SpnOptionError, Strategy, get_strategy, gradient_strategies

ENGINE = "spn"
OPTIONS = ("batch", "steps", "data", "strategy", "coefficients", "workers", "curves")
DATA = ("exhaustive", "random")
RANDOM_DEFAULT = "sgd-penalty"  # --data random without --strategy (measured: <2,2,2>:7 96.5 % vs paper 79.7 %)
CURVE_TRACES = 5  # restarts traced in ``curves`` (the first ones the run starts)
DRAW_CHUNK = 10  # steps of random pairs / noise drawn at once from a restart's stream (part of the stream: fixed)
from ._workers import PARALLEL_FROM  # noqa: E402,F401  (m*k*n from which ``workers`` defaults to all cores)


def _check_int(name, v, minimum=1):
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum):
        raise SpnOptionError(f"{name} must be {'a positive' if minimum == 1 else 'a non-negative'} integer, got {v!r}")


def _prepare(shape, rank, options):
    """Validate the options; returns (shape, strategy, spec, data, coefficient set name)."""
    unknown = [k for k, v in options.items() if k not in OPTIONS and v is not None]
    if unknown:
        names = ", ".join(f"--{k.replace('_', '-')}" for k in unknown)
        raise SpnOptionError(f"{names} does not apply to the spn engine (its options: "
                             f"{', '.join('--' + o for o in OPTIONS if o != 'curves')})")
    s = parse_shape(shape)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise SpnOptionError(f"rank must be a positive integer, got {rank!r}")
    data = options.get("data") or "exhaustive"
    if data not in DATA:
        raise SpnOptionError(f"data must be one of {', '.join(DATA)}, got {data!r}")
    spec = options.get("strategy")
    if spec is None and data == "random":
        spec = RANDOM_DEFAULT  # random data needs a gradient-trained network
    strat = get_strategy(spec, s)
    if data == "random" and strat.method != "adam":
        raise SpnOptionError(f"--data random trains the network by gradient; strategy {strat.name!r} solves on "
                             f"the exact tensor (use a gradient strategy: {', '.join(gradient_strategies())}; "
                             f"or --data exhaustive)")
    coefs = options.get("coefficients") or "ternary"
    if coefs not in COEFFICIENTS:
        raise SpnOptionError(f"coefficients must be one of {', '.join(COEFFICIENTS)}, got {coefs!r}")
    for key in ("batch", "steps"):
        _check_int(key, options.get(key))
    if options.get("batch") is not None:
        strat = _replace(strat, batch=int(options["batch"]))
    if options.get("steps") is not None:
        strat = _replace(strat, steps=int(options["steps"]))
    return s, strat, spec, data, coefs


def resolved_options(strat: Strategy, data: str, coefs: str) -> dict:
    """Every setting that determines a restart: the strategy's fields (defaults filled in), data, coefficients."""
    from dataclasses import asdict
    rec = {k: v for k, v in asdict(strat).items() if k != "name"}
    rec.update(data=data, coefficients=coefs)
    return rec


def search(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None, device: str = "cpu",
           on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
           **options) -> Iterator[Scheme]:
    """Yield distinct schemes of ``rank`` products for ``shape``, each proven by ``verify``.

    Options: ``batch`` (restarts trained at once), ``steps`` (steps per restart), ``data``
    (``exhaustive`` or ``random``), ``strategy`` (a name from ``spn_strategies``, optionally with
    ``:key=value`` overrides), ``coefficients`` (``ternary``, ``integer`` or ``half``), ``workers``
    (processes on the CPU, each training its own batch; default all cores for m*k*n >= 24, where a
    search takes seconds or more, else 1) and ``curves`` (a list that receives, for the first
    ``CURVE_TRACES`` restarts, one point per optimisation step; one process).  Anything else raises
    ``SpnOptionError``.

    Restart ``j`` depends on ``(seed, j)`` alone (its initial factors, its random pairs and its noise
    come from generators seeded by ``(seed, j)``, and every computation is per restart slot), and
    worker ``w`` of ``W`` trains restarts ``w, w+W, ...``: a restart budget gives the same set of
    schemes, each at the same (restart, step), for every number of workers (they may arrive in
    another order).
    """
    s, strat, spec, data, coefs = _prepare(shape, rank, options)
    curves = options.get("curves")
    if curves is not None and not isinstance(curves, list):
        raise SpnOptionError("curves must be a list that receives training-curve points")
    _check_int("seed", seed, minimum=0)
    dev = resolve_device(device)
    workers = options.get("workers")
    _check_int("workers", workers)
    if dev != "cpu" and workers not in (None, 1):
        raise SpnOptionError("--workers applies to --device cpu; on a GPU one process trains a large --batch")
    if curves is not None and workers not in (None, 1):
        raise SpnOptionError("training curves (--plot) are traced in one process: use --workers 1")
    if workers is None:
        from ._workers import default_workers  # the same default as the flip engine's
        workers = 1 if curves is not None else default_workers(s, dev)
    budget = budget or Budget()
    if budget.restarts is not None:
        workers = max(1, min(int(workers), budget.restarts))
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") >> 1
    run = _Run(s, int(rank), int(seed), budget, dev, on_progress, stop, strat, spec or f"default ({strat.name})",
               data, COEFFICIENTS[coefs], curves, workers=int(workers))
    if workers > 1:
        return SpnSearch(_Pool(run, int(workers)))
    return SpnSearch(run)


def run_restarts(shape, rank: int, *, seed: int, restarts, options: dict | None = None,
                 stop: Callable[[], bool] | None = None, stats: dict | None = None,
                 on_scheme: Callable[[Scheme], None] | None = None) -> list[Scheme]:
    """Run exactly the restarts with the given indices and return every distinct proven scheme.

    ``restarts``: an iterable of non-negative ints (e.g. ``range(j0, j1)``); ``options``: the spn
    options of :func:`search` (``strategy``, ``data``, ``coefficients``, ``batch``, ``steps``; not
    ``workers`` or ``curves``).  It runs on the calling process, on the CPU, with one torch thread,
    and stops only when every listed restart has finished.  Restart ``j`` depends on ``(seed, j)``
    and the options alone, so splitting the indices over several calls (processes, machines) gives
    the same schemes, each at the same (restart, step), as one call over all of them; the caller
    deduplicates across calls (``canonical_key``).  Each scheme carries the usual provenance
    (``workers`` 1, ``restart``, ``step``).  Raises ``SpnOptionError`` for bad options.

    ``stop``: a callable looked at every step; when it returns True the call returns at once with what
    it proved so far (the unfinished restarts are then simply not done: run them again for the full
    set).  ``stats``: a dict that receives the run's statistics (``restarts_done``: the restarts
    finished, ``restarts_proven``, ``best_residual``, ``steps``), also when stopped.  ``on_scheme``: called
    with each scheme as soon as it is proven (before the call returns).
    """
    options = dict(options or {})
    for k in ("workers", "curves"):
        if options.get(k) is not None:
            raise SpnOptionError(f"run_restarts takes no {k!r} option")
    ids = [int(j) for j in restarts]
    for j in ids:
        _check_int("restart index", j, minimum=0)
    _check_int("seed", seed, minimum=0)
    s, strat, spec, data, coefs = _prepare(shape, rank, options)
    run = _Run(s, int(rank), int(seed), Budget(count=None), "cpu", None, None, strat,
               spec or f"default ({strat.name})", data, COEFFICIENTS[coefs], None, workers=1, indices=ids)
    run.stop = stop
    found = []
    try:
        for sch in run.iterate():
            found.append(sch)
            if on_scheme is not None:
                on_scheme(sch)
    finally:
        if stats is not None:
            stats.update(getattr(run, "stats", None) or {})
    return found


def replay(provenance, *, shape=None, rank: int | None = None) -> Iterator[Scheme]:
    """Re-run, deterministically, the restart that produced a scheme with this provenance.

    Restart ``j`` depends on ``(seed, j)`` and the resolved options alone, so it is re-run on its own
    (one process, the CPU, one torch thread) with the recorded seed, strategy and every recorded
    option (``shape`` and ``rank`` come from the provenance, or from the arguments for a scheme
    file's own shape and rank); yields what it proves (the same canonical key when the code and the platform's float
    arithmetic are unchanged).  Raises ``ReplayError`` when that cannot be done: not an spn
    provenance, one from before the reproducible schema (no ``options``/``restart``), a GPU run
    (CUDA kernels are not bit-reproducible on the CPU), or options this version does not know.
    """
    from dataclasses import fields
    from ..errors import ReplayError
    p = dict(provenance or {})
    if p.get("engine") != ENGINE:
        raise ReplayError(f"not an spn provenance (engine {p.get('engine')!r})")
    missing = [k for k in ("options", "seed", "restart", "strategy") if p.get(k) is None]
    if missing or not isinstance(p.get("options"), dict):
        raise ReplayError(f"old provenance: no {', '.join(missing) or 'options'} recorded; it cannot be re-run "
                          f"(regenerate the file with this version)")
    dev = str(p.get("device") or "cpu")
    if dev != "cpu":
        raise ReplayError(f"the scheme was found on {dev}: GPU runs are not bit-reproducible on the CPU")
    opts = dict(p["options"])
    known = {f.name: f.type for f in fields(Strategy)} | {"data": "str", "coefficients": "str"}
    extra = [k for k in opts if k not in known]
    if extra:
        raise ReplayError(f"options {', '.join(extra)} are unknown to this version of the spn engine")
    blank = [k for k, v in opts.items() if v is None]
    if blank:  # e.g. an infinite float written as JSON null
        raise ReplayError(f"options {', '.join(blank)} have no recorded value")
    name = str(p["strategy"]).split(" ")[0].split(":")[0]
    if name.startswith("default"):
        name = str(p["strategy"])[len("default ("):-1] if "(" in str(p["strategy"]) else "default"
    from .spn_strategies import STRATEGIES
    if name not in STRATEGIES:
        raise ReplayError(f"strategy {name!r} is unknown to this version of the spn engine")
    try:
        shape = parse_shape(p["shape"] if shape is None else shape)
        rank = int(p["rank"] if rank is None else rank)
        strat = _replay_strategy(name, opts)
        coefs = opts.get("coefficients", "ternary")
        data = opts.get("data", "exhaustive")
        if coefs not in COEFFICIENTS or data not in DATA:
            raise ValueError(f"coefficients {coefs!r} / data {data!r}")
        seed, j = int(p["seed"]), int(p["restart"])
    except (KeyError, TypeError, ValueError, AlgoDiscoverError) as e:
        raise ReplayError(f"the provenance cannot be replayed: {e}") from None
    run = _Run(shape, rank, seed, Budget(count=None), "cpu", None, None, strat, str(p["strategy"]), data,
               COEFFICIENTS[coefs], None, workers=1, indices=[j])
    yield from run.iterate()


def _replay_strategy(name: str, opts: dict) -> Strategy:
    """The strategy a provenance's resolved options describe.  A setting the provenance does not record
    was added to ``Strategy`` after the file was written: it takes the dataclass default, which is by
    construction the behaviour before it existed (e.g. ``beta1`` 0.9, ``beta2`` 0.999, which ``paper``
    now sets to 0.5, 0.99), not the registered strategy's current value."""
    from dataclasses import fields
    from .spn_strategies import STRATEGIES
    base = {f.name: f.default for f in fields(Strategy) if f.name != "name"}
    rec = {k: v for k, v in opts.items() if k not in ("data", "coefficients")}
    strat = _replace(STRATEGIES[name], **{**base, **rec})
    strat.validate()
    return strat


class SpnSearch:
    """The iterator ``search`` returns; ``stats`` holds restart counts for benchmarks."""

    def __init__(self, run: "_Run"):
        self._run = run
        self._gen = run.iterate()

    def __iter__(self):
        return self

    def __next__(self) -> Scheme:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    @property
    def stats(self) -> dict:
        return dict(getattr(self._run, "stats", {}))


def _replace(strat: Strategy, **kw) -> Strategy:
    from dataclasses import replace
    return replace(strat, **kw)


class _Run:
    """One search: state of the batched restarts and the loop that trains, rounds and proves."""

    def __init__(self, shape, rank, seed, budget, device, on_progress, stop, strat, spec, data, coefs, curves,
                 workers: int = 1, indices=None):
        self.shape, self.rank, self.seed, self.budget = shape, rank, seed, budget
        self.device, self.on_progress, self.stop = device, on_progress, stop
        self.strat, self.spec, self.data, self.coefs, self.curves = strat, spec, data, coefs, curves
        self.workers = workers
        self.indices = None if indices is None else list(indices)  # run exactly these restarts (run_restarts)
        self.offset, self.stride = 0, 1  # else this run trains restarts offset, offset + stride, ...
        self.slot_exact = None  # None: per-slot exact arithmetic on the CPU, whole-batch tensors on a GPU
        self.search_rec = self.search_record()

    def search_record(self) -> dict:
        """The provenance shared by every scheme of this search (``provenance.search_record``)."""
        import torch  # noqa: F401  (so that provenance.machine() records its version)
        from .. import provenance
        s = self.shape
        return provenance.search_record(
            ENGINE, strategy=self.strat.name, options=resolved_options(self.strat, self.data, self.coefs.name),
            seed=self.seed, workers=self.workers, device=self.device, start=provenance.start_record("random"),
            shape=f"{s.m}x{s.k}x{s.n}", rank=self.rank, strategy_spec=self.spec)

    def restart_ids(self):
        """The restart indices this run trains, in order."""
        if self.indices is not None:
            return iter(self.indices)
        limit = self.budget.restarts
        if limit is None:
            return itertools.count(self.offset, self.stride)
        return iter(range(self.offset, limit, self.stride))

    # ------------------------------------------------------------------ set-up
    def _setup(self):
        import torch
        self.torch = torch
        st, s = self.strat, self.shape
        self.dtype = torch.float64 if st.dtype == "float64" else torch.float32
        dev, dt = self.device, self.dtype
        X, Y, Z = s.a_size, s.b_size, s.c_size
        self.dims = (X, Y, Z)
        trip = [(i * s.k + j, j * s.n + l, i * s.n + l) for i in range(s.m) for j in range(s.k) for l in range(s.n)]
        nnz = len(trip)
        self.ids = [torch.tensor([t[f] for t in trip], device=dev) for f in range(3)]
        self.sel = []
        for f, D in enumerate(self.dims):
            S = torch.zeros(nnz, D, dtype=dt, device=dev)
            S[torch.arange(nnz, device=dev), self.ids[f]] = 1
            self.sel.append(S)
        self.sel64 = [S.to(torch.float64) for S in self.sel]
        T = torch.zeros(X, Y, Z, dtype=dt, device=dev)
        T[self.ids[0], self.ids[1], self.ids[2]] = 1
        self.T = T
        self._T_np = T.to(torch.float64).cpu().numpy()
        self.polished = 0
        self._ext_a = None  # per slot: the current extrapolation step (strategy ``extrapolate``)
        self.T_norm2 = float(nnz)
        if self.indices is not None:
            share = len(self.indices)
        elif self.budget.restarts is None:
            share = None
        else:
            share = len(range(self.offset, self.budget.restarts, self.stride))
        self.B = st.batch if share is None else max(1, min(st.batch, share))
        # CPU: every per-restart quantity is computed so that a restart's trajectory depends on (seed, j)
        # alone (the determinism claim, replay); a GPU batch is drawn and scheduled as whole tensors
        self.slot_exact = self.device == "cpu" if self.slot_exact is None else self.slot_exact
        if not self.slot_exact:
            self.device_gen = torch.Generator(device=self.device).manual_seed(self.seed)

    @staticmethod
    def _stream_seed(seed: int, j: int, stream: int | None = None) -> int:
        ss = np.random.SeedSequence([seed, int(j)] if stream is None else [seed, int(j), stream])
        return int(ss.generate_state(1, np.uint64)[0] >> 1)

    def _init_factors(self, restart_ids):
        """Gaussian initial factors for the given restart indices, each from (seed, index) alone."""
        torch = self.torch
        out = [[], [], []]
        for j in restart_ids:
            g = torch.Generator(device="cpu").manual_seed(self._stream_seed(self.seed, j))
            for f, D in enumerate(self.dims):
                out[f].append(torch.randn(self.rank, D, generator=g, dtype=torch.float64) * self.strat.init_scale)
        return [torch.stack(o).to(device=self.device, dtype=self.dtype) for o in out]

    def _new_streams(self, restart_ids):
        """Per restart: its own generators for random pairs (stream 1) and parameter noise (stream 2)."""
        torch = self.torch
        return [{"data": torch.Generator(device="cpu").manual_seed(self._stream_seed(self.seed, j, 1)),
                 "noise": torch.Generator(device="cpu").manual_seed(self._stream_seed(self.seed, j, 2)),
                 "pairs": None, "eps": None} for j in restart_ids]

    def _per_slot_draw(self, streams, age, kind, shape_fn):
        """This step's draw of ``kind`` for every slot: each restart reads its own stream in chunks of
        ``DRAW_CHUNK`` steps, so what restart j sees at its step t depends on (seed, j, t) alone."""
        torch = self.torch
        if not self.slot_exact:  # GPU: one generator on the device for the whole batch (fast, not replayable)
            return [torch.randn((len(streams),) + shp, generator=self.device_gen, device=self.device,
                                dtype=self.dtype) for shp in shape_fn()]
        K = DRAW_CHUNK
        pos = (age % K).tolist()
        out = []
        for b, st in enumerate(streams):
            key = "pairs" if kind == "data" else "eps"
            if pos[b] == 0 or st[key] is None:
                st[key] = [torch.randn((K,) + shp, generator=st[kind], dtype=torch.float64) for shp in shape_fn()]
            out.append([x[pos[b]] for x in st[key]])
        return [torch.stack([o[i] for o in out]).to(self.device, self.dtype) for i in range(len(out[0]))]

    # ------------------------------------------------------------------ algebra
    def residual(self, F):
        """Squared tensor residual per restart, from Gram matrices (exact for small-integer factors in float64)."""
        torch = self.torch
        G = [f @ f.transpose(1, 2) for f in F]
        pp = (G[0] * G[1] * G[2]).sum((1, 2))
        pt = (F[0][:, :, self.ids[0]] * F[1][:, :, self.ids[1]] * F[2][:, :, self.ids[2]]).sum((1, 2))
        return torch.clamp(pp - 2 * pt + self.T_norm2, min=0.0)

    def dense_residual(self, F):
        P = self.torch.einsum("btx,bty,btz->bxyz", *F)
        return ((P - self.T) ** 2).sum((1, 2, 3))

    def project(self, W):
        c = self.coefs
        if c.step == 1:
            return W.round().clamp(-c.bound, c.bound)
        return (W * c.step).round().div(c.step).clamp(-c.bound, c.bound)

    def normal_equations(self, F, f):
        """G (B,r,r) and M (B,r,D): the least-squares problem for factor f given the other two."""
        o1, o2 = [(1, 2), (0, 2), (0, 1)][f]
        G = (F[o1] @ F[o1].transpose(1, 2)) * (F[o2] @ F[o2].transpose(1, 2))
        P = F[o1][:, :, self.ids[o1]] * F[o2][:, :, self.ids[o2]]
        S = self.sel[f] if P.dtype == self.dtype else self.sel64[f]
        return G, P @ S

    def weighted_solve(self, G, M, w, rhs_extra):
        """Solve (G + diag(w[:, :, d])) x_d = M[:, :, d] + rhs_extra[:, :, d] for every column d."""
        torch = self.torch
        A = G.unsqueeze(1).repeat(1, w.shape[2], 1, 1)  # B, D, r, r
        A.diagonal(dim1=-2, dim2=-1).add_(w.transpose(1, 2))
        L, info = torch.linalg.cholesky_ex(A)
        rhs = (M + rhs_extra).transpose(1, 2).unsqueeze(-1)
        x = torch.cholesky_solve(rhs, L).squeeze(-1).transpose(1, 2)
        bad = (info != 0).any(1)
        return x, bad

    @staticmethod
    def _geom(frac, start, v0, v1):
        """Per-slot geometric schedule: 0 before ``start``, then from v0 to v1 at frac = 1.

        Evaluated per slot in Python floats: a vectorised pow rounds differently in SIMD lanes and in
        the scalar tail, which would make a restart's schedule depend on its position in the batch."""
        if v0 <= 0 and v1 <= 0:
            return frac * 0
        v0 = max(v0, 1e-12)
        ratio = max(v1, 1e-12) / v0
        span = max(1.0 - start, 1e-9)
        if frac.device.type != "cpu":  # GPU: one vectorised expression (GPU runs are not replayed)
            u = ((frac - start) / span).clamp(0, 1)
            return v0 * ratio ** u * (frac >= start)
        vals = [0.0 if x < start else v0 * ratio ** min(max((x - start) / span, 0.0), 1.0) for x in frac.tolist()]
        return frac.new_tensor(vals)

    def _lr(self, frac: float) -> float:
        """Adam's learning rate at a restart's fraction ``frac`` of its steps (Python floats: see _geom)."""
        st = self.strat
        if st.lr_schedule == "cosine":
            lo = st.lr * st.lr_decay
            return lo + (st.lr - lo) * 0.5 * (1 + math.cos(math.pi * min(max(frac, 0.0), 1.0)))
        if st.lr_schedule == "ste":
            u = min(max((frac - st.ste_start) / max(1.0 - st.ste_start, 1e-9), 0.0), 1.0)
            return st.lr * st.lr_decay ** u
        return st.lr * st.lr_decay ** frac

    @staticmethod
    def _cbrt(v):
        """Cube root of positive entries by Newton steps from a power-of-two guess: only IEEE-exact
        operations (mul, div, add, frexp/ldexp), so the result of an entry does not depend on where it
        lies in the tensor (vectorised ``pow`` does)."""
        import torch
        m, e = torch.frexp(v)                      # v = m 2^e, m in [0.5, 1)
        q = torch.div(e, 3, rounding_mode="floor")
        x = torch.ldexp(torch.ones_like(v), q)     # within a factor 2^(2/3) of the root
        x = torch.where(e - 3 * q == 0, x, x * 1.25)
        for _ in range(8):
            x = (2 * x + v / (x * x)) / 3
        return x

    def balance(self, F):
        """Every product's three factors scaled to the same norm (c_t a_t b_t unchanged): the
        magnitude balancing of the gradient strategies."""
        n = [f.norm(dim=2, keepdim=True).clamp_min(1e-6) for f in F]
        g = self._cbrt(n[0] * n[1] * n[2])
        return [f * (g / x) for f, x in zip(F, n)]

    def balance_max(self, F):
        """Every product's three factors scaled to the same maximum |.| (the geometric mean of the three
        maxima; c_t a_t b_t unchanged): for a ternary scheme up to scaling, the scaling that makes all three
        factors ternary."""
        n = [f.abs().amax(dim=2, keepdim=True).clamp_min(1e-6) for f in F]
        g = self._cbrt(n[0] * n[1] * n[2])
        return [f * (g / x) for f, x in zip(F, n)]

    def rescale(self, F, mask):
        """a_t, b_t to max |.| = 1 (c_t compensates) in the slots of ``mask``."""
        torch = self.torch
        sa = F[0].abs().amax(2, keepdim=True).clamp_min(1e-6)
        sb = F[1].abs().amax(2, keepdim=True).clamp_min(1e-6)
        m = mask.view(-1, 1, 1)
        sa = torch.where(m, sa, torch.ones_like(sa))
        sb = torch.where(m, sb, torch.ones_like(sb))
        return [F[0] / sa, F[1] / sb, F[2] * sa * sb]

    # ------------------------------------------------------------------ one step
    def als_step(self, F, frac, frozen):
        torch = self.torch
        st = self.strat
        bad = torch.zeros(F[0].shape[0], dtype=torch.bool, device=self.device)
        rs = (frac >= min(st.sparse_start, st.quant_start)) & torch.tensor(st.normalize, device=self.device)
        if frozen is not None:  # rescaling would move frozen coefficients
            rs = rs & ~torch.stack([z.flatten(1).any(1) for z in frozen]).any(0)
        F = self.rescale(F, rs)
        F_old = list(F)
        l1 = self._geom(frac, st.sparse_start, st.sparse0, st.sparse1).view(-1, 1, 1)
        mu_all = self._geom(frac, st.quant_start, st.quant0, st.quant1).view(-1, 1, 1)
        ridge = st.ridge
        if st.ridge_end > 0:
            ridge = self._geom(frac, 0.0, st.ridge, st.ridge_end).view(-1, 1, 1)
        if st.als_staged:  # W_a quantized in the first half of the quantization phase, W_b in the second; W_c by repair
            mid = st.quant_start + (1 - st.quant_start) / 2
            mu_a = torch.where(frac.view(-1, 1, 1) >= mid, torch.full_like(mu_all, st.quant1),
                               self._geom(frac * (1 - st.quant_start) / (mid - st.quant_start)
                                          - st.quant_start * (1 - mid) / (mid - st.quant_start),
                                          st.quant_start, st.quant0, st.quant1).view(-1, 1, 1))
            mu_b = self._geom(frac, mid, st.quant0, st.quant1).view(-1, 1, 1)
            mus = (mu_a, mu_b, mu_all * 0)
        else:
            mus = (mu_all, mu_all, mu_all)
        for f in range(3):
            mu = mus[f]
            G, M = self.normal_equations(F, f)
            Q = self.project(F[f])
            if st.pull > 0:  # IRLS of |x - round(x)|: entries already near their rounded value are pulled harder
                mu = mu * (st.pull / ((F[f] - Q).abs() + st.pull))
            w = ridge + l1 / (F[f].abs() + st.l1_eps) + mu
            extra = mu * Q
            if st.lm > 0:
                w = w + st.lm
                extra = extra + st.lm * F[f]
            if frozen is not None:
                w = w + 1e6 * frozen[f]
                extra = extra + 1e6 * frozen[f] * Q
            w = w.to(G.dtype).expand_as(M)
            extra = extra.expand_as(M)
            # slots whose weights are all equal (no sparsity, quantization or frozen entries yet) share one
            # factorisation per slot; the others need one per column
            uniform = (w == w[:, :1, :1]).flatten(1).all(1)
            x = torch.empty_like(M)
            if uniform.any():
                u = uniform.nonzero().flatten()
                eye = torch.eye(self.rank, dtype=G.dtype, device=G.device)
                L, info = torch.linalg.cholesky_ex(G[u] + w[u, :1, :1] * eye)
                x[u] = torch.cholesky_solve(M[u] + extra[u], L)
                bad[u] |= info != 0
            if not uniform.all():
                v = (~uniform).nonzero().flatten()
                x[v], b = self.weighted_solve(G[v], M[v], w[v], extra[v])
                bad[v] |= b
            F[f] = x
        if st.extrapolate > 0:
            F = self.extrapolate(F_old, F)
        return F, bad

    def extrapolate(self, F_old, F):
        """Line extrapolation after a sweep (ALS swamps): F + a (F - F_old) per slot, kept where the
        tensor residual is lower; a grows by ``extrapolate_grow`` on success and falls back on failure."""
        torch = self.torch
        st = self.strat
        if self._ext_a is None or self._ext_a.shape[0] != F[0].shape[0]:
            self._ext_a = torch.full((F[0].shape[0],), st.extrapolate, dtype=F[0].dtype, device=F[0].device)
        a = self._ext_a.view(-1, 1, 1)
        E = [f + a * (f - g) for f, g in zip(F, F_old)]
        r0, r1 = self.residual(F), self.residual(E)
        ok = (r1 < r0) & torch.isfinite(r1)
        self._ext_a = torch.where(ok, (self._ext_a * st.extrapolate_grow).clamp(max=st.extrapolate_max),
                                  torch.full_like(self._ext_a, st.extrapolate))
        m = ok.view(-1, 1, 1)
        return [torch.where(m, e, f) for e, f in zip(E, F)]

    def quantize_ste(self, W, mix):
        """Phase-in quantization with the straight-through estimator: ``algodiscover.quant`` for the
        ternary set (hard rounding, a fixed threshold with ``round_threshold``, the TWN threshold per
        product row with ``quantizer=twn``, times the TWN scale with ``twn-scaled``), the same blend with
        this engine's projection for the integer and half sets."""
        if self.coefs.name == "ternary":
            from ..quant import scaled_ternary_ste, ternary_ste
            st = self.strat
            if st.quantizer == "twn-scaled":
                return scaled_ternary_ste(W, "twn", mix=mix, factor=st.twn_factor, dims=(2,))[0]
            thr = st.round_threshold if st.quantizer == "round" and st.round_threshold != 0.5 else None
            return ternary_ste(W, st.quantizer, mix=mix, threshold=thr, factor=st.twn_factor, dims=(2,))
        return W + mix * (self.project(W) - W).detach()

    def adam_loss(self, F, frac, pairs=None):
        """Per restart: the network's loss on this step's data plus the strategy's pulls.

        ``exhaustive``: the squared tensor residual (the loss summed over all pairs of basis matrices);
        ``random``: the mean over ``samples`` Gaussian pairs (A, B) of ||AB - W_c((W_a a) * (W_b b))||^2
        (``pairs``: each slot's own draw)."""
        torch = self.torch
        st = self.strat
        if st.ste:
            a_ab = ((frac - st.ste_start) / max(st.ste_end - st.ste_start, 1e-9)).clamp(0, 1).view(-1, 1, 1)
            shift = st.stage_shift if st.staged else 0.0
            a_c = ((frac - st.ste_start - shift) / max(st.ste_end - st.ste_start, 1e-9)).clamp(0, 1).view(-1, 1, 1)
            W = [self.quantize_ste(F[0], a_ab), self.quantize_ste(F[1], a_ab), self.quantize_ste(F[2], a_c)]
        else:
            W = list(F)
        if self.data == "random":
            s = self.shape
            A, Bm = pairs  # B x N x mk, B x N x kn
            N = A.shape[1]
            target = torch.bmm(A.view(-1, s.m, s.k), Bm.view(-1, s.k, s.n)).view(A.shape[0], N, -1)
            ua = torch.bmm(A, W[0].transpose(1, 2))   # B x N x r
            ub = torch.bmm(Bm, W[1].transpose(1, 2))
            out = torch.bmm(ua * ub, W[2])            # B x N x mn
            loss = ((out - target) ** 2).sum(2).mean(1)
        else:
            loss = self.dense_residual(W)
        if st.penalty0 > 0 or st.penalty1 > 0:
            pen = self._geom(frac, st.quant_start, st.penalty0, st.penalty1)
            if st.penalty_kind == "ternary":  # |w| |w - 1| |w + 1|: zero exactly on {-1, 0, 1}
                dist = sum((f.abs() * (f - 1).abs() * (f + 1).abs()).sum((1, 2)) for f in F)
            else:
                dist = sum(((f - self.project(f).detach()) ** 2).sum((1, 2)) for f in F)
            loss = loss + pen * dist
        if st.magnitude > 0:  # keep every coefficient inside the set's range
            b = self.coefs.bound
            loss = loss + st.magnitude * sum((torch.relu(f.abs() - b) ** 2).sum((1, 2)) for f in F)
        if st.balance > 0:  # equal norms |a_t| = |b_t| = |c_t| for every product (the scaling symmetry)
            n = [(f ** 2).sum(2) for f in F]
            g = self._cbrt((n[0] * n[1] * n[2]).clamp_min(1e-8))
            loss = loss + st.balance * sum(((x / g - 1) ** 2).sum(1) for x in n)
        if st.sparsity > 0:
            loss = loss + st.sparsity * sum(f.abs().sum((1, 2)) for f in F)
        return loss

    # ------------------------------------------------------------------ candidates
    def candidates(self, F):
        """Rounded candidates per slot: all three factors rounded, and three least-squares repairs.

        Returns a list of (factors, residual) in float64; residual 0 means the Brent equations hold
        numerically (the exact proof follows on the Scheme)."""
        torch = self.torch
        F64 = [f.to(torch.float64) for f in F]
        if self.strat.normalize:
            F64 = self.rescale(F64, torch.ones(F64[0].shape[0], dtype=torch.bool, device=self.device))
        st = self.strat
        if self.coefs.name == "ternary" and (st.quantizer != "round" or st.round_threshold != 0.5):
            # the quantizer's own ternary values (TWN: threshold per product row; round: the fixed
            # threshold) are the answer checked
            from ..quant import ternarize
            if st.quantizer == "round":
                R = [ternarize(f, "round", threshold=st.round_threshold) for f in F64]
            else:
                R = [ternarize(f, "twn", factor=st.twn_factor, dims=(2,)) for f in F64]
        else:
            R = [self.project(f) for f in F64]
        out = [(R, self.residual(R))]
        if self.strat.repair:
            eye = torch.eye(self.rank, dtype=torch.float64, device=self.device)
            for f in range(3):
                Rf = list(R)
                G, M = self.normal_equations(Rf, f)
                sol = torch.linalg.solve_ex(G + 1e-8 * eye, M)[0]
                Rf[f] = self.project(torch.nan_to_num(sol, nan=0.0, posinf=0.0, neginf=0.0))
                out.append((Rf, self.residual(Rf)))
        return out

    def polish(self, R, max_moves: int, tabu: int = 0):
        """Discrete local search on one rounded candidate: change single coefficients within the
        coefficient set, taking the move that lowers the squared Brent residual most.  With ``tabu``
        > 0 it also takes the least bad move when none improves (never undoing one of the last
        ``tabu`` changes), to cross plateaus; the best state seen is returned.  ``R``: three (r, D)
        float64 numpy arrays.  Returns the factors and their residual.

        Changing A[t, x] by d changes the residual by 2 d <E[x], b_t (x) c_t> + d^2 |b_t|^2 |c_t|^2,
        where E = P - T; all such changes for one factor come from one contraction.
        """
        c = self.coefs
        vals = np.arange(-c.bound, c.bound + 1e-9, 1.0 / c.step)
        T = self._T_np
        A, B, C = (x.copy() for x in R)
        E = np.einsum("tx,ty,tz->xyz", A, B, C) - T
        res = float((E * E).sum())
        best_state = ([A.copy(), B.copy(), C.copy()], res)
        recent: list[tuple[int, int, int]] = []
        for _ in range(max_moves):
            if res <= 1e-9:
                break
            best = (np.inf if tabu else -1e-9, None)
            for f, (F, G1, G2, spec) in enumerate(((A, B, C, "xyz,ty,tz->tx"), (B, A, C, "xyz,tx,tz->ty"),
                                                   (C, A, B, "xyz,tx,ty->tz"))):
                K = np.einsum(spec, E, G1, G2)                       # r x D
                nn = ((G1 * G1).sum(1) * (G2 * G2).sum(1))[:, None]  # r x 1
                d = vals[None, None, :] - F[:, :, None]              # r x D x V
                gain = 2 * d * K[:, :, None] + d * d * nn[:, :, None]
                gain[np.abs(d) < 1e-12] = np.inf
                for (ff, t, x) in recent:
                    if ff == f:
                        gain[t, x, :] = np.inf
                i = np.unravel_index(np.argmin(gain), gain.shape)
                if gain[i] < best[0]:
                    best = (gain[i], (f, i))
            if best[1] is None:
                break
            f, (t, x, v) = best[1]
            F = (A, B, C)[f]
            F[t, x] = vals[v]
            if tabu:
                recent = (recent + [(f, int(t), int(x))])[-tabu:]
            E = np.einsum("tx,ty,tz->xyz", A, B, C) - T
            res = float((E * E).sum())
            if res < best_state[1]:
                best_state = ([A.copy(), B.copy(), C.copy()], res)
        return best_state

    def force_freeze(self, F, frozen, mask):
        """Freeze, in the slots of ``mask``, the ``freeze_frac`` share (at least ``freeze_min``) of the
        still-free coefficients nearest to their rounded value."""
        torch = self.torch
        st = self.strat
        if not bool(mask.any()):
            return
        dist = torch.cat([(f - self.project(f)).abs().flatten(1) for f in F], 1).to(torch.float64)
        fz = torch.cat([z.flatten(1) for z in frozen], 1)
        dist = torch.where(fz, torch.full_like(dist, float("inf")), dist)
        free = (~fz).sum(1)
        k = torch.clamp((free.to(torch.float64) * st.freeze_frac).ceil().long(), min=st.freeze_min)
        k = torch.minimum(k, free) * mask.long()
        kmax = int(k.max())
        if kmax == 0:
            return
        order = torch.argsort(dist, 1)[:, :kmax]
        take = torch.arange(kmax, device=dist.device).unsqueeze(0) < k.unsqueeze(1)
        new = torch.zeros_like(fz)
        new.scatter_(1, order, take)
        off = 0
        for f in range(3):
            n = frozen[f][0].numel()
            frozen[f] |= new[:, off:off + n].view_as(frozen[f])
            off += n

    def to_scheme(self, R, b, restart, age, parts) -> Scheme:
        c = self.coefs
        mats = [R[f][b].cpu().numpy() for f in range(3)]
        if c.step == 1:
            Wa, Wb, Ct = (np.rint(M).astype(np.int64) for M in mats)
        else:
            Wa, Wb, Ct = (np.array([[c.exact(v) for v in row] for row in M], dtype=object) for M in mats)
        # signs: the first nonzero coefficient of each a_t and b_t positive (c_t takes the sign), for reading
        Ct = Ct.copy()
        for W in (Wa, Wb):
            for t in range(W.shape[0]):
                nz = np.flatnonzero(W[t] != 0)
                if len(nz) and W[t, nz[0]] < 0:
                    W[t] = -W[t]
                    Ct[t] = -Ct[t]
        from ..provenance import result_record
        prov = result_record(self.search_rec, completed_by=parts, seconds=self.budget.elapsed(),
                             restart=int(restart), step=int(age))
        return Scheme(self.shape, Wa, Wb, Ct.T, provenance=prov)

    def base_parts(self) -> list[str]:
        """The parts that trained the continuous factors (the first entries of ``completed_by``)."""
        st = self.strat
        if st.method == "als":
            return ["als"]
        return ["gradient", "als"] if st.als_every else ["gradient"]

    # ------------------------------------------------------------------ the loop
    def iterate(self) -> Iterator[Scheme]:
        import torch
        old_threads = torch.get_num_threads()
        if self.device == "cpu":
            torch.set_num_threads(1)  # same results run to run; the batch is the parallelism
        try:
            yield from self._loop()
        finally:
            torch.set_num_threads(old_threads)

    def _finished(self) -> bool:
        if self.stop is not None and self.stop():
            return True
        if self.budget.time_up():
            return True
        return self.budget.count is not None and self.distinct >= self.budget.count

    def _stats(self, done, proven_restarts, by_part, best_round, best_cont, step) -> dict:
        return {"restarts_done": done, "restarts_proven": proven_restarts, "proven": self.distinct,
                "by_part": dict(by_part), "successes": proven_restarts, "distinct": self.distinct,
                "best_residual": best_round, "best_continuous": best_cont, "steps": step,
                "polished": self.polished}

    def _trace(self, F, rid, age, traced, extra=None):
        """Curves: one point per step for each traced restart (residual, quantized fraction)."""
        torch = self.torch
        rows = [b for b, j in enumerate(rid.tolist()) if j in traced]
        if not rows:
            return
        idx = torch.tensor(rows, device=self.device)
        Fd = [f.detach()[idx].to(torch.float64) for f in F]
        cont = self.residual(Fd).cpu().tolist()
        for i, b in enumerate(rows):
            near = sum(int(((f[i] - self.project(f[i])).abs() < 0.05).sum()) for f in Fd)
            pt = {"restart": int(rid[b]), "step": int(age[b]), "residual": float(cont[i]),
                  "quantized_fraction": near / sum(f[i].numel() for f in Fd)}
            if extra and b in extra:
                pt.update(extra[b])
            self.curves.append(pt)

    def _loop(self) -> Iterator[Scheme]:
        self._setup()
        torch = self.torch
        st = self.strat
        self.distinct = 0
        seen: set[str] = set()
        done = 0
        proven_restarts = 0
        by_part: dict[str, int] = {}
        best_round = None
        best_cont = float("inf")
        source = self.restart_ids()

        def take(n):
            return list(itertools.islice(source, n))

        ids = take(self.B)
        traced = set(ids[:CURVE_TRACES]) if self.curves is not None else set()
        F = self._init_factors(ids) if ids else [torch.zeros(0, self.rank, D, dtype=self.dtype) for D in self.dims]
        streams = self._new_streams(ids)
        rid = torch.tensor(ids, dtype=torch.long)
        age = torch.zeros(len(ids), dtype=torch.long)
        adam = None
        if st.method == "adam":
            F = [f.requires_grad_(True) for f in F]
            adam = [[torch.zeros_like(f) for f in F], [torch.zeros_like(f) for f in F]]
        frozen = [torch.zeros_like(f, dtype=torch.bool) for f in F] if st.progressive else None
        step = 0
        b1, b2, eps = st.beta1, st.beta2, 1e-8
        X, Y, Z = self.dims
        ce = st.check_every
        self.stats = self._stats(0, 0, by_part, best_round, best_cont, 0)
        while len(ids) and not self._finished():
            frac = (age.to(self.dtype) / st.steps).to(self.device)
            if st.method == "als":
                with torch.no_grad():
                    F, bad = self.als_step(F, frac, frozen)
            else:
                pairs = None
                if self.data == "random":
                    pairs = self._per_slot_draw(streams, age, "data", lambda: ((st.samples, X), (st.samples, Y)))
                loss = self.adam_loss(F, frac, pairs).sum()
                grads = torch.autograd.grad(loss, F)
                with torch.no_grad():
                    # per-slot scalars in Python floats (see _geom): the learning rate and Adam's bias corrections
                    if self.slot_exact:
                        fl, al = frac.tolist(), age.tolist()
                        lr = (frac.new_tensor([self._lr(x) for x in fl]).view(-1, 1, 1)
                              if st.lr_decay != 1 else st.lr)
                        bc1 = frac.new_tensor([1 - b1 ** (a + 1) for a in al]).view(-1, 1, 1)
                        bc2 = frac.new_tensor([1 - b2 ** (a + 1) for a in al]).view(-1, 1, 1)
                    else:  # GPU: vectorised (fast; not bit-reproducible, and GPU runs are not replayed)
                        t = (age + 1).to(self.dtype).to(self.device).view(-1, 1, 1)
                        if st.lr_decay == 1:
                            lr = st.lr
                        elif st.lr_schedule == "cosine":
                            lo = st.lr * st.lr_decay
                            lr = (lo + (st.lr - lo) * 0.5 * (1 + torch.cos(math.pi * frac.clamp(0, 1)))).view(-1, 1, 1)
                        elif st.lr_schedule == "ste":
                            u = ((frac - st.ste_start) / max(1.0 - st.ste_start, 1e-9)).clamp(0, 1)
                            lr = st.lr * (st.lr_decay ** u).view(-1, 1, 1)
                        else:
                            lr = st.lr * (st.lr_decay ** frac).view(-1, 1, 1)
                        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
                    grads = [torch.nan_to_num(g) for g in grads]
                    if st.clip > 0:  # per restart: the gradient's norm over the three factors at most clip
                        norm = sum((g ** 2).sum((1, 2)) for g in grads).sqrt()
                        sc = (st.clip / norm.clamp_min(1e-12)).clamp(max=1.0).view(-1, 1, 1)
                        grads = [g * sc for g in grads]
                    for f in range(3):
                        g = grads[f]
                        if frozen is not None:
                            g = g * ~frozen[f]
                        adam[0][f].mul_(b1).add_(g, alpha=1 - b1)
                        adam[1][f].mul_(b2).addcmul_(g, g, value=1 - b2)
                        mhat = adam[0][f] / bc1
                        vhat = adam[1][f] / bc2
                        F[f] -= lr * mhat / (vhat.sqrt() + eps)
                    if st.noise > 0:  # Gaussian noise on the parameters, annealed linearly to 0 at noise_end
                        sig = (st.noise * (1 - frac / st.noise_end).clamp(min=0)).view(-1, 1, 1)
                        if bool((sig > 0).any()):
                            e = self._per_slot_draw(streams, age, "noise",
                                                    lambda: ((self.rank, X), (self.rank, Y), (self.rank, Z)))
                            for f in range(3):
                                F[f] += sig * e[f]
                    if st.fix_ab:  # stage 2 of the paper: W_a, W_b fixed at their ternary values, W_c trains on
                        m = (frac >= st.ste_start + st.stage_shift).view(-1, 1, 1)
                        if bool(m.any()):
                            for f in (0, 1):
                                F[f].copy_(torch.where(m, self.project(F[f]), F[f]))
                                adam[0][f].mul_(~m)
                                adam[1][f].mul_(~m)
                    for f in range(3):
                        if st.clamp > 0:
                            F[f].clamp_(-st.clamp, st.clamp)
                        if frozen is not None:
                            F[f].copy_(torch.where(frozen[f], self.project(F[f]), F[f]))
                    if st.balance_every:  # exact symmetry: equal norms of a_t, b_t, c_t (the product is unchanged)
                        m = ((age + 1) % st.balance_every == 0).to(self.device)
                        if bool(m.any()):
                            Fb = self.balance(F)
                            for f in range(3):
                                F[f].copy_(torch.where(m.view(-1, 1, 1), Fb[f], F[f]))
                    if st.ste_balance:  # exact reparametrisation: equal max |.| of a_t, b_t, c_t from ste_start on
                        m = (((age + 1) % st.ste_balance == 0) & (frac >= st.ste_start)).to(self.device)
                        if bool(m.any()):
                            Fb = self.balance_max(F)
                            for f in range(3):
                                F[f].copy_(torch.where(m.view(-1, 1, 1), Fb[f], F[f]))
                    if st.als_every:  # an exact ALS sweep every als_every steps of each restart
                        m = ((age + 1) % st.als_every == 0).to(self.device)
                        if bool(m.any()):
                            plain = _replace(st, sparse0=0, sparse1=0, quant0=0, quant1=0, normalize=False)
                            saved, self.strat = self.strat, plain
                            Fn, _ = self.als_step([f.detach() for f in F], frac, frozen)
                            self.strat = saved
                            for f in range(3):
                                F[f].copy_(torch.where(m.view(-1, 1, 1), Fn[f].to(F[f].dtype), F[f]))
                bad = torch.zeros(len(ids), dtype=torch.bool)
            age += 1
            step += 1
            due = (age % ce == 0) | (age >= st.steps)  # each restart is checked at its own steps
            if not bool(due.any()):
                if traced:
                    self._trace(F, rid, age, traced)
                continue
            # ---- check the due restarts: round, repair, prove; retire finished ones; refill
            d = torch.nonzero(due).flatten()
            dd = d.to(self.device)
            with torch.no_grad():
                Fd = [f.detach()[dd] for f in F]
                cont = self.residual([f.to(torch.float64) for f in Fd]).cpu()
                cont = torch.nan_to_num(cont, nan=float("inf"))
                cands = self.candidates(Fd)
                base = self.base_parts()
                cparts = [base] + [base + ["repair"]] * (len(cands) - 1)
                res = torch.stack([c[1] for c in cands], 1).cpu()  # due x candidates
                res = torch.nan_to_num(res, nan=float("inf"))
                finite = cont[torch.isfinite(cont)]
                if finite.numel():
                    best_cont = min(best_cont, float(finite.min()))
                best_round = float(res.min()) if best_round is None else min(best_round, float(res.min()))
                if st.polish and st.polish_tol > 0:
                    bestc = res.argmin(1)
                    rmin = res.min(1).values
                    near = ((rmin <= st.polish_tol) & (rmin > 1e-9)).nonzero().flatten()
                    if len(near) > st.polish_max:  # binds only for batches above polish_max (GPU)
                        near = near[torch.argsort(rmin[near])[:st.polish_max]]
                    for b in near.tolist():
                        ci = int(bestc[b])
                        Rb = [cands[ci][0][f][b].cpu().numpy() for f in range(3)]
                        Rp, rp = self.polish(Rb, st.polish_moves, st.polish_tabu)
                        if rp <= 1e-9:
                            Rt = [torch.as_tensor(x, dtype=torch.float64, device=self.device).unsqueeze(0)
                                  .expand(len(d), -1, -1).clone() for x in Rp]
                            cands.append((Rt, torch.full((len(d),), float("inf"), dtype=torch.float64)))
                            cparts.append(cparts[ci] + ["polish"])
                            res = torch.cat([res, torch.full((len(d), 1), float("inf"), dtype=res.dtype)], 1)
                            res[b, -1] = 0.0
                            self.polished += 1
                hit = (res <= 1e-9)
                ad = age[d]
                retire = hit.any(1) | bad.cpu()[d] | ~torch.isfinite(cont) | (ad >= st.steps)
                retire |= ad >= int(st.give_up * st.steps)
                retire |= (ad >= int(st.abandon_at * st.steps)) & (cont > st.abandon_tol)
                if frozen is not None:
                    fz = [z[dd].clone() for z in frozen]
                    fr = (frac[dd] >= st.freeze_start).view(-1, 1, 1)
                    for f in range(3):
                        fz[f] |= fr & ((Fd[f] - self.project(Fd[f])).abs() < st.freeze_tol)
                    if st.freeze_frac > 0:
                        retire |= torch.stack([z.flatten(1).all(1) for z in fz]).all(0).cpu()
                        self.force_freeze(Fd, fz, (frac[dd] >= st.freeze_start) & (cont.to(self.device) < st.freeze_res))
                    if st.frozen_abandon > 0:
                        anyf = torch.stack([z.flatten(1).any(1) for z in fz]).any(0).cpu()
                        retire |= anyf & (cont > st.frozen_abandon)
                    for f in range(3):
                        frozen[f][dd] = fz[f]
            marks = {}
            for i in torch.nonzero(hit.any(1)).flatten().tolist():
                b = int(d[i])
                first_part = None
                for ci in torch.nonzero(hit[i]).flatten().tolist():
                    scheme = self.to_scheme(cands[ci][0], i, rid[b], age[b], cparts[ci])
                    v = verify(scheme, symbolic=False)  # the Brent equations in exact arithmetic: a proof
                    if not v.ok:
                        continue
                    first_part = first_part or cparts[ci][-1]
                    key = canonical_key(scheme)
                    if key in seen:
                        continue
                    seen.add(key)
                    self.distinct += 1
                    yield scheme
                    if self._finished():
                        break
                if first_part is not None:
                    proven_restarts += 1
                    by_part[first_part] = by_part.get(first_part, 0) + 1
                    marks[b] = {"proven": True, "by": first_part}
                if self._finished():
                    break
            if traced:
                self._trace(F, rid, age, traced,
                            {int(d[i]): {"rounded": float(res[i].min()), **marks.get(int(d[i]), {})}
                             for i in range(len(d))})
            done += int(retire.sum())
            self.stats = self._stats(done, proven_restarts, by_part, best_round, best_cont, step)
            if self.on_progress is not None:
                el = self.budget.elapsed()
                self.on_progress(Progress(engine=ENGINE, restarts_done=done, best_residual=best_round,
                                          proven=self.distinct, elapsed=el, unit="restarts",
                                          rate=(done / el if done and el > 0 else None),
                                          extra={"restarts_proven": proven_restarts, "by_part": dict(by_part)}))
            if self._finished():
                break
            if retire.any():
                idx_ret = d[retire]
                new = take(len(idx_ret))
                # refill the first len(new) retired slots, drop the rest
                refill, drop = idx_ret[:len(new)], idx_ret[len(new):]
                if new:
                    Fn = self._init_factors(new)
                    rf = refill.to(self.device)
                    with torch.no_grad():
                        for f in range(3):
                            F[f].data[rf] = Fn[f]
                            if adam is not None:
                                adam[0][f][rf] = 0
                                adam[1][f][rf] = 0
                            if frozen is not None:
                                frozen[f][rf] = False
                        if self._ext_a is not None:  # a new restart starts from scratch
                            self._ext_a[rf] = st.extrapolate
                    for slot, stream in zip(refill.tolist(), self._new_streams(new)):
                        streams[slot] = stream
                    rid[refill] = torch.tensor(new, dtype=torch.long)
                    age[refill] = 0
                if len(drop):
                    keep = torch.ones(len(ids), dtype=torch.bool)
                    keep[drop] = False
                    kd = keep.to(self.device)
                    F = [f.detach()[kd].requires_grad_(st.method == "adam") for f in F]
                    if adam is not None:
                        adam = [[a[kd] for a in adam[0]], [a[kd] for a in adam[1]]]
                    if frozen is not None:
                        frozen = [z[kd] for z in frozen]
                    if self._ext_a is not None:
                        self._ext_a = self._ext_a[kd]
                    rid, age = rid[keep], age[keep]
                    kl = keep.tolist()
                    ids = [i for i, k in zip(ids, kl) if k]
                    streams = [x for x, k in zip(streams, kl) if k]
        self.stats = self._stats(done, proven_restarts, by_part, best_round, best_cont, step)


# ---------------------------------------------------------------------- worker processes
STATS_EVERY = 0.5  # seconds between a worker's statistics messages


def _worker_main(run: "_Run", offset: int, stride: int, out_queue, stop_event) -> None:
    """Entry point of a worker process: train restarts offset, offset + stride, ... and send every
    proven scheme (and now and then the statistics) to the parent."""
    import time
    from ._workers import worker_stop
    stop = worker_stop(stop_event)
    last = [0.0]

    def on_progress(_p):
        now = time.monotonic()
        if now - last[0] >= STATS_EVERY:
            last[0] = now
            out_queue.put(("stats", offset, dict(getattr(run, "stats", {}))))

    run.offset, run.stride = offset, stride
    run.on_progress = on_progress
    run.stop = stop
    run.budget = Budget(restarts=run.budget.restarts, time_limit=run.budget.time_limit, count=None,
                        started=run.budget.started)  # CLOCK_MONOTONIC is shared by all processes
    try:
        for scheme in run.iterate():
            out_queue.put(("scheme", offset, scheme))
    except Exception as e:  # report, never hang the parent
        out_queue.put(("error", offset, f"{type(e).__name__}: {e}"))
    out_queue.put(("stats", offset, dict(getattr(run, "stats", {}))))
    out_queue.put(("done", offset, None))


class _Pool:
    """``workers`` processes, each a ``_Run`` over its own stride of restart indices; the parent
    proves every scheme again, keeps the distinct ones and enforces the budget."""

    def __init__(self, run: "_Run", workers: int):
        self.base, self.workers = run, workers
        self.stats: dict = {}
        self.distinct = 0

    def child_run(self) -> "_Run":
        """The run each worker starts from (no callbacks: it must pickle where workers are spawned)."""
        b = self.base
        return _Run(b.shape, b.rank, b.seed, b.budget, b.device, None, None, b.strat, b.spec, b.data, b.coefs, None,
                    workers=self.workers)

    def _finished(self) -> bool:
        b = self.base
        if b.stop is not None and b.stop():
            return True
        if b.budget.time_up():
            return True
        return b.budget.count is not None and self.distinct >= b.budget.count

    def _collect(self, per_worker: dict) -> None:
        vals = list(per_worker.values())
        tot = lambda k: sum(v.get(k, 0) for v in vals)  # noqa: E731
        low = lambda k: min((v[k] for v in vals if v.get(k) is not None), default=None)  # noqa: E731
        by_part: dict[str, int] = {}
        for v in vals:
            for k, n in v.get("by_part", {}).items():
                by_part[k] = by_part.get(k, 0) + n
        self.stats = {"restarts_done": tot("restarts_done"), "restarts_proven": tot("restarts_proven"),
                      "proven": self.distinct, "by_part": by_part, "successes": tot("restarts_proven"),
                      "distinct": self.distinct, "best_residual": low("best_residual"),
                      "best_continuous": low("best_continuous"), "steps": tot("steps"),
                      "polished": tot("polished"), "workers": self.workers}
        if self.base.on_progress is not None:
            el = self.base.budget.elapsed()
            done = self.stats["restarts_done"]
            self.base.on_progress(Progress(engine=ENGINE, restarts_done=done, unit="restarts",
                                           best_residual=self.stats["best_residual"], proven=self.distinct,
                                           elapsed=el, rate=(done / el if done and el > 0 else None),
                                           extra={"restarts_proven": self.stats["restarts_proven"],
                                                  "by_part": by_part, "workers": self.workers}))

    def iterate(self) -> Iterator[Scheme]:
        from ._workers import receive, start_workers, stop_workers
        base = self.base
        child = self.child_run()
        procs, q, stop_event = start_workers(_worker_main, lambda w: (child, w, self.workers), self.workers)
        per_worker: dict[int, dict] = {}
        seen: set[str] = set()
        errors: list[str] = []

        def keep_stats(msg):
            if msg[0] == "stats":
                per_worker[msg[1]] = msg[2]

        try:
            for msg in receive(procs, q, stop_event, self._finished):
                kind, _, payload = msg
                if kind == "scheme":
                    if base.budget.count is not None and self.distinct >= base.budget.count:
                        continue  # enough: the workers are being stopped
                    if not verify(payload, symbolic=False).ok:  # proven again here: nothing unproven leaves
                        continue
                    key = canonical_key(payload)
                    if key in seen:
                        continue
                    seen.add(key)
                    self.distinct += 1
                    self._collect(per_worker)
                    yield payload
                elif kind == "stats":
                    keep_stats(msg)
                    self._collect(per_worker)
                elif kind == "error":  # receive() has stopped the others: the run cannot go on as asked
                    errors.append(payload)
        finally:
            stop_workers(procs, q, stop_event, keep_stats)
            self._collect(per_worker)
        if errors:  # a defect, not bad input: exit 3, the traceback is in the log file the message names
            from ..errors import InternalError
            raise InternalError(f"an spn worker failed: {errors[0]}")
