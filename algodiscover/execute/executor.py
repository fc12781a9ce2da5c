"""Compiled executors: multiply real matrices with a proven scheme, recursively, BLAS at the leaves.

``compile(schemes, backend="numpy"|"torch", levels=None, cutoff=None) -> Executor``; ``f(A, B)``
returns ``A @ B``.  One level splits A (p x q) into m x k blocks and B into k x n blocks, forms the
r operand pairs with the scheme's straight-line addition programs (shared sub-sums, in place into
workspaces allocated once per shape), multiplies each pair by the next level (or by BLAS), and
combines the r products into the blocks of C with the third program.

Sizes that do not divide are handled by *peeling* (default: the divisible core is recursed, the
thin fringe done by BLAS) or *padding* (zeros up to a multiple, once at the top); ``benchmarks/execute.py``
measures both.

Recursion stops when a level would make any block dimension smaller than ``cutoff`` or after
``levels`` levels.  ``levels=None``/``cutoff=None`` take the values cached by ``algodiscover tune`` for
this machine, backend, dtype and thread count, else the documented defaults ``DEFAULT_CUTOFF`` with as
many levels as the cutoff allows.

Contract (tested): float64 within 1e-10 and float32 within 1e-3 of ``A @ B`` relative to max|A @ B|;
integer dtypes return exactly what ``A @ B`` returns (Z schemes are exact mod 2^bits); a Q scheme
refuses integer data (SchemeError at call); Z2-only or invalid schemes are refused at compile.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.scheme import Scheme
from ..errors import SchemeError
from .program import Program, best_program

DEFAULT_CUTOFF = 1024      # smallest block side a level may create (numpy, float); see benchmarks/execute.py
DEFAULT_MAX_LEVELS = 4
DEFAULT_MODE = "auto"      # numpy float32/float64: fused numba kernels where they move less memory, else programs
FUSED_MIN_CELLS = 128 * 128  # smaller blocks: thread start-up of the numba kernel outweighs the pass saved


# ---- programs attached to schemes -------------------------------------------------------------

def attach_programs(scheme: Scheme, programs: dict) -> None:
    """Attach programs {"a","b","c"} to a scheme after checking them exactly against W_a, W_b, W_c."""
    check_programs(scheme, programs)
    scheme._cache["programs"] = dict(programs)
    scheme._cache["programs_attached"] = True


def check_programs(scheme: Scheme, programs: dict) -> None:
    for key, W in (("a", scheme.W_a), ("b", scheme.W_b), ("c", scheme.W_c)):
        p = programs.get(key)
        if not isinstance(p, Program):
            raise SchemeError(f"program {key!r} is missing")
        if not p.computes(W):
            raise SchemeError(f"program {key!r} does not compute W_{key} exactly")


def programs_for(scheme: Scheme) -> dict:
    """The attached programs (``optimize``, or a file's ``programs``), else one deterministic greedy CSE
    pass (cached on the scheme; ``algodiscover optimize`` searches much further)."""
    progs = scheme._cache.get("programs")
    if progs is None:
        progs = {k: best_program(W, tries=1) for k, W in (("a", scheme.W_a), ("b", scheme.W_b), ("c", scheme.W_c))}
        scheme._cache["programs"] = progs
    return progs


def additions_shared(scheme: Scheme) -> int:
    p = programs_for(scheme)
    return p["a"].additions + p["b"].additions + p["c"].additions


# ---- a compiled level --------------------------------------------------------------------------

class _Level:
    """One scheme prepared for execution: programs with output signs folded into the C program."""

    def __init__(self, scheme: Scheme):
        v = scheme.verify()
        if not v.ok:
            raise SchemeError(f"scheme for {scheme.shape} of rank {scheme.rank} is {v.ring}, "
                              f"not proven over Z or Q: refusing to execute it")
        self.scheme = scheme
        self.ring = v.ring
        self.integral = scheme.is_integral
        m, k, n = scheme.shape
        self.m, self.k, self.n = m, k, n
        progs = programs_for(scheme)
        pa, pb, pc = progs["a"], progs["b"], progs["c"]
        # products whose operand is zero contribute nothing: skip them
        keep, scale = [], []
        for t in range(scheme.rank):
            oa, ob = pa.outputs[t], pb.outputs[t]
            if oa is None or ob is None:
                continue
            keep.append(t)
            scale.append(Fraction(oa[0]) * Fraction(ob[0]))
        self.products = [(pa.outputs[t][1], pb.outputs[t][1]) for t in keep]
        self.pa, self.pb = pa, pb
        # C program over the kept products, each input scaled by the signs of its operands
        full_scale = [Fraction(0)] * scheme.rank
        for t, s in zip(keep, scale):
            full_scale[t] = s
        pc = pc.remap_inputs(full_scale)
        if len(keep) < scheme.rank:
            pc = _drop_zero_inputs(pc, keep)
        self.pc = pc
        self.keep = keep
        self._fused = {}
        self.passes_program, self.passes_fused = _passes(self)

    def fused_plan(self, dtype):
        """For the fused path: which operands are views (single +-1 coefficient) and the CSR data."""
        key = np.dtype(dtype).str
        plan = self._fused.get(key)
        if plan is not None:
            return plan
        from .fused import csr
        Wa, Wb, Wc = self.scheme.W_a, self.scheme.W_b, self.scheme.W_c
        sides = []
        scale = {}
        for W in (Wa, Wb):
            where, rows = [], []
            for t in self.keep:
                nz = [(j, c) for j, c in enumerate(W[t].tolist()) if c != 0]
                if len(nz) == 1 and abs(nz[0][1]) == 1:
                    where.append(("view", nz[0][0]))
                    scale[t] = scale.get(t, 1) * nz[0][1]
                else:
                    where.append(("tmp", len(rows)))
                    rows.append(t)
            sides.append((where, csr(W, rows, dtype), len(rows)))
        Wc2 = np.empty((Wc.shape[0], len(self.keep)), dtype=object)
        for u, t in enumerate(self.keep):
            for o in range(Wc.shape[0]):
                Wc2[o, u] = Fraction(Wc[o, t]) * scale.get(t, 1)
        cdata = csr(Wc2, range(Wc2.shape[0]), dtype)
        plan = (sides[0], sides[1], cdata)
        self._fused[key] = plan
        return plan


def _passes(lv) -> tuple[int, int]:
    """Block-sized passes over memory of one level's additions: (ufunc programs, fused kernels).

    A binary ufunc reads two blocks and writes one (3 passes); an output that is not the home of its
    last operation costs a copy (2).  A fused kernel reads every source block of a materialized row
    once and writes the row once (nnz + 1), on all three sides.
    """
    pa, pb, pc = lv.pa, lv.pb, lv.pc
    n = pc.n_inputs
    homed = set()
    copies = 0
    for o in pc.outputs:
        if o is None:
            copies += 1
        elif o[0] == 1 and o[1] >= n and o[1] not in homed:
            homed.add(o[1])
        else:
            copies += 2
    program = 3 * (len(pa.ops) + len(pb.ops) + len(pc.ops)) + copies
    fused = 0
    for W in (lv.scheme.W_a, lv.scheme.W_b):
        for t in lv.keep:
            nz = [c for c in W[t].tolist() if c != 0]
            if not (len(nz) == 1 and abs(nz[0]) == 1):
                fused += len(nz) + 1
    Wc = lv.scheme.W_c
    fused += int(sum(1 for o in range(Wc.shape[0]) for t in lv.keep if Wc[o, t] != 0)) + Wc.shape[0]
    return program, fused


def _drop_zero_inputs(pc: Program, keep) -> Program:
    """Rebuild C's program over only the kept products (reads of dropped ones are zero)."""
    # simplest exact route: recompute the matrix and redo CSE on the kept columns
    W = pc.matrix()[:, keep]
    return best_program(W)


# ---- backends ------------------------------------------------------------------------------------

class _NumpyOps:
    name = "numpy"

    def asarrays(self, A, B):
        return np.asarray(A), np.asarray(B), None

    def result_dtype(self, A, B):
        return np.result_type(A.dtype, B.dtype)

    def kind(self, dtype):
        return np.dtype(dtype).kind

    def empty(self, shape, dtype, like):
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype, like):
        return np.zeros(shape, dtype=dtype)

    def cast(self, X, dtype):
        return X if X.dtype == dtype else X.astype(dtype)

    def mm(self, X, Y, out):
        np.matmul(X, Y, out=out)

    def mm_new(self, X, Y):
        return X @ Y

    def add(self, x, y, out):
        np.add(x, y, out=out)

    def sub(self, x, y, out):
        np.subtract(x, y, out=out)

    def neg(self, x, out):
        np.negative(x, out=out)

    def mul(self, x, c, out):
        np.multiply(x, c, out=out)

    def copy(self, x, out):
        np.copyto(out, x)

    def iadd(self, out, x):
        np.add(out, x, out=out)

    def fill0(self, out):
        out.fill(0)

    def const(self, c, dtype):
        dt = np.dtype(dtype)
        if dt.kind in "iu":
            bits = dt.itemsize * 8
            return dt.type(int(c) % (1 << bits)) if dt.kind == "u" else dt.type(((int(c) + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1)))
        return dt.type(float(Fraction(c)))

    def back(self, C, meta):
        return C


class _TorchOps:
    name = "torch"

    def __init__(self):
        import torch
        self.torch = torch

    def asarrays(self, A, B):
        torch = self.torch
        meta = None
        if isinstance(A, np.ndarray) or isinstance(B, np.ndarray):
            meta = "numpy"
            A = torch.from_numpy(np.ascontiguousarray(A)) if isinstance(A, np.ndarray) else A
            B = torch.from_numpy(np.ascontiguousarray(B)) if isinstance(B, np.ndarray) else B
        if not (isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor)):
            raise SchemeError("the torch executor needs torch tensors or numpy arrays")
        return A, B, meta

    def result_dtype(self, A, B):
        return self.torch.result_type(A, B)

    def kind(self, dtype):
        torch = self.torch
        if dtype == torch.bool:
            return "b"
        if dtype.is_complex:
            return "c"
        if dtype.is_floating_point:
            return "f"
        return "u" if dtype == torch.uint8 else "i"

    def empty(self, shape, dtype, like):
        return self.torch.empty(shape, dtype=dtype, device=like.device)

    def zeros(self, shape, dtype, like):
        return self.torch.zeros(shape, dtype=dtype, device=like.device)

    def cast(self, X, dtype):
        return X if X.dtype == dtype else X.to(dtype)

    def mm(self, X, Y, out):
        self.torch.mm(X, Y, out=out)

    def mm_new(self, X, Y):
        return self.torch.mm(X, Y)

    def add(self, x, y, out):
        self.torch.add(x, y, out=out)

    def sub(self, x, y, out):
        self.torch.sub(x, y, out=out)

    def neg(self, x, out):
        self.torch.neg(x, out=out)

    def mul(self, x, c, out):
        self.torch.mul(x, c, out=out)

    def copy(self, x, out):
        out.copy_(x)

    def iadd(self, out, x):
        out.add_(x)

    def fill0(self, out):
        out.zero_()

    def const(self, c, dtype):
        if self.kind(dtype) in "iu":
            return int(c)
        return float(Fraction(c))

    def back(self, C, meta):
        return C.numpy() if meta == "numpy" else C


def _ops(backend: str):
    if backend == "numpy":
        return _NumpyOps()
    if backend == "torch":
        return _TorchOps()
    raise SchemeError(f"unknown backend {backend!r}; expected 'numpy' or 'torch'")


# ---- the executor ---------------------------------------------------------------------------------

class Executor:
    """``f(A, B) -> A @ B`` with the compiled schemes; see the module docstring."""

    def __init__(self, schemes, *, backend: str = "numpy", levels: int | None = None,
                 cutoff: int | None = None, fringe: str = "peel", batched: bool | None = None,
                 mode: str | None = None):
        if isinstance(schemes, Scheme):
            schemes = [schemes]
        schemes = list(schemes)
        if not schemes or not all(isinstance(s, Scheme) for s in schemes):
            raise SchemeError("compile needs a Scheme or a non-empty list of Schemes")
        if fringe not in ("peel", "pad"):
            raise SchemeError(f"fringe must be 'peel' or 'pad', got {fringe!r}")
        if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int) or levels < 0):
            raise SchemeError(f"levels must be a non-negative integer, got {levels!r}")
        if cutoff is not None and (isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 1):
            raise SchemeError(f"cutoff must be a positive integer, got {cutoff!r}")
        self._levels_cache = {}
        self.plan = []
        for s in schemes:
            key = id(s)
            if key not in self._levels_cache:
                self._levels_cache[key] = _Level(s)
            self.plan.append(self._levels_cache[key])
        self.backend = backend
        self._ops = _ops(backend)
        self.per_level = len(schemes) > 1
        self._levels_arg, self._cutoff_arg = levels, cutoff
        self.fringe = fringe
        self.batched = batched
        self.profile = None   # set to {} to collect {(level, phase): [seconds, bytes moved]} (fused path)
        if mode not in (None, "program", "fused"):
            raise SchemeError(f"mode must be 'program' or 'fused', got {mode!r}")
        if mode == "fused" and backend != "numpy":
            raise SchemeError("mode='fused' (numba kernels) is for the numpy backend")
        self.mode = mode
        self._ws = {}

    # the effective settings for one call
    def settings(self, dtype=None) -> tuple[int, int]:
        levels, cutoff = self._levels_arg, self._cutoff_arg
        if levels is None or cutoff is None:
            from .tune import lookup
            tuned = lookup(self, dtype)
            if tuned is not None and cutoff is None:
                cutoff = tuned.get("cutoff")  # the tuned choice: recurse while blocks stay this large
        if cutoff is None:
            cutoff = DEFAULT_CUTOFF if levels is None else 1
        if levels is None:
            levels = len(self.plan) if self.per_level else DEFAULT_MAX_LEVELS
        if self.per_level:
            levels = min(levels, len(self.plan))
        return int(levels), int(cutoff)

    def _level(self, d: int) -> _Level:
        return self.plan[d] if self.per_level else self.plan[0]

    @property
    def rings(self):
        return [lv.ring for lv in self.plan]

    def __repr__(self):
        shapes = ", ".join(f"<{lv.m},{lv.k},{lv.n}>:{len(lv.products)}" for lv in self.plan)
        return f"Executor([{shapes}], backend={self.backend!r}, levels={self._levels_arg}, cutoff={self._cutoff_arg})"

    def __call__(self, A, B):
        ops = self._ops
        A, B, meta = ops.asarrays(A, B)
        if A.ndim != 2 or B.ndim != 2:
            raise SchemeError("the executor multiplies two 2-D matrices")
        if A.shape[1] != B.shape[0]:
            raise SchemeError(f"cannot multiply a {A.shape[0]}x{A.shape[1]} matrix by a "
                              f"{B.shape[0]}x{B.shape[1]} matrix")
        dtype = ops.result_dtype(A, B)
        kind = ops.kind(dtype)
        if kind == "b" or kind == "O":
            raise SchemeError(f"dtype {dtype} is not supported (boolean or object matrices: use Scheme.apply)")
        if kind in "iu" and not all(lv.integral for lv in self.plan):
            raise SchemeError("this scheme needs fractions (ring Q): it cannot multiply integer matrices "
                              "exactly; convert them to float or use Scheme.apply")
        A, B = ops.cast(A, dtype), ops.cast(B, dtype)
        levels, cutoff = self.settings(dtype)
        p, q = A.shape
        s = B.shape[1]
        if self.fringe == "pad" and levels > 0:
            depth, (mp, kp, np_) = self._depth_and_multiple(p, q, s, levels, cutoff)
            if depth > 0:
                P, Q, S = _up(p, mp), _up(q, kp), _up(s, np_)
                if (P, Q, S) != (p, q, s):
                    ws = self._workspace(("pad", P, Q, S, dtype), lambda: (
                        ops.zeros((P, Q), dtype, A), ops.zeros((Q, S), dtype, A), ops.empty((P, S), dtype, A)))
                    Ap, Bp, Cp = ws
                    ops.copy(A, Ap[:p, :q])
                    ops.copy(B, Bp[:q, :s])
                    for Z in (Ap[p:, :], Ap[:p, q:], Bp[q:, :], Bp[:q, s:]):  # a reused buffer: re-zero the margin
                        if Z.shape[0] and Z.shape[1]:
                            ops.fill0(Z)
                    self._run(0, depth, cutoff, Ap, Bp, Cp, dtype, peel=False)
                    C = ops.empty((p, s), dtype, A)
                    ops.copy(Cp[:p, :s], C)
                    return ops.back(C, meta)
                C = ops.empty((p, s), dtype, A)
                self._run(0, depth, cutoff, A, B, C, dtype, peel=False)
                return ops.back(C, meta)
        C = ops.empty((p, s), dtype, A)
        self._run(0, levels, cutoff, A, B, C, dtype, peel=True)
        return ops.back(C, meta)

    def _depth_and_multiple(self, p, q, s, levels, cutoff):
        mp = kp = np_ = 1
        depth = 0
        while depth < levels:
            lv = self._level(depth)
            P, Q, S = -(-p // (mp * lv.m)), -(-q // (kp * lv.k)), -(-s // (np_ * lv.n))
            if min(P, Q, S) < cutoff:
                break
            mp, kp, np_ = mp * lv.m, kp * lv.k, np_ * lv.n
            depth += 1
        return depth, (mp, kp, np_)

    def _workspace(self, key, make):
        ws = self._ws.get(key)
        if ws is None:
            ws = make()
            self._ws[key] = ws
        return ws

    def clear(self):
        """Free the cached workspaces."""
        self._ws.clear()

    # ---- one level --------------------------------------------------------------------------
    def _run(self, d, levels, cutoff, A, B, C, dtype, peel):
        ops = self._ops
        p, q = A.shape
        s = B.shape[1]
        if d >= levels:
            ops.mm(A, B, C)
            return
        lv = self._level(d)
        m, k, n = lv.m, lv.k, lv.n
        p0, q0, s0 = p - p % m, q - q % k, s - s % n
        bp, bq, bs = p0 // m, q0 // k, s0 // n
        if min(bp, bq, bs) < max(cutoff, 1):
            ops.mm(A, B, C)
            return
        if peel and (p0, q0, s0) != (p, q, s):
            self._core(d, levels, cutoff, lv, A[:p0, :q0], B[:q0, :s0], C[:p0, :s0], dtype, peel)
            if q0 < q:
                ops.iadd(C[:p0, :s0], ops.mm_new(A[:p0, q0:], B[q0:, :s0]))
            if s0 < s:
                ops.mm(A[:p0, :], B[:, s0:], C[:p0, s0:])
            if p0 < p:
                ops.mm(A[p0:, :], B, C[p0:, :])
            return
        self._core(d, levels, cutoff, lv, A, B, C, dtype, peel)

    def _use_fused(self, lv, dtype, cells) -> bool:
        if self.backend != "numpy" or np.dtype(dtype).char not in "fd":
            return False
        if self.mode is not None:
            return self.mode == "fused"
        # default: the path with fewer passes over memory (measured: Strassen's form fused 1.07x BLAS,
        # Winograd's form as ufunc programs 1.09x vs 0.94x fused, n = 4096, 1 thread; benchmarks/results)
        return cells >= FUSED_MIN_CELLS and lv.passes_fused < lv.passes_program

    def _core_fused(self, d, levels, cutoff, lv: _Level, A, B, C, dtype, peel):
        from .fused import combine, combine_into
        m, k, n = lv.m, lv.k, lv.n
        p, q = A.shape
        s = B.shape[1]
        bp, bq, bs = p // m, q // k, s // n
        (wa, csa, na), (wb, csb, nb), csc = lv.fused_plan(dtype)
        nprod = len(lv.products)
        key = ("fused", d, id(lv), bp, bq, bs, dtype)
        TA, TB, P = self._workspace(key, lambda: (
            np.empty((max(na, 1), bp, bq), dtype), np.empty((max(nb, 1), bq, bs), dtype),
            np.empty((nprod, bp, bs), dtype)))
        prof = self.profile
        t0 = _now() if prof is not None else 0.0
        if na:
            combine(A, bp, bq, k, *csa, TA)
        if nb:
            combine(B, bq, bs, n, *csb, TB)
        if prof is not None:
            t1 = _now()
            _acc(prof, d, "operands A,B", t1 - t0, 8 * np.dtype(dtype).itemsize // 8 * (
                (csa[0][-1] + na) * bp * bq + (csb[0][-1] + nb) * bq * bs))
        for t in range(nprod):
            ka, ja = wa[t]
            kb, jb = wb[t]
            X = A[(ja // k) * bp:(ja // k + 1) * bp, (ja % k) * bq:(ja % k + 1) * bq] if ka == "view" else TA[ja]
            Y = B[(jb // n) * bq:(jb // n + 1) * bq, (jb % n) * bs:(jb % n + 1) * bs] if kb == "view" else TB[jb]
            self._run(d + 1, levels, cutoff, X, Y, P[t], dtype, peel)
        if prof is not None:
            t2 = _now()
        combine_into(P, bp, bs, n, *csc, C)
        if prof is not None:
            _acc(prof, d, "outputs C", _now() - t2, np.dtype(dtype).itemsize * (csc[0][-1] + m * n) * bp * bs)

    def _core(self, d, levels, cutoff, lv: _Level, A, B, C, dtype, peel):
        if self._use_fused(lv, dtype, A.shape[0] * A.shape[1] // (lv.m * lv.k)):
            return self._core_fused(d, levels, cutoff, lv, A, B, C, dtype, peel)
        ops = self._ops
        m, k, n = lv.m, lv.k, lv.n
        p, q = A.shape
        s = B.shape[1]
        bp, bq, bs = p // m, q // k, s // n
        pa, pb, pc = lv.pa, lv.pb, lv.pc
        nprod = len(lv.products)
        key = (d, id(lv), bp, bq, bs, dtype)
        ws = self._workspace(key, lambda: (
            ops.empty((max(len(pa.ops), 1), bp, bq), dtype, A),
            ops.empty((max(len(pb.ops), 1), bq, bs), dtype, A),
            ops.empty((nprod, bp, bs), dtype, A),
            ops.empty((max(len(pc.ops), 1), bp, bs), dtype, A),
            _consts(lv, ops, dtype)))
        TA, TB, P, TC, consts = ws
        ca, cb, cc, co = consts
        Ablk = [A[i * bp:(i + 1) * bp, j * bq:(j + 1) * bq] for i in range(m) for j in range(k)]
        Bblk = [B[j * bq:(j + 1) * bq, l * bs:(l + 1) * bs] for j in range(k) for l in range(n)]
        va = _eval_program(ops, pa, Ablk, TA, ca)
        vb = _eval_program(ops, pb, Bblk, TB, cb)
        batched = (self.batched if self.batched is not None else _is_cuda(A)) and d + 1 >= levels \
            and self.backend == "torch"
        if batched:
            self._batched_leaf(lv, va, vb, P, dtype, A)
        else:
            for t, (ia, ib) in enumerate(lv.products):
                self._run(d + 1, levels, cutoff, va[ia], vb[ib], P[t], dtype, peel)
        Cblk = [C[i * bp:(i + 1) * bp, l * bs:(l + 1) * bs] for i in range(m) for l in range(n)]
        _eval_into(ops, pc, [P[t] for t in range(nprod)], TC, Cblk, cc, co)

    def _batched_leaf(self, lv, va, vb, P, dtype, like):
        torch = self._ops.torch
        nprod = len(lv.products)
        bp, bq = va[0].shape
        bs = vb[0].shape[1]
        key = ("bmm", id(lv), bp, bq, bs, dtype)
        SA, SB = self._workspace(key, lambda: (self._ops.empty((nprod, bp, bq), dtype, like),
                                               self._ops.empty((nprod, bq, bs), dtype, like)))
        for t, (ia, ib) in enumerate(lv.products):
            SA[t].copy_(va[ia])
            SB[t].copy_(vb[ib])
        torch.bmm(SA, SB, out=P)


def _is_cuda(X) -> bool:
    return bool(getattr(X, "is_cuda", False))


def _up(x, mult):
    return -(-x // mult) * mult


def _now():
    import time
    return time.perf_counter()


def _acc(prof, d, phase, secs, nbytes):
    e = prof.setdefault((d, phase), [0.0, 0])
    e[0] += secs
    e[1] += int(nbytes)


def _consts(lv: _Level, ops, dtype):
    """Coefficients of the three programs converted to the data type once."""
    conv = lambda c: ops.const(c, dtype)  # noqa: E731
    ca = [(conv(c1), conv(c2)) for c1, _, c2, _ in lv.pa.ops]
    cb = [(conv(c1), conv(c2)) for c1, _, c2, _ in lv.pb.ops]
    cc = [(conv(c1), conv(c2)) for c1, _, c2, _ in lv.pc.ops]
    co = [None if o is None else conv(o[0]) for o in lv.pc.outputs]
    return ca, cb, cc, co


def _lincomb(ops, c1, x, c2, y, out, raw):
    r1, r2 = raw
    if r1 == 1 and r2 == 1:
        ops.add(x, y, out)
    elif r1 == 1 and r2 == -1:
        ops.sub(x, y, out)
    elif r1 == -1 and r2 == 1:
        ops.sub(y, x, out)
    else:
        ops.mul(x, c1, out)
        if r2 == 1:
            ops.iadd(out, y)
        elif r2 == -1:
            out -= y
        else:
            out += y * c2


def _eval_program(ops, prog: Program, inputs, T, consts):
    """All variables of an input-side program (inputs are views; op results go to T[i])."""
    vals = list(inputs)
    for i, (c1, v1, c2, v2) in enumerate(prog.ops):
        k1, k2 = consts[i]
        _lincomb(ops, k1, vals[v1], k2, vals[v2], T[i], (c1, c2))
        vals.append(T[i])
    return vals


def _eval_into(ops, prog: Program, inputs, T, outs, consts, oconsts):
    """The C-side program, writing each output block of C (in place where the last op allows)."""
    n = prog.n_inputs
    # an op whose value is first needed as output o with coefficient 1 is computed straight into C
    home = {}
    used = set()
    for o, out in enumerate(prog.outputs):
        if out is not None and out[0] == 1 and out[1] >= n and out[1] not in home:
            home[out[1]] = o
            used.add(o)
    vals = list(inputs)
    for i, (c1, v1, c2, v2) in enumerate(prog.ops):
        dst = outs[home[n + i]] if (n + i) in home else T[i]
        k1, k2 = consts[i]
        _lincomb(ops, k1, vals[v1], k2, vals[v2], dst, (c1, c2))
        vals.append(dst)
    for o, out in enumerate(prog.outputs):
        if o in used:
            continue
        if out is None:
            ops.fill0(outs[o])
            continue
        c, v = out
        if c == 1:
            ops.copy(vals[v], outs[o])
        elif c == -1:
            ops.neg(vals[v], outs[o])
        else:
            ops.mul(vals[v], oconsts[o], outs[o])


def compile(schemes, backend: str = "numpy", levels: int | None = None, cutoff: int | None = None,
            **kw) -> Executor:
    """An :class:`Executor` for one scheme (every level) or a list (scheme i at level i)."""
    return Executor(schemes, backend=backend, levels=levels, cutoff=cutoff, **kw)
