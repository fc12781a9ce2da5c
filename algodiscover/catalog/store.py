"""The SQLite catalogue: every proven scheme once, with ring, metrics and provenance.

One table ``schemes``; a row holds the scheme itself (our JSON), its ring, metrics, the exact
``canonical_key`` (equal up to product order and scalings), the symmetry ``fingerprint`` and the
provenance (engine, strategy, seed, seconds, version, source).  A scheme enters only after exact
verification (rings ZT, Z, Q, or Z2/Z3 marked as such), and only once: a scheme whose fingerprint and
canonical key match a stored row is compared exactly (canonical products) and counted as seen again.

Concurrency: WAL journal, a busy timeout, and every batch in one ``BEGIN IMMEDIATE`` transaction, so
several processes adding at once serialise their batches and lose nothing.  The file is stamped with
an application id; a file that is not SQLite, or an SQLite file of another application, is refused with
a clear error (:class:`CatalogError`) instead of being modified.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..core.canonical import canonical_key, canonical_triples
from ..core.scheme import Scheme
from ..core.shape import Shape
from ..core.verify import VALID_RINGS, verify
from ..errors import AlgoDiscoverError, VerificationError

APPLICATION_ID = 0x41444347  # "ADCG"
SCHEMA_VERSION = 2  # 2: column additions_shared (issue 13); version-1 files migrate on open
BUSY_TIMEOUT_S = 60.0
SQLITE_MAGIC = b"SQLite format 3\x00"
CATALOG_RINGS = VALID_RINGS + ("Z2", "Z3")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schemes (
    id INTEGER PRIMARY KEY,
    m INTEGER NOT NULL, k INTEGER NOT NULL, n INTEGER NOT NULL,
    sm INTEGER NOT NULL, sk INTEGER NOT NULL, sn INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    ring TEXT NOT NULL,
    canonical_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    nnz INTEGER NOT NULL,
    additions_naive INTEGER NOT NULL,
    additions_shared INTEGER,
    max_abs_coefficient TEXT,
    engine TEXT, strategy TEXT, seed INTEGER, seconds REAL, version TEXT, source TEXT,
    provenance TEXT NOT NULL,
    data TEXT NOT NULL,
    added_at TEXT NOT NULL,
    seen INTEGER NOT NULL DEFAULT 1,
    class_id INTEGER
);
CREATE INDEX IF NOT EXISTS schemes_key ON schemes (canonical_key);
CREATE INDEX IF NOT EXISTS schemes_fingerprint ON schemes (fingerprint);
CREATE INDEX IF NOT EXISTS schemes_shape ON schemes (sm, sk, sn, rank);
"""
_COLUMNS = ("id", "m", "k", "n", "rank", "ring", "canonical_key", "fingerprint", "nnz", "additions_naive",
            "max_abs_coefficient", "engine", "strategy", "seed", "seconds", "version", "source", "provenance",
            "added_at", "seen", "class_id", "additions_shared")


class CatalogError(AlgoDiscoverError, ValueError):
    """The catalogue file cannot be used: corrupt, foreign, newer, unreadable or not writable."""


def default_path() -> Path:
    """$ALGODISCOVER_DB, else $XDG_DATA_HOME/algodiscover/catalog.sqlite (~/.local/share by default)."""
    env = os.environ.get("ALGODISCOVER_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "algodiscover" / "catalog.sqlite"


def resolve_path(db=None) -> Path:
    """``--db PATH`` when given, else :func:`default_path`."""
    return Path(db).expanduser() if db else default_path()


@dataclass(frozen=True)
class Entry:
    """One catalogue row.  :meth:`scheme` re-reads and re-verifies the stored scheme."""

    id: int
    shape: Shape
    rank: int
    ring: str
    canonical_key: str
    fingerprint: str
    nnz: int
    additions_naive: int
    max_abs_coefficient: str | None
    engine: str | None
    strategy: str | None
    seed: int | None
    seconds: float | None
    version: str | None
    source: str | None
    provenance: dict
    added_at: str
    seen: int
    class_id: int | None = None  # id of the first catalogued scheme equivalent to this one (see classify)
    data: str | None = None
    additions_shared: int | None = None  # binary +/- ops of the straight-line programs (algodiscover.execute)

    def scheme(self) -> Scheme:
        from ..formats.json_format import parse
        if self.data is None:
            raise CatalogError(f"entry {self.id} was listed without its data")
        s = parse(self.data, source=f"catalogue entry {self.id}")
        v = verify(s)
        if v.ring != self.ring:
            raise CatalogError(f"catalogue entry {self.id} is recorded as {self.ring} but re-verifies as {v.ring}")
        return s

    def as_dict(self) -> dict:
        d = {c: getattr(self, c) for c in _COLUMNS if c not in ("m", "k", "n")}
        d["shape"] = list(self.shape)
        return d

    def __repr__(self) -> str:
        """One readable line (the stored JSON and provenance are left out; see :meth:`scheme`, ``provenance``)."""
        parts = [f"{self.shape.angle()} rank {self.rank}", f"ring {self.ring}", f"additions {self.additions_naive}"]
        if self.engine:
            parts.append(f"engine {self.engine}" + (f", seed {self.seed}" if self.seed is not None else ""))
        parts.append(f"class {'?' if self.class_id is None else self.class_id}")
        return f"Entry({self.id}: " + ", ".join(parts) + ")"

    def _repr_html_(self) -> str:
        return EntryList([self])._repr_html_()


class EntryList(list):
    """The rows :meth:`Catalog.entries` returns: a plain list that shows itself as a table in Jupyter."""

    COLUMNS = (("id", "id"), ("shape", "shape"), ("rank", "rank"), ("ring", "ring"), ("additions_naive", "adds"),
               ("nnz", "nnz"), ("class", "class"), ("engine", "engine"), ("seed", "seed"), ("added_at", "added"))

    def table(self):
        from .tables import Table
        rows = [{"id": e.id, "shape": tuple(e.shape), "rank": e.rank, "ring": e.ring,
                 "additions_naive": e.additions_naive, "nnz": e.nnz,
                 "class": "?" if e.class_id is None else e.class_id, "engine": e.engine, "seed": e.seed,
                 "added_at": e.added_at} for e in self]
        return Table(self.COLUMNS, rows)

    def __repr__(self) -> str:
        return self.table().to_text() if self else "EntryList([])"

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


@dataclass(frozen=True)
class _Prepared:
    scheme: Scheme
    ring: str
    key: str
    fingerprint: str
    triples: list
    data: str
    provenance: dict


def prepare(scheme: Scheme, source: str | None = None) -> _Prepared:
    """Verify (exactly) and compute everything a row needs, outside any transaction.

    The proof is the exact Brent check (``symbolic=False``: a cached proof is reused, and the slower
    sympy cross-check is not forced onto a search's hot path)."""
    from ..symmetry import fingerprint
    v = verify(scheme, symbolic=False)
    if v.ring not in CATALOG_RINGS:
        raise VerificationError(f"only proven schemes enter the catalogue; this {scheme.shape} rank-{scheme.rank} "
                                f"scheme is {v.ring}")
    prov = dict(scheme.provenance)
    if source is not None:
        prov.setdefault("source", source)
    from .. import __version__
    prov.setdefault("version", __version__)
    s = scheme.with_provenance(**prov)
    return _Prepared(s, v.ring, canonical_key(s), fingerprint(s), canonical_triples(s),
                     json.dumps(_scheme_dict(s, v), separators=(",", ":")), prov)


def _scheme_dict(s: Scheme, v) -> dict:
    """The scheme in our JSON format (docs/DESIGN.md), with the verification already done."""
    from ..core.arith import to_jsonable
    from ..formats.json_format import FORMAT_ID
    return {"format": FORMAT_ID, "shape": list(s.shape), "rank": s.rank, "ring": v.ring,
            "W_a": to_jsonable(s.W_a), "W_b": to_jsonable(s.W_b), "W_c": to_jsonable(s.W_c),
            "metrics": s.metrics(), "provenance": _jsonable(dict(s.provenance)),
            "verification": {"method": v.method, "ring": v.ring}}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_none(x):
    try:
        return None if x is None or isinstance(x, bool) else int(x)
    except (TypeError, ValueError):
        return None


def _float_or_none(x):
    try:
        return None if x is None or isinstance(x, bool) else float(x)
    except (TypeError, ValueError):
        return None


class Catalog:
    """An open catalogue file.  ``Catalog(path)`` creates it if needed; ``readonly=True`` never writes."""

    def __init__(self, path=None, *, readonly: bool = False, timeout: float = BUSY_TIMEOUT_S):
        self.path = resolve_path(path)
        self.readonly = readonly
        self._con = None
        p = self.path
        if p.is_dir():
            raise CatalogError(f"catalogue {p} is a directory; --db needs a file path")
        if readonly and not p.exists():
            raise CatalogError(f"no catalogue at {p} yet (discover and 'catalog import' create it)")
        self._check_header()
        if not readonly:
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CatalogError(f"cannot create the catalogue directory {p.parent}: {e.strerror or e}") from None
        uri = f"file:{quote(str(p.absolute()))}?mode={'ro' if readonly else 'rwc'}"
        try:
            self._con = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            self._con.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._open_schema()
        except sqlite3.Error as e:
            self.close()
            raise CatalogError(self._explain(e)) from None

    # ---- opening ---------------------------------------------------------------------
    def _check_header(self) -> None:
        p = self.path
        try:
            if p.exists() and p.stat().st_size > 0:
                with open(p, "rb") as fh:
                    head = fh.read(16)
                if head != SQLITE_MAGIC:
                    raise CatalogError(f"{p} is not an algodiscover catalogue: it is not an SQLite database "
                                       f"(corrupt, or another kind of file); move it away or choose another --db")
        except OSError as e:
            raise CatalogError(f"cannot read the catalogue {p}: {e.strerror or e}") from None

    def _explain(self, e: sqlite3.Error) -> str:
        msg = str(e)
        if "readonly" in msg or "read-only" in msg:
            return f"catalogue {self.path} is read-only ({msg})"
        if "not a database" in msg or "malformed" in msg:
            return f"{self.path} is not a usable algodiscover catalogue ({msg}); move it away or choose another --db"
        if "unable to open" in msg:
            return f"cannot open the catalogue {self.path} ({msg})"
        return f"catalogue {self.path}: {msg}"

    def _tables(self) -> list[str]:
        return [r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def _stamp_ok(self) -> bool:
        """True if ours, False if empty/new; raises CatalogError if foreign or newer."""
        app = self._con.execute("PRAGMA application_id").fetchone()[0]
        ver = self._con.execute("PRAGMA user_version").fetchone()[0]
        tables = self._tables()
        if app == APPLICATION_ID:
            if ver > SCHEMA_VERSION:
                raise CatalogError(f"catalogue {self.path} has schema version {ver}, newer than this "
                                   f"algodiscover understands ({SCHEMA_VERSION}); upgrade algodiscover")
            return True
        if app == 0 and not tables:
            return False
        raise CatalogError(f"{self.path} is an SQLite database but not an algodiscover catalogue "
                           f"(application id {app:#x}, tables: {', '.join(tables) or 'none'}); "
                           f"choose another --db")

    def _open_schema(self) -> None:
        # read the stamp and the table list in one read transaction: another process may be creating
        # the schema right now, and separate reads could see its application id and its tables out of step
        self._con.execute("BEGIN")
        try:
            ours = self._stamp_ok()
        finally:
            self._rollback()
        if ours:
            if not self.readonly:
                self._migrate()
                self._wal()
            return
        if self.readonly:
            raise CatalogError(f"catalogue {self.path} is empty")
        self._con.execute("BEGIN IMMEDIATE")
        try:
            if not self._stamp_ok():  # nobody created it meanwhile
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._con.execute(stmt)
                self._con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self._con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._con.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self._wal()

    def _has_column(self, name: str) -> bool:
        return any(r[1] == name for r in self._con.execute("PRAGMA table_info(schemes)"))

    def _migrate(self) -> None:
        """Version 1 -> 2: add additions_shared and fill it from each row's scheme (one transaction)."""
        if self._con.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        from ..formats.json_format import parse
        self._con.execute("BEGIN IMMEDIATE")
        try:
            if self._con.execute("PRAGMA user_version").fetchone()[0] < 2:  # nobody migrated it meanwhile
                if not self._has_column("additions_shared"):
                    self._con.execute("ALTER TABLE schemes ADD COLUMN additions_shared INTEGER")
                rows = self._con.execute("SELECT id, data FROM schemes").fetchall()
                for rid, data in rows:
                    adds = parse(data, source=f"catalogue entry {rid}").additions_shared
                    self._con.execute("UPDATE schemes SET additions_shared = ? WHERE id = ?", (adds, rid))
                self._con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._con.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _select_columns(self) -> str:
        """_COLUMNS for SELECT; an old read-only catalogue (not migrated) reads NULL for new columns."""
        if getattr(self, "_old", None) is None:
            self._old = not self._has_column("additions_shared")
        return ", ".join("NULL" if (c == "additions_shared" and self._old) else c for c in _COLUMNS)

    def _wal(self) -> None:
        try:
            mode = self._con.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                self._con.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            pass  # another process holds it busy: it switches, or we stay in rollback mode (still safe)
        self._con.execute("PRAGMA synchronous = NORMAL")

    def _rollback(self) -> None:
        try:
            self._con.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # ---- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- writing --------------------------------------------------------------------------
    def add(self, scheme: Scheme, *, source: str | None = None) -> tuple[int, bool]:
        """Add one proven scheme; (row id, True if new)."""
        return self.add_many([scheme], source=source)[0]

    def add_many(self, schemes, *, source: str | None = None) -> list[tuple[int, bool]]:
        """Add proven schemes in one transaction; [(row id, True if new)], duplicates counted as seen."""
        prepared = [p if isinstance(p, _Prepared) else prepare(p, source) for p in schemes]
        return self.add_prepared(prepared)

    def add_prepared(self, prepared: list[_Prepared]) -> list[tuple[int, bool]]:
        if self.readonly:
            raise CatalogError(f"catalogue {self.path} was opened read-only")
        if not prepared:
            return []
        from ..formats.json_format import parse
        con = self._con
        out = []
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                for p in prepared:
                    dup = None
                    for rid, data in con.execute(
                            "SELECT id, data FROM schemes WHERE canonical_key = ? AND fingerprint = ?",
                            (p.key, p.fingerprint)):
                        if canonical_triples(parse(data, source=f"catalogue entry {rid}")) == p.triples:
                            dup = rid
                            break
                    if dup is not None:
                        con.execute("UPDATE schemes SET seen = seen + 1 WHERE id = ?", (dup,))
                        out.append((dup, False))
                        continue
                    s = p.scheme
                    sm, sk, sn = s.shape.sorted()
                    prov = p.provenance
                    cur = con.execute(
                        "INSERT INTO schemes (m, k, n, sm, sk, sn, rank, ring, canonical_key, fingerprint, nnz,"
                        " additions_naive, max_abs_coefficient, engine, strategy, seed, seconds, version, source,"
                        " provenance, data, added_at, additions_shared)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (*s.shape, sm, sk, sn, s.rank, p.ring, p.key, p.fingerprint, s.nnz, s.additions_naive,
                         str(s.metrics()["max_abs_coefficient"]),
                         _str_or_none(prov.get("engine")), _str_or_none(prov.get("strategy")),
                         _int_or_none(prov.get("seed")),
                         _float_or_none(prov.get("seconds", prov.get("time"))),
                         _str_or_none(prov.get("version")), _str_or_none(prov.get("source")),
                         json.dumps(_jsonable(prov), separators=(",", ":")), p.data, _now(),
                         s.metrics()["additions_shared"]))
                    out.append((cur.lastrowid, True))
                con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as e:
            raise CatalogError(self._explain(e)) from None
        return out

    # ---- reading ----------------------------------------------------------------------------
    def _query(self, sql: str, params=()):
        try:
            return self._con.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise CatalogError(self._explain(e)) from None

    def count(self) -> int:
        return self._query("SELECT COUNT(*) FROM schemes")[0][0]

    def entries(self, *, shape=None, rank: int | None = None, ring: str | None = None, engine: str | None = None,
                any_order: bool = True, limit: int | None = None, with_data: bool = False) -> "EntryList":
        """Rows, best first (shape, rank, ring, additions), optionally filtered."""
        where, params = [], []
        if shape is not None:
            from ..core.shape import parse_shape
            s = parse_shape(shape)
            if any_order:
                where.append("sm = ? AND sk = ? AND sn = ?")
                params.extend(s.sorted())
            else:
                where.append("m = ? AND k = ? AND n = ?")
                params.extend(s)
        if rank is not None:
            where.append("rank = ?")
            params.append(int(rank))
        if ring is not None:
            where.append("ring = ?")
            params.append(ring)
        if engine is not None:
            where.append("engine = ?")
            params.append(engine)
        cols = self._select_columns() + (", data" if with_data else "")
        sql = f"SELECT {cols} FROM schemes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += (" ORDER BY sm, sk, sn, m, k, n, rank, CASE ring WHEN 'ZT' THEN 0 WHEN 'Z' THEN 1 WHEN 'Q' THEN 2"
                " ELSE 3 END, additions_naive, id")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return EntryList(_entry(row, with_data) for row in self._query(sql, params))

    def get(self, entry_id: int) -> Entry | None:
        rows = self._query(f"SELECT {self._select_columns()}, data FROM schemes WHERE id = ?", (int(entry_id),))
        return _entry(rows[0], True) if rows else None

    def classify(self, *, shape=None, time_limit: float = 10.0, total_time: float | None = None,
                 deadline: float | None = None, on_progress=None) -> dict:
        """Sort unclassified rows into equivalence classes under the symmetry group.

        A row joins the class of the first representative (same fingerprint) it is proven equivalent to
        (transformation checked exactly); it founds a new class when every candidate is proven *not*
        equivalent; it stays unclassified when a check ends 'unknown'.  ``time_limit`` bounds one
        equivalence check; ``total_time`` the whole call (or ``deadline``, a ``time.monotonic()`` instant, when the
        caller's clock started earlier): when it runs out the rows not reached stay unclassified
        (``not_reached``), and every check is cut to the time left.  ``on_progress(done, total)``
        is called after each row.  Returns counts: joined, new_classes, undecided, not_reached, total, seconds.
        """
        import time as _time
        from ..formats.json_format import parse
        from ..symmetry import EQUIVALENT, UNKNOWN, equivalent
        if self.readonly:
            raise CatalogError(f"catalogue {self.path} was opened read-only")
        t0 = _time.monotonic()
        end = None if total_time is None else t0 + float(total_time)
        if deadline is not None:
            end = deadline if end is None else min(end, deadline)
        todo = [e for e in self.entries(shape=shape, with_data=True) if e.class_id is None]
        todo.sort(key=lambda e: e.id)
        stats = {"joined": 0, "new_classes": 0, "undecided": 0, "not_reached": 0, "total": len(todo)}
        reps_cache: dict[int, object] = {}
        for i, e in enumerate(todo):
            if end is not None and _time.monotonic() >= end:
                stats["not_reached"] = len(todo) - i
                break
            scheme = parse(e.data, source=f"catalogue entry {e.id}")
            reps = self._query("SELECT id, data FROM schemes WHERE fingerprint = ? AND class_id = id AND id != ?"
                               " ORDER BY id", (e.fingerprint, e.id))
            cls, undecided, cut = None, False, False
            for rid, data in reps:
                limit = time_limit
                if end is not None:
                    left = end - _time.monotonic()
                    if left <= 0:
                        cut = True
                        break
                    limit = left if limit is None else min(limit, left)
                rep = reps_cache.get(rid) or parse(data, source=f"catalogue entry {rid}")
                reps_cache[rid] = rep
                res = equivalent(rep, scheme, time_limit=limit)
                if res.verdict == EQUIVALENT:
                    cls = rid
                    break
                undecided = undecided or res.verdict == UNKNOWN
            if cls is None and cut:
                stats["not_reached"] = len(todo) - i
                break
            if cls is None and undecided:
                stats["undecided"] += 1
            else:
                stats["joined" if cls is not None else "new_classes"] += 1
                self._execute_write("UPDATE schemes SET class_id = ? WHERE id = ?",
                                    (cls if cls is not None else e.id, e.id))
            if on_progress is not None:
                on_progress(i + 1, len(todo))
        stats["seconds"] = round(_time.monotonic() - t0, 3)
        return stats

    def _execute_write(self, sql: str, params=()) -> None:
        try:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.execute(sql, params)
                self._con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as e:
            raise CatalogError(self._explain(e)) from None

    def classes(self, *, shape=None) -> list[dict]:
        """Per shape and rank: schemes, equivalence classes found, and rows not yet classified."""
        out: dict = {}
        for e in self.entries(shape=shape):
            key = (tuple(e.shape), e.rank)
            r = out.setdefault(key, {"shape": e.shape, "rank": e.rank, "schemes": 0, "classes": set(),
                                     "unclassified": 0})
            r["schemes"] += 1
            if e.class_id is None:
                r["unclassified"] += 1
            else:
                r["classes"].add(e.class_id)
        return [{**r, "classes": len(r["classes"])} for _, r in sorted(out.items())]

    def best(self) -> list[dict]:
        """Per sorted shape in the catalogue, the smallest rank of each kind:

        ``catalog_rank`` over ZT/Z/Q (= ``catalog_rank_rational``), ``catalog_rank_integer`` over ZT/Z,
        ``catalog_rank_mod2`` of schemes valid *only* modulo 2, and ``catalog_rank_mod2_valid``: the smallest
        rank that holds modulo 2 (integer schemes hold modulo 2 too), to compare with the literature's
        mod-2 column.
        """
        rows = self._query(
            "SELECT sm, sk, sn, MIN(CASE WHEN ring IN ('ZT', 'Z', 'Q') THEN rank END),"
            " MIN(CASE WHEN ring = 'Z2' THEN rank END), COUNT(*),"
            " MIN(CASE WHEN ring IN ('ZT', 'Z') THEN rank END), MIN(CASE WHEN ring IN ('ZT', 'Z', 'Z2') THEN rank END)"
            " FROM schemes GROUP BY sm, sk, sn ORDER BY sm * sk * sn, sm, sk, sn")
        return [{"shape": Shape(a, b, c), "catalog_rank": r, "catalog_rank_mod2": r2, "count": cnt,
                 "catalog_rank_integer": ri, "catalog_rank_rational": r, "catalog_rank_mod2_valid": rm}
                for a, b, c, r, r2, cnt, ri, rm in rows]


def _str_or_none(x):
    return None if x is None else str(x)


@dataclass
class MergeReport:
    """What :func:`merge` did with one other catalogue."""

    path: Path
    read: int = 0        # rows read from it
    added: int = 0       # new to the target
    duplicates: int = 0  # already in the target (or earlier in the same merge): counted as seen
    rejected: int = 0    # failed the exact re-proof (or did not parse): not merged
    errors: list = None

    def __post_init__(self):
        if self.errors is None:
            self.errors = []


def merge(target: "Catalog", others, *, batch: int = 256) -> list[MergeReport]:
    """Join other catalogue files into ``target``: every row is re-read and re-proven exactly
    (:meth:`Entry.scheme`) on the way in, and enters once (the same dedup as ``add``: fingerprint,
    canonical key, then the canonical products compared exactly).  The row keeps its provenance, with
    ``merged_from`` naming the file.  A file that is the target itself, or not a catalogue, raises
    :class:`CatalogError` before anything is written."""
    if target.readonly:
        raise CatalogError(f"catalogue {target.path} was opened read-only")
    paths = [Path(p).expanduser() for p in others]
    for p in paths:
        if not p.exists():
            raise CatalogError(f"cannot merge {p}: no such file")
        if p.resolve() == Path(target.path).resolve():
            raise CatalogError(f"cannot merge {p} into itself")
    opened = []
    try:
        for p in paths:  # every source opened (and checked) before the first write
            opened.append(Catalog(p, readonly=True))
        reports = []
        for p, cat in zip(paths, opened):
            rep = MergeReport(p)
            pending: list[_Prepared] = []

            def flush():
                for _, is_new in target.add_prepared(pending):
                    rep.added += is_new
                    rep.duplicates += not is_new
                pending.clear()

            for e in cat.entries(with_data=True):
                rep.read += 1
                try:
                    s = e.scheme()  # parsed and re-verified; the recorded ring must hold
                    prov = dict(s.provenance)
                    prov.setdefault("merged_from", str(p))
                    pending.append(prepare(s.with_provenance(**prov)))
                except AlgoDiscoverError as err:
                    rep.rejected += 1
                    rep.errors.append(f"entry {e.id}: {err}")
                    continue
                if len(pending) >= batch:
                    flush()
            flush()
            reports.append(rep)
        return reports
    finally:
        for c in opened:
            c.close()


def _jsonable(obj):
    from ..formats.json_format import _jsonable as j
    return j(obj)


def _entry(row, with_data: bool) -> Entry:
    d = dict(zip(_COLUMNS + (("data",) if with_data else ()), row))
    try:
        prov = json.loads(d["provenance"])
    except (TypeError, ValueError):
        prov = {}
    return Entry(id=d["id"], shape=Shape(d["m"], d["k"], d["n"]), rank=d["rank"], ring=d["ring"],
                 canonical_key=d["canonical_key"], fingerprint=d["fingerprint"], nnz=d["nnz"],
                 additions_naive=d["additions_naive"], max_abs_coefficient=d["max_abs_coefficient"],
                 engine=d["engine"], strategy=d["strategy"], seed=d["seed"], seconds=d["seconds"],
                 version=d["version"], source=d["source"], provenance=prov, added_at=d["added_at"],
                 seen=d["seen"], class_id=d["class_id"], data=d.get("data"),
                 additions_shared=d.get("additions_shared"))


class CatalogWriter:
    """Batched, failure-tolerant adding for searches.

    ``add`` buffers; a batch is written when ``batch_size`` schemes wait or ``interval`` seconds have
    passed since the last write, and at ``close``/``flush``.  A catalogue that cannot be opened or written
    produces one warning (through ``warn``) and the search goes on; nothing raises from here.
    """

    def __init__(self, path=None, *, batch_size: int = 64, interval: float = 2.0, warn=None):
        self.path = resolve_path(path)
        self.batch_size = batch_size
        self.interval = interval
        self.pending: list[Scheme] = []
        self.added = 0
        self.duplicates = 0
        self.failed = 0
        self.errors: list[str] = []
        self._warn = warn if warn is not None else _stderr_warning
        self._cat: Catalog | None = None
        self._last = time.monotonic()

    def add(self, scheme: Scheme) -> None:
        self.pending.append(scheme)
        if len(self.pending) >= self.batch_size or time.monotonic() - self._last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self._last = time.monotonic()
        prepared = []
        for s in batch:
            try:
                prepared.append(prepare(s))
            except AlgoDiscoverError as e:
                self.failed += 1
                self._report(str(e))
        if not prepared:
            return
        try:
            if self._cat is None:
                self._cat = Catalog(self.path)
            res = self._cat.add_prepared(prepared)
        except (AlgoDiscoverError, sqlite3.Error, OSError) as e:
            self.failed += len(prepared)
            self._report(f"catalogue {self.path} not updated: {e}")
            return
        new = sum(1 for _, is_new in res if is_new)
        self.added += new
        self.duplicates += len(res) - new

    def _report(self, msg: str) -> None:
        if msg not in self.errors:
            self.errors.append(msg)
            self._warn(msg + " (the search goes on; its results are still printed and written)")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._cat is not None:
                self._cat.close()
                self._cat = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _stderr_warning(msg: str) -> None:
    import sys
    print(f"algodiscover: warning: {msg}", file=sys.stderr)
