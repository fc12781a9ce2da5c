"""Result tables of the catalogue as objects: plain text for a terminal, HTML in Jupyter, Markdown for a README.

* :class:`Table`: rows (dicts) and the columns to show; ``str()``/``repr()`` give an aligned text table,
  ``_repr_html_`` an HTML table, :meth:`Table.to_markdown` a Markdown one, :meth:`Table.rows` the data.
* :func:`best_ranks`: the ``catalog best`` comparison as a Table -- per shape the catalogue's best integer
  (ZT/Z), rational (ZT/Z/Q) and mod-2 rank, each beside the literature's best known rank *for the same ring*
  (``algodiscover/data/best_known_ranks.csv``), the lower bound and a status that compares like with like.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


def _cell(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, tuple) and len(x) == 3 and all(isinstance(v, int) for v in x):
        return f"{x[0]}x{x[1]}x{x[2]}"
    return str(x)


@dataclass
class Table:
    """A small table of results.  ``columns``: (key, heading) pairs; ``rows``: dicts holding those keys."""

    columns: Sequence[tuple[str, str]]
    data: list[dict] = field(default_factory=list)
    title: str = ""
    notes: list[str] = field(default_factory=list)
    format_cell: Callable[[Any], str] = _cell

    def rows(self) -> list[dict]:
        return [dict(r) for r in self.data]

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        return iter(self.rows())

    def _cells(self) -> list[list[str]]:
        return [[self.format_cell(r.get(k)) for k, _ in self.columns] for r in self.data]

    def to_text(self) -> str:
        heads = [h for _, h in self.columns]
        cells = self._cells()
        widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(heads)]

        def line(vals):
            out = []
            for i, v in enumerate(vals):
                last = i == len(vals) - 1
                out.append(v if last else (v.ljust(widths[i]) if i == 0 else v.rjust(widths[i])))
            return "  ".join(out).rstrip()

        lines = ([self.title] if self.title else []) + [line(heads)] + [line(r) for r in cells]
        return "\n".join(lines + list(self.notes))

    def to_markdown(self) -> str:
        heads = [h for _, h in self.columns]
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(r) + " |" for r in self._cells()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text() if self.data else f"<Table {self.title or ''} (no rows)>".replace("  ", " ")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for _, h in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self._cells())
        cap = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        notes = "".join(f"<p><small>{html.escape(n)}</small></p>" for n in self.notes)
        return f"<table class='algodiscover-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"


#: the columns of ``catalog best``: for each ring, the catalogue's rank beside the literature's for that ring
BEST_COLUMNS = (
    ("shape", "shape"),
    ("catalog_rank_integer", "Z here"), ("best_known_integer", "Z known"),
    ("catalog_rank_rational", "Q here"), ("best_known", "Q known"),
    ("catalog_rank_mod2_valid", "mod 2 here"), ("best_known_mod2", "mod 2 known"),
    ("lower_bound", "lower bound"), ("status", "status"),
)


def _compare(here, known) -> str:
    if here is None or known is None:
        return ""
    if here < known:
        return f"BELOW the best known {known}"
    return "matches" if here == known else f"+{here - known} over {known}"


def best_status(r: dict) -> str:
    """Like with like: the integer rank against the best known integer rank, Q against Q, mod 2 against mod 2."""
    lb = r["lower_bound"]
    parts = []
    for label, here, known in (("Z", r["catalog_rank_integer"], r["best_known_integer"]),
                               ("Q", r["catalog_rank_rational"], r["best_known"]),
                               ("mod 2", r["catalog_rank_mod2_valid"], r["best_known_mod2"])):
        if label == "Q" and here is not None and here == r["catalog_rank_integer"] and known == r["best_known_integer"]:
            continue  # the same scheme and the same literature figure: said once, under Z
        c = _compare(here, known)
        if c:
            parts.append(f"{label}: {c}")
    best = min((x for x in (r["catalog_rank_integer"], r["catalog_rank_rational"]) if x is not None), default=None)
    if best is not None and best == lb:
        return "optimal (meets the lower bound)"
    if not parts and all(r[k] is None for k in ("catalog_rank_integer", "catalog_rank_rational",
                                                "catalog_rank_mod2_valid")):
        return "-"
    return "; ".join(parts)


def best_rows(cat, include_all: bool = False) -> list[dict]:
    """Rows for ``catalog best``: per sorted shape, the catalogue's ranks beside the literature's."""
    from ..core.bounds import best_known_rank, literature_table, lower_bound
    empty = {"catalog_rank": None, "catalog_rank_mod2": None, "count": 0, "catalog_rank_integer": None,
             "catalog_rank_rational": None, "catalog_rank_mod2_valid": None}
    rows = {tuple(r["shape"]): r for r in (cat.best() if cat is not None else [])}
    if include_all:
        for s in literature_table():
            rows.setdefault(tuple(s), {"shape": s, **empty})
    out = []
    for key in sorted(rows, key=lambda s: (s[0] * s[1] * s[2], s)):
        r = {**empty, **rows[key]}
        s = r["shape"]
        row = {"shape": tuple(s), "catalog_rank": r["catalog_rank"],
               "catalog_rank_integer": r["catalog_rank_integer"], "catalog_rank_rational": r["catalog_rank_rational"],
               "catalog_rank_mod2": r["catalog_rank_mod2"], "catalog_rank_mod2_valid": r["catalog_rank_mod2_valid"],
               "best_known": best_known_rank(s), "best_known_integer": best_known_rank(s, "integer"),
               "best_known_mod2": best_known_rank(s, "mod2"), "best_known_ternary": best_known_rank(s, "ternary"),
               "lower_bound": lower_bound(s), "count": r["count"]}
        row["status"] = best_status(row)
        out.append(row)
    return out


def best_ranks(cat=None, include_all: bool = False) -> Table:
    """The ``catalog best`` comparison as a :class:`Table` (``cat``: an open Catalog, or None for the
    literature rows alone with ``include_all``)."""
    rows = best_rows(cat, include_all=include_all)
    notes = ["Z: integer coefficients (ZT/Z); Q: rational (ZT/Z/Q), compared with the best known rank over "
             "characteristic 0; mod 2: every scheme that holds modulo 2 (integer ones included). Literature: "
             "algodiscover/data/best_known_ranks.csv; lower bound: the table's, else max(mk, kn, mn)."]
    return Table(BEST_COLUMNS, rows, title="", notes=notes)
