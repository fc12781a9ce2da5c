"""The SPN engine (StrassenNets): learn the two-layer sum-product network

    vec(C) = W_c ((W_a vec A) * (W_b vec B))

with coefficients driven into a small set ({-1,0,1} by default), for many restarts at once as one
batched tensor, and prove every rounded candidate exactly.

Restarts live in ``batch`` slots trained together; a slot whose restart succeeded, ran out of steps
or is clearly stuck is refilled with the next restart, so the batch stays full.  Restart ``j`` is
initialised from ``(seed, j)`` alone: the same seed gives the same schemes.  Schedules are in
:mod:`algodiscover.search.spn_strategies`.  Torch is imported here only.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

import numpy as np

from .. import __version__
from ..core.canonical import canonical_key
from ..core.scheme import Scheme
from ..core.shape import parse_shape
from ..core.verify import verify
from . import Budget, Progress
from .device import resolve_device
from .spn_strategies import COEFFICIENTS, SpnOptionError, Strategy, get_strategy

ENGINE = "spn"
OPTIONS = ("batch", "steps", "data", "strategy", "coefficients", "workers", "curves")
DATA = ("exhaustive", "random")
CURVE_TRACES = 5  # restarts traced in ``curves``
PARALLEL_FROM = 24  # m*k*n from which ``workers`` defaults to all cores (smaller shapes: found in about a second)


def search(shape, rank: int, *, seed: int | None = None, budget: Budget | None = None, device: str = "cpu",
           on_progress: Callable[[Progress], None] | None = None, stop: Callable[[], bool] | None = None,
           **options) -> Iterator[Scheme]:
    """Yield distinct schemes of ``rank`` products for ``shape``, each proven by ``verify``.

    Options: ``batch`` (restarts trained at once), ``steps`` (steps per restart), ``data``
    (``exhaustive`` or ``random``), ``strategy`` (a name from ``spn_strategies``, optionally with
    ``:key=value`` overrides), ``coefficients`` (``ternary``, ``integer`` or ``half``), ``workers``
    (processes on the CPU, each training its own batch; default all cores for m*k*n >= 24, where a
    search takes seconds or more, else 1) and ``curves`` (a list that receives training-curve
    points; one process).  Anything else raises ``SpnOptionError``.

    Restart ``j`` depends on ``(seed, j)`` alone; worker ``w`` of ``W`` trains restarts ``w, w+W, ...``,
    so a restart budget gives the same set of schemes for every number of workers (the order in which
    they arrive may differ).
    """
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
        spec = "paper"  # random data needs a gradient-trained network
    strat = get_strategy(spec, s)
    if data == "random" and strat.method != "adam":
        raise SpnOptionError(f"--data random trains the network by gradient; strategy {strat.name!r} solves on "
                             f"the exact tensor (use --strategy paper or penalty, or --data exhaustive)")
    coefs = options.get("coefficients") or "ternary"
    if coefs not in COEFFICIENTS:
        raise SpnOptionError(f"coefficients must be one of {', '.join(COEFFICIENTS)}, got {coefs!r}")
    for key in ("batch", "steps"):
        v = options.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise SpnOptionError(f"{key} must be a positive integer, got {v!r}")
    if options.get("batch") is not None:
        strat = _replace(strat, batch=int(options["batch"]))
    if options.get("steps") is not None:
        strat = _replace(strat, steps=int(options["steps"]))
    curves = options.get("curves")
    if curves is not None and not isinstance(curves, list):
        raise SpnOptionError("curves must be a list that receives training-curve points")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise SpnOptionError(f"seed must be a non-negative integer, got {seed!r}")
    dev = resolve_device(device)
    workers = options.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise SpnOptionError(f"workers must be a positive integer, got {workers!r}")
    if dev != "cpu" and workers not in (None, 1):
        raise SpnOptionError("--workers applies to --device cpu; on a GPU one process trains a large --batch")
    if curves is not None and workers not in (None, 1):
        raise SpnOptionError("training curves (--plot) are traced in one process: use --workers 1")
    if workers is None:
        from ._workers import available_cores
        workers = 1 if (dev != "cpu" or curves is not None or s.m * s.k * s.n < PARALLEL_FROM) else available_cores()
    budget = budget or Budget()
    if budget.restarts is not None:
        workers = max(1, min(int(workers), budget.restarts))
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    run = _Run(s, int(rank), int(seed), budget, dev, on_progress, stop, strat, spec or f"default ({strat.name})",
               data, COEFFICIENTS[coefs], curves)
    if workers > 1:
        return SpnSearch(_Pool(run, int(workers)))
    return SpnSearch(run)


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

    def __init__(self, shape, rank, seed, budget, device, on_progress, stop, strat, spec, data, coefs, curves):
        self.shape, self.rank, self.seed, self.budget = shape, rank, seed, budget
        self.device, self.on_progress, self.stop = device, on_progress, stop
        self.strat, self.spec, self.data, self.coefs, self.curves = strat, spec, data, coefs, curves
        self.offset, self.stride = 0, 1  # this run trains restarts offset, offset + stride, ...

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
        share = None if self.budget.restarts is None else -(-(self.budget.restarts - self.offset) // self.stride)
        self.B = st.batch if share is None else max(1, min(st.batch, share))
        if self.data == "random":
            self.data_gen = torch.Generator(device="cpu").manual_seed(self.seed ^ 0x5EED)

    def _init_factors(self, restart_ids):
        """Gaussian initial factors for the given restart indices, each from (seed, index) alone."""
        torch = self.torch
        out = [[], [], []]
        for j in restart_ids:
            ss = np.random.SeedSequence([self.seed, int(j)])
            g = torch.Generator(device="cpu").manual_seed(int(ss.generate_state(1, np.uint64)[0] >> 1))
            for f, D in enumerate(self.dims):
                out[f].append(torch.randn(self.rank, D, generator=g, dtype=torch.float64) * self.strat.init_scale)
        return [torch.stack(o).to(device=self.device, dtype=self.dtype) for o in out]

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
        """Per-slot geometric schedule: 0 before ``start``, then from v0 to v1 at frac = 1."""
        if v0 <= 0 and v1 <= 0:
            return frac * 0
        u = ((frac - start) / max(1.0 - start, 1e-9)).clamp(0, 1)
        v0 = max(v0, 1e-12)
        val = v0 * (max(v1, 1e-12) / v0) ** u
        return val * (frac >= start)

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

    def adam_loss(self, F, frac):
        torch = self.torch
        st = self.strat
        if st.ste:
            a_ab = ((frac - st.ste_start) / max(st.ste_end - st.ste_start, 1e-9)).clamp(0, 1).view(-1, 1, 1)
            shift = st.stage_shift if st.staged else 0.0
            a_c = ((frac - st.ste_start - shift) / max(st.ste_end - st.ste_start, 1e-9)).clamp(0, 1).view(-1, 1, 1)
            W = [F[0] + a_ab * (self.project(F[0]) - F[0]).detach(),
                 F[1] + a_ab * (self.project(F[1]) - F[1]).detach(),
                 F[2] + a_c * (self.project(F[2]) - F[2]).detach()]
        else:
            W = list(F)
        if self.data == "random":
            s = self.shape
            N = st.samples
            A = torch.randn(N, s.m, s.k, generator=self.data_gen, dtype=torch.float64).to(self.device, self.dtype)
            Bm = torch.randn(N, s.k, s.n, generator=self.data_gen, dtype=torch.float64).to(self.device, self.dtype)
            target = (A @ Bm).reshape(N, -1)
            ua = torch.einsum("btx,nx->bnt", W[0], A.reshape(N, -1))
            ub = torch.einsum("bty,ny->bnt", W[1], Bm.reshape(N, -1))
            out = (ua * ub) @ W[2]
            loss = ((out - target) ** 2).sum(2).mean(1)
        else:
            loss = self.dense_residual(W)
        pen = self._geom(frac, st.quant_start, st.penalty0, st.penalty1)
        if st.penalty0 > 0 or st.penalty1 > 0:
            loss = loss + pen * sum(((f - self.project(f).detach()) ** 2).sum((1, 2)) for f in F)
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

    def to_scheme(self, R, b, restart, age) -> Scheme:
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
        prov = {"engine": ENGINE, "seed": self.seed, "strategy": self.spec, "restart": int(restart),
                "step": int(age), "seconds": round(self.budget.elapsed(), 3), "version": __version__,
                "coefficients": c.name, "data": self.data}
        return Scheme(self.shape, Wa, Wb, Ct.T, provenance=prov)

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

    def _loop(self) -> Iterator[Scheme]:
        self._setup()
        torch = self.torch
        st = self.strat
        self.distinct = 0
        seen: set[str] = set()
        started = 0
        done = 0
        successes = 0
        best_round = float("inf")
        best_cont = float("inf")
        limit = self.budget.restarts

        def take(n):
            nonlocal started
            ids = []
            while len(ids) < n:
                j = self.offset + self.stride * started
                if limit is not None and j >= limit:
                    break
                ids.append(j)
                started += 1
            return ids

        ids = take(self.B)
        F = self._init_factors(ids)
        rid = torch.tensor(ids, dtype=torch.long)
        age = torch.zeros(len(ids), dtype=torch.long)
        adam = None
        if st.method == "adam":
            F = [f.requires_grad_(True) for f in F]
            adam = [[torch.zeros_like(f) for f in F], [torch.zeros_like(f) for f in F]]
        frozen = [torch.zeros_like(f, dtype=torch.bool) for f in F] if st.progressive else None
        step = 0
        b1, b2, eps = 0.9, 0.999, 1e-8
        while len(ids) and not self._finished():
            frac = (age.to(self.dtype) / st.steps).to(self.device)
            if st.method == "als":
                with torch.no_grad():
                    F, bad = self.als_step(F, frac, frozen)
            else:
                loss = self.adam_loss(F, frac).sum()
                grads = torch.autograd.grad(loss, F)
                with torch.no_grad():
                    t = (age + 1).to(self.dtype).to(self.device).view(-1, 1, 1)
                    for f in range(3):
                        g = torch.nan_to_num(grads[f])
                        if frozen is not None:
                            g = g * ~frozen[f]
                        adam[0][f].mul_(b1).add_(g, alpha=1 - b1)
                        adam[1][f].mul_(b2).addcmul_(g, g, value=1 - b2)
                        mhat = adam[0][f] / (1 - b1 ** t)
                        vhat = adam[1][f] / (1 - b2 ** t)
                        F[f] -= st.lr * mhat / (vhat.sqrt() + eps)
                        if st.clamp > 0:
                            F[f].clamp_(-st.clamp, st.clamp)
                        if frozen is not None:
                            F[f].copy_(torch.where(frozen[f], self.project(F[f]), F[f]))
                    if st.als_every and (step + 1) % st.als_every == 0:
                        plain = _replace(st, sparse0=0, sparse1=0, quant0=0, quant1=0, normalize=False)
                        saved, self.strat = self.strat, plain
                        Fn, _ = self.als_step([f.detach() for f in F], frac, frozen)
                        self.strat = saved
                        for f in range(3):
                            F[f].copy_(Fn[f])
                bad = torch.zeros(len(ids), dtype=torch.bool)
            age += 1
            step += 1
            if step % st.check_every and not (age >= st.steps).any():
                continue
            # ---- check: round, repair, prove; retire finished restarts; refill
            with torch.no_grad():
                Fd = [f.detach() for f in F]
                cont = self.residual([f.to(torch.float64) for f in Fd]).cpu()
                cont = torch.nan_to_num(cont, nan=float("inf"))
                cands = self.candidates(Fd)
                res = torch.stack([c[1] for c in cands], 1).cpu()  # B x candidates
                res = torch.nan_to_num(res, nan=float("inf"))
                finite = cont[torch.isfinite(cont)]
                if finite.numel():
                    best_cont = min(best_cont, float(finite.min()))
                best_round = min(best_round, float(res.min()))
                if st.polish and st.polish_tol > 0:
                    bestc = res.argmin(1)
                    rmin = res.min(1).values
                    near = ((rmin <= st.polish_tol) & (rmin > 1e-9)).nonzero().flatten()
                    if len(near) > st.polish_max:
                        near = near[torch.argsort(rmin[near])[:st.polish_max]]
                    for b in near.tolist():
                        ci = int(bestc[b])
                        Rb = [cands[ci][0][f][b].cpu().numpy() for f in range(3)]
                        Rp, rp = self.polish(Rb, st.polish_moves, st.polish_tabu)
                        if rp <= 1e-9:
                            Rt = [torch.as_tensor(x, dtype=torch.float64, device=self.device).unsqueeze(0)
                                  .expand(len(ids), -1, -1).clone() for x in Rp]
                            cands.append((Rt, torch.full((len(ids),), float("inf"), dtype=torch.float64)))
                            res = torch.cat([res, torch.full((len(ids), 1), float("inf"), dtype=res.dtype)], 1)
                            res[b, -1] = 0.0
                            self.polished += 1
                hit = (res <= 1e-9)
                retire = hit.any(1) | bad.cpu() | ~torch.isfinite(cont) | (age >= st.steps)
                retire |= age >= int(st.give_up * st.steps)
                retire |= (age >= int(st.abandon_at * st.steps)) & (cont > st.abandon_tol)
                if self.curves is not None:
                    order = torch.argsort(cont)[:CURVE_TRACES]
                    qf = []
                    for b in order.tolist():
                        near = sum(int(((f[b] - self.project(f[b])).abs() < 0.05).sum()) for f in Fd)
                        qf.append(near / sum(f[b].numel() for f in Fd))
                    self.curves.append({"step": step, "residual": [float(cont[b]) for b in order.tolist()],
                                        "quantized_fraction": qf})
                if frozen is not None:
                    fr = (frac >= st.freeze_start).view(-1, 1, 1)
                    for f in range(3):
                        frozen[f] |= fr & ((Fd[f] - self.project(Fd[f])).abs() < st.freeze_tol)
                    if st.freeze_frac > 0:
                        retire |= torch.stack([z.flatten(1).all(1) for z in frozen]).all(0).cpu()
                        self.force_freeze(Fd, frozen, (frac >= st.freeze_start) & (cont.to(self.device) < st.freeze_res))
                    if st.frozen_abandon > 0:
                        anyf = torch.stack([z.flatten(1).any(1) for z in frozen]).any(0).cpu()
                        retire |= anyf & (cont > st.frozen_abandon)
            for b in torch.nonzero(hit.any(1)).flatten().tolist():
                proved = False
                for ci in torch.nonzero(hit[b]).flatten().tolist():
                    scheme = self.to_scheme(cands[ci][0], b, rid[b], age[b])
                    v = verify(scheme, symbolic=False)  # the Brent equations in exact arithmetic: a proof
                    if not v.ok:
                        continue
                    proved = True
                    key = canonical_key(scheme)
                    if key in seen:
                        continue
                    seen.add(key)
                    self.distinct += 1
                    yield scheme
                    if self._finished():
                        break
                successes += proved
                if self._finished():
                    break
            done += int(retire.sum())
            if self.on_progress is not None:
                self.on_progress(Progress(engine=ENGINE, restarts_done=done, best_residual=best_round,
                                          proven=self.distinct, elapsed=self.budget.elapsed(),
                                          extra={"successes": successes}))
            self.stats = {"restarts_done": done, "successes": successes, "distinct": self.distinct,
                          "best_residual": best_round, "best_continuous": best_cont, "steps": step,
                          "polished": self.polished}
            if self._finished():
                break
            if retire.any():
                keep = ~retire
                idx_ret = torch.nonzero(retire).flatten()
                new = take(len(idx_ret))
                # refill the first len(new) retired slots, drop the rest
                refill, drop = idx_ret[:len(new)], idx_ret[len(new):]
                if new:
                    Fn = self._init_factors(new)
                    with torch.no_grad():
                        for f in range(3):
                            F[f].data[refill.to(self.device)] = Fn[f]
                            if adam is not None:
                                adam[0][f][refill.to(self.device)] = 0
                                adam[1][f][refill.to(self.device)] = 0
                            if frozen is not None:
                                frozen[f][refill.to(self.device)] = False
                        if self._ext_a is not None:  # a new restart starts from scratch
                            self._ext_a[refill.to(self.device)] = st.extrapolate
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
                    ids = [i for i, k in zip(ids, keep.tolist()) if k]
        self.stats = {"restarts_done": done, "successes": successes, "distinct": self.distinct,
                      "best_residual": best_round, "best_continuous": best_cont, "steps": step,
                          "polished": self.polished}


# ---------------------------------------------------------------------- worker processes
STATS_EVERY = 0.5  # seconds between a worker's statistics messages


def _worker_main(run: "_Run", offset: int, stride: int, out_queue, stop_event) -> None:
    """Entry point of a worker process: train restarts offset, offset + stride, ... and send every
    proven scheme (and now and then the statistics) to the parent."""
    import signal
    import time
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; Ctrl-C reaches the whole group
    flag = {"stop": False}

    def on_term(signum, frame):
        flag["stop"] = True

    signal.signal(signal.SIGTERM, on_term)
    last = [0.0]

    def on_progress(_p):
        now = time.monotonic()
        if now - last[0] >= STATS_EVERY:
            last[0] = now
            out_queue.put(("stats", offset, dict(getattr(run, "stats", {}))))

    run.offset, run.stride = offset, stride
    run.on_progress = on_progress
    run.stop = lambda: flag["stop"] or stop_event.is_set()
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
        return _Run(b.shape, b.rank, b.seed, b.budget, b.device, None, None, b.strat, b.spec, b.data, b.coefs, None)

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
        low = lambda k: min((v[k] for v in vals if k in v), default=float("inf"))  # noqa: E731
        self.stats = {"restarts_done": tot("restarts_done"), "successes": tot("successes"),
                      "distinct": self.distinct, "best_residual": low("best_residual"),
                      "best_continuous": low("best_continuous"), "steps": tot("steps"),
                      "polished": tot("polished"), "workers": self.workers}
        if self.base.on_progress is not None:
            self.base.on_progress(Progress(engine=ENGINE, restarts_done=self.stats["restarts_done"],
                                           best_residual=self.stats["best_residual"], proven=self.distinct,
                                           elapsed=self.base.budget.elapsed(),
                                           extra={"successes": self.stats["successes"], "workers": self.workers}))

    def iterate(self) -> Iterator[Scheme]:
        from ..errors import AlgoDiscoverError
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
