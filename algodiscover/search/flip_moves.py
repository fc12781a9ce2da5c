"""Moves between shapes (Kauers & Wood's meta flip graph): extend <m,k,n> -> <m,k,n+1>, project back.

- :func:`extend`: a scheme for <m,k,n> plus the m*k schoolbook products of the new column of B and C
  is a scheme for <m,k,n+1> (rank r + m*k), exact over every ring;
- :func:`project`: setting a column of B to zero and dropping that column of C turns a scheme for
  <m,k,n+1> into one for <m,k,n>; products that become zero are removed (rank <= r), exact;
  :func:`best_projection` drops the index that removes the most products;
- :func:`move_to`: the move that turns a scheme of a neighbouring shape (one dimension one more or one
  less, in any order of the dimensions) into a scheme for the shape asked (a projection: the best one);
  with ``steps=2``, or two such moves for a shape two moves away (the chain with the fewest products).

Every result is a candidate: callers prove it with ``verify`` (the flip engine does, for ``--start``).
Any dimension can move: the scheme is first cycled (:func:`core.transform.cycle`) so that the moving
dimension comes last, then cycled back.
"""

from __future__ import annotations

import re

import numpy as np

from ..core.scheme import Scheme
from ..core.shape import Shape, parse_shape
from ..core.transform import cycle, to_shape
from ..errors import ShapeError


def _extend_last(s: Scheme) -> Scheme:
    m, k, n = s.shape
    r = s.rank
    dt = object if (s.W_a.dtype == object or s.W_b.dtype == object or s.W_c.dtype == object) else np.int64
    extra = m * k
    Wa = np.zeros((r + extra, m * k), dtype=dt)
    Wb = np.zeros((r + extra, k * (n + 1)), dtype=dt)
    Wc = np.zeros((m * (n + 1), r + extra), dtype=dt)
    Wa[:r] = s.W_a
    for j in range(k):
        Wb[:r, j * (n + 1):j * (n + 1) + n] = s.W_b[:, j * n:(j + 1) * n]
    for i in range(m):
        Wc[i * (n + 1):i * (n + 1) + n, :r] = s.W_c[i * n:(i + 1) * n, :]
    t = r
    for i in range(m):
        for j in range(k):
            Wa[t, i * k + j] = 1
            Wb[t, j * (n + 1) + n] = 1
            Wc[i * (n + 1) + n, t] = 1
            t += 1
    return Scheme((m, k, n + 1), Wa, Wb, Wc, provenance=dict(s.provenance or {}))


def _project_last(s: Scheme, drop: int | None = None) -> Scheme:
    """Drop index ``drop`` (default the last) of the last dimension: that column of B is set to zero and
    that column of C is dropped."""
    m, k, n1 = s.shape
    n = n1 - 1
    if n < 1:
        raise ShapeError(f"cannot project {s.shape.angle()}: its last dimension is 1")
    drop = n if drop is None else int(drop)
    if not 0 <= drop <= n:
        raise ShapeError(f"cannot drop index {drop} of a dimension of size {n1}")
    cols = [l for l in range(n1) if l != drop]
    keep_b = [j * n1 + l for j in range(k) for l in cols]
    keep_c = [i * n1 + l for i in range(m) for l in cols]
    Wa, Wb, Wc = s.W_a, s.W_b[:, keep_b], s.W_c[keep_c, :]
    live = [t for t in range(s.rank)
            if np.any(Wa[t] != 0) and np.any(Wb[t] != 0) and np.any(Wc[:, t] != 0)]
    return Scheme((m, k, n), Wa[live], Wb[live], Wc[:, live], provenance=dict(s.provenance or {}))


def _cycles(scheme: Scheme, times: int) -> Scheme:
    for _ in range(times % 3):
        scheme = cycle(scheme)
    return scheme


# cyclic re-indexings that bring dimension ``axis`` last: <m,k,n> -> <k,n,m> (axis 0: one cycle),
# -> <n,m,k> (axis 1: two cycles); three cycles are the identity, so 3 - c cycles bring it back.  Explicit
# cycles, not core.transform.to_shape: with two equal dimensions a shape does not say which one is last.
_TO_LAST = (1, 2, 0)


def _extend_by_shapes(scheme: Scheme, axis: int) -> Scheme:
    """The extension :func:`move_to` makes (and has made for every result started from a smaller shape, so
    their walks replay): the re-indexing is chosen by shape (core.transform.to_shape), so with two equal
    dimensions it may extend the other one of them; the result is a valid scheme of the shape asked either
    way.  :func:`extend` grows exactly the dimension named."""
    s = scheme.shape
    t = list(s)
    t[axis] += 1
    m, k, n = s
    moved = _extend_last(to_shape(scheme, ((k, n, m), (n, m, k), (m, k, n))[axis]))
    return to_shape(moved, tuple(t))


def extend(scheme: Scheme, axis: int = 2) -> Scheme:
    """<m,k,n> -> one more along ``axis`` (0: m, 1: k, 2: n), rank + (product of the other two)."""
    c = _TO_LAST[axis]
    return _cycles(_extend_last(_cycles(scheme, c)), 3 - c)


def project(scheme: Scheme, axis: int = 2, index: int | None = None) -> Scheme:
    """One less along ``axis`` (0: m, 1: k, 2: n) by dropping ``index`` of that dimension (default the
    last); rank never grows.  :func:`best_projection` picks the axis and the index."""
    c = _TO_LAST[axis]
    return _cycles(_project_last(_cycles(scheme, c), index), 3 - c)


def best_projection(scheme: Scheme, axis: int = 2) -> tuple[Scheme, int]:
    """(the projection along ``axis`` with the fewest products, the index it drops): every index of the
    dimension is tried (the products whose factor lives only on that index vanish); ties go to the last."""
    best = None
    for index in range(scheme.shape[axis] - 1, -1, -1):
        p = project(scheme, axis, index)
        if best is None or p.rank < best[0].rank:
            best = (p, index)
    return best


def move_to(scheme: Scheme, target, steps: int = 1) -> tuple[Scheme, str] | None:
    """A scheme for ``target`` from a scheme of a neighbouring shape (any order of its dimensions):
    (the moved scheme, "extend <a,b,c> -> ..." / "project ..."), or None when the shapes are not
    neighbours.  ``steps=2`` also accepts a shape two moves away: every intermediate shape that is a
    neighbour of both and every first move to it (each index of each dimension a projection can drop) is
    tried, each followed by the best second move, and the chain giving the fewest products is kept (its
    description names both moves, separated by "; "); a neighbour is still moved in one step.  The best
    first projection alone can miss the best chain: our <5,5,5>:93 projected to <4,4,5> keeps 70
    products through the best single projection and 65 through the best pair."""
    one = _move_once(scheme, target)
    if one is not None or steps < 2:
        return one
    t = parse_shape(target)
    src = Shape(*scheme.shape)
    best = None
    for axis in range(3):
        for d in (-1, 1):
            mid = list(src)
            mid[axis] += d
            if min(mid) < 1:
                continue
            for first in _move_candidates(scheme, tuple(mid)):
                second = _move_once(first[0], t)
                if second is not None and (best is None or second[0].rank < best[0].rank):
                    best = (second[0], f"{first[1]}; {second[1]}")
    return best


def _move_candidates(scheme: Scheme, target):
    """Every one-step move from ``scheme`` to ``target``: the extension, or each projection (every
    dimension of the source whose reduction gives the target, every index of it)."""
    t = parse_shape(target)
    src = Shape(*scheme.shape)
    for axis in range(3):
        s2 = list(t)
        s2[axis] -= 1
        if min(s2) >= 1 and sorted(s2) == sorted(src):
            yield _extend_by_shapes(to_shape(scheme, tuple(s2)), axis), f"extend {Shape(*s2).angle()} -> {t.angle()}"
            return
    for axis in range(3):
        s2 = list(src)
        s2[axis] -= 1
        if min(s2) < 1 or sorted(s2) != sorted(t):
            continue
        for index in range(src[axis] - 1, -1, -1):
            yield (to_shape(project(scheme, axis, index), t),
                   f"project {src.angle()} -> {t.angle()} (index {index} of {'mkn'[axis]} dropped)")


_MOVE = re.compile(r"^(extend|project) <(\d+),(\d+),(\d+)> -> <(\d+),(\d+),(\d+)>"
                   r"(?: \(index (\d+) of ([mkn]) dropped\))?$")


def apply_moves(scheme: Scheme, moves: str) -> Scheme:
    """Re-apply the moves a start record names (``start["move"]``: one move, or two separated by "; ",
    as :func:`move_to` describes them) to the source scheme: exactly those moves, not a new search for
    the best ones, so a replay or a resume starts from the scheme the walk started from whatever the
    choice rule of :func:`move_to` has become since."""
    for text in str(moves).split("; "):
        m = _MOVE.match(text.strip())
        if m is None:
            raise ShapeError(f"not a move this version can re-apply: {text!r}")
        kind = m.group(1)
        a = tuple(int(x) for x in m.group(2, 3, 4))
        b = tuple(int(x) for x in m.group(5, 6, 7))
        if kind == "extend":
            if sorted(a) != sorted(scheme.shape):
                raise ShapeError(f"the move {text!r} does not start from {scheme.shape.angle()}")
            diff = [i for i in range(3) if b[i] != a[i]]
            if len(diff) != 1 or b[diff[0]] != a[diff[0]] + 1:
                raise ShapeError(f"not an extension by one: {text!r}")
            scheme = _extend_by_shapes(to_shape(scheme, a), diff[0])
        else:
            if m.group(8) is None or a != tuple(scheme.shape):
                raise ShapeError(f"the move {text!r} does not start from {scheme.shape.angle()}")
            axis = "mkn".index(m.group(9))
            scheme = to_shape(project(scheme, axis, int(m.group(8))), b)
        if tuple(scheme.shape) != b:  # pragma: no cover - to_shape raises first
            raise ShapeError(f"the move {text!r} gave {scheme.shape.angle()}")
    return scheme


def _move_once(scheme: Scheme, target) -> tuple[Scheme, str] | None:
    """The one-step move to ``target`` with the fewest products (the first such of :func:`_move_candidates`:
    the extension, else the projection whose axis comes first and, on that axis, whose index comes last)."""
    best = None
    for cand in _move_candidates(scheme, target):
        if best is None or cand[0].rank < best[0].rank:
            best = cand
    return best
