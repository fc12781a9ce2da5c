"""Straight-line addition programs for the three linear maps of a scheme, and their exact check.

A :class:`Program` computes ``y = W x`` for one coefficient matrix W (rows = outputs, columns = inputs)
with binary operations only.  Variables ``0 .. n_inputs-1`` are the inputs; operation ``i`` defines
variable ``n_inputs + i`` as ``c1 * v1 + c2 * v2``; output ``o`` is ``c * v`` (or zero, ``None``).

Counting (issue 13): every operation is one binary +/- (an *addition*); a coefficient other than
+1/-1 in an operation or an output is one *scaling* on top.  Output signs are free (an executor folds
them into the products), so ``additions`` of a program is exactly ``len(ops)``.

For a scheme, the programs for W_a, W_b and W_c together give ``additions_shared``: 15 for Winograd's
form of Strassen's algorithm (Winograd 1971), 18 for Strassen's own form without sharing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import SchemeError


def _coef(x):
    """An exact coefficient from an int, Fraction or 'p/q' string (JSON)."""
    if isinstance(x, bool):
        raise SchemeError(f"program coefficient {x!r} is a boolean")
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else x
    if isinstance(x, str):
        from ..core.arith import parse_rational
        f = parse_rational(x)
        return int(f) if f.denominator == 1 else f
    raise SchemeError(f"program coefficient {x!r} is not an integer or 'p/q'")


def _jsonable(c):
    return c if isinstance(c, int) else f"{c.numerator}/{c.denominator}"


@dataclass(frozen=True)
class Program:
    n_inputs: int
    ops: tuple          # ((c1, v1, c2, v2), ...)
    outputs: tuple      # ((c, v) | None, ...)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def n_vars(self) -> int:
        return self.n_inputs + len(self.ops)

    @property
    def additions(self) -> int:
        return len(self.ops)

    @property
    def scalings(self) -> int:
        n = sum((abs(c1) != 1) + (abs(c2) != 1) for c1, _, c2, _ in self.ops)
        return n + sum(1 for o in self.outputs if o is not None and abs(o[0]) != 1)

    def validate(self) -> "Program":
        if not isinstance(self.n_inputs, int) or self.n_inputs < 0:
            raise SchemeError(f"program input count {self.n_inputs!r} is not a non-negative integer")
        for i, op in enumerate(self.ops):
            if len(op) != 4:
                raise SchemeError(f"program operation {i} is not [c1, v1, c2, v2]")
            c1, v1, c2, v2 = op
            for v in (v1, v2):
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < self.n_inputs + i:
                    raise SchemeError(f"program operation {i} reads variable {v!r}, which is not defined before it")
            if c1 == 0 or c2 == 0:
                raise SchemeError(f"program operation {i} has a zero coefficient")
        for o, out in enumerate(self.outputs):
            if out is None:
                continue
            c, v = out
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < self.n_vars or c == 0:
                raise SchemeError(f"program output {o} is not [nonzero c, a defined variable]")
        return self

    def matrix(self) -> np.ndarray:
        """The exact matrix the program computes (int64 or object of Fraction)."""
        exact = all(isinstance(c, int) for op in self.ops for c in (op[0], op[2])) and all(
            isinstance(o[0], int) for o in self.outputs if o is not None)
        dt = object
        rows = [np.zeros(self.n_inputs, dtype=dt) for _ in range(self.n_inputs)]
        for i in range(self.n_inputs):
            rows[i][i] = 1
        for c1, v1, c2, v2 in self.ops:
            rows.append(rows[v1] * c1 + rows[v2] * c2)
        W = np.zeros((len(self.outputs), self.n_inputs), dtype=dt)
        for o, out in enumerate(self.outputs):
            if out is not None:
                W[o] = rows[out[1]] * out[0]
        if exact:
            return W.astype(np.int64)
        return W

    def computes(self, W) -> bool:
        W = np.asarray(W)
        if W.shape != (len(self.outputs), self.n_inputs):
            return False
        M = self.matrix()
        return all(Fraction(x) == Fraction(y) for x, y in zip(M.flat, W.flat))

    def to_json(self) -> dict:
        return {"inputs": self.n_inputs,
                "ops": [[_jsonable(c1), v1, _jsonable(c2), v2] for c1, v1, c2, v2 in self.ops],
                "outputs": [None if o is None else [_jsonable(o[0]), o[1]] for o in self.outputs]}

    @classmethod
    def from_json(cls, obj) -> "Program":
        if not isinstance(obj, dict) or not {"inputs", "ops", "outputs"} <= set(obj):
            raise SchemeError("a program must be an object with keys inputs, ops, outputs")
        try:
            ops = tuple((_coef(c1), v1, _coef(c2), v2) for c1, v1, c2, v2 in obj["ops"])
            outs = tuple(None if o is None else (_coef(o[0]), o[1]) for o in obj["outputs"])
        except (TypeError, ValueError) as e:
            if isinstance(e, SchemeError):
                raise
            raise SchemeError(f"malformed program: {e}") from None
        return cls(obj["inputs"], ops, outs).validate()

    def remap_inputs(self, scale) -> "Program":
        """The program for W @ diag(scale): each read of input j is multiplied by scale[j]."""
        n = self.n_inputs
        f = lambda c, v: c * scale[v] if v < n else c  # noqa: E731
        ops = tuple((_norm(f(c1, v1)), v1, _norm(f(c2, v2)), v2) for c1, v1, c2, v2 in self.ops)
        outs = tuple(None if o is None else (_norm(f(*o)), o[1]) for o in self.outputs)
        return Program(n, ops, outs)


def _norm(c):
    if isinstance(c, Fraction) and c.denominator == 1:
        return int(c)
    return c


def naive_program(W) -> Program:
    """Each row summed left to right, nothing shared (additions = additions_naive of the rows)."""
    return _finish(W.shape[1], [], [_row_dict(r) for r in np.asarray(W)], share=False)


def _row_dict(row) -> dict:
    return {j: _norm(Fraction(c)) for j, c in enumerate(row.tolist()) if c != 0}


def _finish(n_inputs: int, ops: list, rows: list, share: bool = True) -> Program:
    outputs = []
    memo = {}
    for row in rows:
        if not row:
            outputs.append(None)
            continue
        items = sorted(row.items())
        c0, v0 = items[0][1], items[0][0]
        acc = v0
        path = ()
        for v, c in items[1:]:
            r = _norm(Fraction(c) / Fraction(c0))
            path = path + ((v, r),)
            key = (v0, path)
            if share and key in memo:
                acc = memo[key]
                continue
            ops.append((1, acc, r, v))
            acc = n_inputs + len(ops) - 1
            memo[key] = acc
        outputs.append((c0, acc))
    return Program(n_inputs, tuple(ops), tuple(outputs))


def greedy_cse(W, *, tries: int = 1, seed: int = 0) -> Program:
    """Greedy pair elimination: repeatedly name the sub-sum c1*x + c2*x' that most rows contain.

    Rows are compared up to a scalar factor (a row holding 2x+2y shares x+y).  With ``tries > 1``
    ties are broken at random and the shortest program is kept.
    """
    W = np.asarray(W)
    rng = np.random.default_rng(seed)
    best = None
    for attempt in range(max(1, tries)):
        prog = _greedy_once(W, rng if attempt else None)
        if best is None or (prog.additions, prog.scalings) < (best.additions, best.scalings):
            best = prog
    return best


def _greedy_once(W, rng) -> Program:
    n = W.shape[1]
    rows = [_row_dict(r) for r in W]
    ops: list = []
    nxt = n
    while True:
        counts: dict = {}
        for row in rows:
            if len(row) < 2:
                continue
            items = sorted(row.items())
            for a in range(len(items)):
                va, ca = items[a]
                for b in range(a + 1, len(items)):
                    vb, cb = items[b]
                    key = (va, vb, _norm(Fraction(cb) / Fraction(ca)))
                    counts[key] = counts.get(key, 0) + 1
        if not counts:
            break
        top = max(counts.values())
        if top < 2:
            break
        cands = [k for k, c in counts.items() if c == top]
        if rng is None:
            # prefer +1 ratios (no sign bookkeeping), then the earliest variables
            cands.sort(key=lambda k: (k[2] != 1, k[0], k[1]))
            va, vb, r = cands[0]
        else:
            va, vb, r = cands[int(rng.integers(len(cands)))]
        ops.append((1, va, r, vb))
        t = nxt
        nxt += 1
        for row in rows:
            if va in row and vb in row and Fraction(row[vb]) == Fraction(row[va]) * Fraction(r):
                c = row.pop(va)
                row.pop(vb)
                row[t] = c
    return _finish(n, ops, rows)


def best_program(W, *, tries: int = 30, seed: int = 0) -> Program:
    """The shorter of the naive program and greedy CSE (randomised ties); always exactly W."""
    cands = [naive_program(W), greedy_cse(W, tries=tries, seed=seed)]
    prog = min(cands, key=lambda p: (p.additions, p.scalings))
    if not prog.computes(W):  # pragma: no cover - a defect, not bad input
        from ..errors import InternalError
        raise InternalError("CSE produced a program that does not compute its matrix")
    return prog


# ---- composition: the flat program of a tensor-product scheme ----------------------------------

def kron_program(P: Program, Q: Program) -> Program:
    """A program for kron(W_P, W_Q) from programs for W_P and W_Q (block recursion written flat).

    Inputs are indexed i*q + j (outer i, inner j), as ``np.kron``.  First Q on every outer input
    block, then P on the resulting vectors, one copy per inner output: the nested count
    P.additions * Q.n_outputs + Q.additions * P.n_inputs.
    """
    p, q = P.n_inputs, Q.n_inputs
    qo = Q.n_outputs
    ops: list = []
    # stage 1: Q applied to each outer input block i -> variables (c, v) for inner output o
    inner = []  # inner[i][o] = (coef, var) or None
    for i in range(p):
        base = {j: i * q + j for j in range(q)}
        vmap = dict(base)
        for idx, (c1, v1, c2, v2) in enumerate(Q.ops):
            ops.append((c1, vmap[v1], c2, vmap[v2]))
            vmap[q + idx] = p * q + len(ops) - 1
        inner.append([None if o is None else (o[0], vmap[o[1]]) for o in Q.outputs])
    # stage 2: P applied per inner output o over the outer blocks
    outputs = [[None] * qo for _ in range(P.n_outputs)]
    for o in range(qo):
        val = {}  # P variable -> (coef, var) holding it (None for zero)
        for i in range(p):
            val[i] = inner[i][o]
        for idx, (c1, v1, c2, v2) in enumerate(P.ops):
            x, y = val[v1], val[v2]
            if x is None and y is None:
                val[p + idx] = None
            elif x is None:
                val[p + idx] = (_norm(Fraction(c2) * Fraction(y[0])), y[1])
            elif y is None:
                val[p + idx] = (_norm(Fraction(c1) * Fraction(x[0])), x[1])
            else:
                ops.append((_norm(Fraction(c1) * Fraction(x[0])), x[1], _norm(Fraction(c2) * Fraction(y[0])), y[1]))
                val[p + idx] = (1, p * q + len(ops) - 1)
        for po, out in enumerate(P.outputs):
            if out is None or val[out[1]] is None:
                continue
            c, v = val[out[1]]
            outputs[po][o] = (_norm(Fraction(out[0]) * Fraction(c)), v)
    flat = tuple(x for row in outputs for x in row)
    return _normalise_ops(Program(p * q, tuple(ops), flat))


def _normalise_ops(prog: Program) -> Program:
    """Rewrite ops c1*x + c2*y with c1 = +-1 = c2 where a ratio allows, pushing factors to the readers."""
    n = prog.n_inputs
    scale = {}  # var -> factor s: stored value = true value / s
    ops = []
    for idx, (c1, v1, c2, v2) in enumerate(prog.ops):
        c1 = Fraction(c1) * scale.get(v1, 1)
        c2 = Fraction(c2) * scale.get(v2, 1)
        s = c1
        ops.append((1, v1, _norm(c2 / c1), v2))
        scale[n + idx] = s
    outs = tuple(None if o is None else (_norm(Fraction(o[0]) * scale.get(o[1], 1)), o[1]) for o in prog.outputs)
    return Program(n, tuple(ops), outs)


def dead_code(prog: Program) -> Program:
    """Drop operations no output depends on, renumbering variables."""
    n = prog.n_inputs
    live = set(o[1] for o in prog.outputs if o is not None)
    for idx in range(len(prog.ops) - 1, -1, -1):
        if n + idx in live:
            _, v1, _, v2 = prog.ops[idx]
            live.update((v1, v2))
    remap = {i: i for i in range(n)}
    ops = []
    for idx, (c1, v1, c2, v2) in enumerate(prog.ops):
        if n + idx in live:
            ops.append((c1, remap[v1], c2, remap[v2]))
            remap[n + idx] = n + len(ops) - 1
    outs = tuple(None if o is None else (o[0], remap[o[1]]) for o in prog.outputs)
    return Program(n, tuple(ops), outs)
