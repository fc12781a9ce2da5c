"""Literature facts on ranks: best known upper bounds and proven lower bounds.

The table ships as package data (``algodiscover/data/best_known_ranks.csv``),
keyed by the sorted triple, since the rank of <m,k,n> is the same for all
permutations of (m,k,n).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .shape import Shape, parse_shape


@dataclass(frozen=True)
class RankFacts:
    shape: Shape  # sorted triple
    best_rank_general: int | None
    ring_general: str | None
    best_rank_integer: int | None
    best_rank_mod2: int | None
    lower_bound: int | None  # from the literature table
    first_found: str
    best_rank_ternary: int | None = None  # coefficients in {-1, 0, 1} (column added in the 2026 table)


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


@lru_cache(maxsize=1)
def literature_table() -> dict[Shape, RankFacts]:
    """All rows of the shipped table, keyed by sorted shape."""
    out: dict[Shape, RankFacts] = {}
    with resources.files("algodiscover").joinpath("data/best_known_ranks.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        for row in csv.DictReader(fh):
            s = Shape(int(row["m"]), int(row["k"]), int(row["n"])).sorted()
            out[s] = RankFacts(
                shape=s,
                best_rank_general=_int_or_none(row["best_rank_general"]),
                ring_general=(row["ring_general"] or None),
                best_rank_integer=_int_or_none(row["best_rank_integer"]),
                best_rank_mod2=_int_or_none(row["best_rank_mod2"]),
                lower_bound=_int_or_none(row["lower_bound"]),
                first_found=row["first_found"],
                best_rank_ternary=_int_or_none(row.get("best_rank_ternary", "")),
            )
    return out


def facts(shape) -> RankFacts | None:
    """Literature facts for a shape in any order, or None if it is not tabulated."""
    return literature_table().get(parse_shape(shape).sorted())


def lower_bound(shape) -> int:
    """The best proven lower bound on the rank of <m,k,n>.

    The maximum of the literature value and the flattening bound
    max(mk, kn, mn), which holds for every shape (each flattening of the
    matmul tensor has full rank).
    """
    s = parse_shape(shape)
    flat = max(s.m * s.k, s.k * s.n, s.m * s.n)
    f = facts(s)
    if f is not None and f.lower_bound is not None:
        return max(flat, f.lower_bound)
    return flat


def best_known_rank(shape, ring: str = "general") -> int | None:
    """Best known rank for the shape: ring 'general' (characteristic 0: over Q; the table's ``ring_general``
    says whether Z already attains it), 'integer', 'mod2' or 'ternary' (coefficients in {-1, 0, 1})."""
    f = facts(shape)
    if f is None:
        return None
    return {"general": f.best_rank_general, "integer": f.best_rank_integer, "mod2": f.best_rank_mod2,
            "ternary": f.best_rank_ternary}[ring]
