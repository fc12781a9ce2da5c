"""``algodiscover catalog list|show|best|import|export``: the SQLite catalogue of proven schemes.

Every subcommand takes ``--db PATH`` (default: $ALGODISCOVER_DB, else the user's data directory).
Exit codes: 0 success; 1 nothing found (``show`` of a missing id) or some inputs were not imported;
2 bad input, or a corrupt/foreign catalogue file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import AlgoDiscoverError, FormatError

# suffixes tried when importing a directory (files of other kinds, e.g. README.md, are skipped)
IMPORT_SUFFIXES = {".json", ".npz", ".exp", ".txt", ".m", ".sms", ""}


def _db_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", default=None, metavar="PATH",
                   help="catalogue file (default: $ALGODISCOVER_DB, else ~/.local/share/algodiscover/catalog.sqlite)")
    return p


def register(sub) -> None:
    p = sub.add_parser("catalog", help="the catalogue of proven schemes (list, show, best, import, export)",
                       description="The SQLite catalogue: every proven scheme once, with ring, metrics and provenance.")
    cs = p.add_subparsers(dest="catalog_command", metavar="ACTION", parser_class=type(p))
    cs.required = True
    db = _db_parent()

    q = cs.add_parser("list", parents=[db], help="list catalogued schemes, best first")
    q.add_argument("--shape", default=None, help="only this shape (any order of m, k, n unless --exact-order)")
    q.add_argument("--exact-order", action="store_true", help="match the shape's order exactly")
    q.add_argument("--rank", type=int, default=None, help="only this rank")
    q.add_argument("--ring", default=None, choices=["ZT", "Z", "Q", "Z2"], help="only this ring")
    q.add_argument("--engine", default=None, help="only schemes found by this engine")
    q.add_argument("--limit", type=int, default=None, help="at most this many rows")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.set_defaults(func=run_list)

    q = cs.add_parser("show", parents=[db], help="print one catalogued scheme (re-verified)")
    q.add_argument("id", help="entry id (from 'catalog list')")
    q.add_argument("--format", default="text", choices=["text", "json", "latex"], help="output format")
    q.set_defaults(func=run_show)

    q = cs.add_parser("best", parents=[db], help="best catalogued rank per shape beside the literature")
    q.add_argument("--all", action="store_true", help="also list tabulated shapes the catalogue lacks")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    q.add_argument("--plot", default=None, metavar="FILE", help="also draw the table into FILE (png/pdf/svg)")
    q.set_defaults(func=run_best)

    q = cs.add_parser("classes", parents=[db], help="sort catalogued schemes into equivalence classes")
    q.add_argument("--shape", default=None, help="only this shape (any order)")
    q.add_argument("--time-limit", type=float, default=10.0, help="seconds per equivalence check (default 10)")
    q.set_defaults(func=run_classes)

    q = cs.add_parser("import", parents=[db], help="add the proven schemes of files or directories")
    q.add_argument("paths", nargs="+", metavar="FILE|DIR", help="scheme files, or directories searched recursively")
    q.add_argument("--format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    q.set_defaults(func=run_import)

    register_merge(cs, db)

    q = cs.add_parser("export", parents=[db], help="write catalogued schemes as JSON files")
    g = q.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", default=None, metavar="DIR", help="one file per scheme: DIR/{m}x{k}x{n}-r{rank}-{key}.json")
    g.add_argument("--results", default=None, metavar="DIR",
                   help="the best scheme per shape and rank as DIR/{m}x{k}x{n}-r{rank}.json, plus DIR/INDEX.md")
    q.add_argument("--shape", default=None, help="only this shape (any order)")
    q.set_defaults(func=run_export)


def _open(args, readonly: bool):
    from ..catalog import Catalog, resolve_path
    path = resolve_path(args.db)
    if readonly and not path.exists():
        return None, path
    return Catalog(path, readonly=readonly), path


def _empty(path) -> int:
    print(f"no catalogue at {path} yet (discover and 'catalog import' add to it)", file=sys.stderr)
    return 0


def _shape_str(s) -> str:
    return f"{s[0]}x{s[1]}x{s[2]}"


def run_list(args) -> int:
    cat, path = _open(args, readonly=True)
    if cat is None:
        return _empty(path)
    with cat:
        rows = cat.entries(shape=args.shape, rank=args.rank, ring=args.ring, engine=args.engine,
                           any_order=not args.exact_order, limit=args.limit)
    if args.json:
        for e in rows:
            print(json.dumps(e.as_dict(), separators=(",", ":"), default=str))
        return 0
    if not rows:
        print("no catalogued scheme matches", file=sys.stderr)
        return 0
    print(f"{'id':>5}  {'shape':<8} {'rank':>4}  {'ring':<4} {'adds':>5} {'nnz':>5}  {'class':>5}  {'engine':<10} "
          f"{'seed':>6}  added")
    for e in rows:
        seed = "" if e.seed is None else e.seed
        cls = "?" if e.class_id is None else e.class_id
        print(f"{e.id:>5}  {_shape_str(e.shape):<8} {e.rank:>4}  {e.ring:<4} {e.additions_naive:>5} {e.nnz:>5}  "
              f"{cls!s:>5}  {(e.engine or '-'):<10} {seed!s:>6}  {e.added_at}")
    return 0


def run_classes(args) -> int:
    from ..catalog import Catalog, resolve_path
    path = resolve_path(args.db)
    if not path.exists():
        return _empty(path)
    with Catalog(path) as cat:
        stats = cat.classify(shape=args.shape, time_limit=args.time_limit)
        rows = cat.classes(shape=args.shape)
    print(f"classified: {stats['joined']} joined a class, {stats['new_classes']} founded one, "
          f"{stats['undecided']} undecided (equivalence unknown)")
    print(f"{'shape':<8} {'rank':>4} {'schemes':>8} {'classes':>8} {'unclassified':>12}")
    for r in rows:
        print(f"{_shape_str(r['shape']):<8} {r['rank']:>4} {r['schemes']:>8} {r['classes']:>8} {r['unclassified']:>12}")
    return 0


def run_show(args) -> int:
    from .output import render_scheme
    try:
        entry_id = int(args.id)
    except ValueError:
        raise FormatError(f"catalogue id must be an integer, got {args.id!r}") from None
    cat, path = _open(args, readonly=True)
    if cat is None:
        print(f"no catalogue at {path}: no entry {entry_id}", file=sys.stderr)
        return 1
    with cat:
        e = cat.get(entry_id)
    if e is None:
        print(f"no entry {entry_id} in the catalogue {path}", file=sys.stderr)
        return 1
    scheme = e.scheme()  # re-verified
    print(render_scheme(scheme, args.format))
    if args.format == "text":
        print(f"# catalogue entry {e.id}; added {e.added_at}; seen {e.seen} time(s); fingerprint {e.fingerprint}")
    return 0


def best_rows(cat, include_all: bool = False) -> list[dict]:
    """Rows for ``catalog best``: per sorted shape, catalogue rank beside the literature."""
    from ..core.bounds import best_known_rank, literature_table, lower_bound
    rows = {tuple(r["shape"]): r for r in (cat.best() if cat is not None else [])}
    if include_all:
        for s in literature_table():
            rows.setdefault(tuple(s), {"shape": s, "catalog_rank": None, "catalog_rank_mod2": None, "count": 0})
    out = []
    for key in sorted(rows, key=lambda s: (s[0] * s[1] * s[2], s)):
        r = rows[key]
        s = r["shape"]
        out.append({"shape": s, "catalog_rank": r["catalog_rank"], "best_known": best_known_rank(s),
                    "lower_bound": lower_bound(s), "catalog_rank_mod2": r["catalog_rank_mod2"],
                    "best_known_mod2": best_known_rank(s, "mod2"), "count": r["count"]})
    return out


def _status(r) -> str:
    c, b, lb = r["catalog_rank"], r["best_known"], r["lower_bound"]
    if c is None:
        return "-"
    if c == lb:
        return "optimal (meets the lower bound)"
    if b is None:
        return ""
    if c < b:
        return "BELOW the best known rank"
    return "matches the best known" if c == b else f"+{c - b} over the best known"


def run_best(args) -> int:
    cat, path = _open(args, readonly=True)
    try:
        rows = best_rows(cat, include_all=args.all)
    finally:
        if cat is not None:
            cat.close()
    if args.plot:
        try:
            from ..render.plots import plot_best_ranks
        except ImportError as e:
            raise FormatError(f"cannot draw {args.plot}: algodiscover.render.plots.plot_best_ranks is not "
                              f"available in this installation ({e})") from None
        plot_rows = [{k: r[k] for k in ("shape", "catalog_rank", "best_known", "lower_bound")} for r in rows]
        plot_best_ranks(plot_rows, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        for r in rows:
            print(json.dumps({**r, "shape": list(r["shape"])}, separators=(",", ":")))
        return 0
    if not rows:
        if cat is None:
            return _empty(path)
        print("the catalogue holds no scheme yet", file=sys.stderr)
        return 0
    dash = lambda x: "-" if x is None else str(x)  # noqa: E731
    if args.markdown:
        print("| shape | catalogue rank | best known rank | lower bound | status |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {_shape_str(r['shape'])} | {dash(r['catalog_rank'])} | {dash(r['best_known'])} | "
                  f"{r['lower_bound']} | {_status(r)} |")
        return 0
    mod2 = any(r["catalog_rank_mod2"] is not None for r in rows)
    extra = f" {'mod 2 only':>10} {'best mod 2':>10}" if mod2 else ""
    print(f"{'shape':<9} {'catalogue':>9} {'best known':>10} {'lower bound':>11}{extra}  status")
    for r in rows:
        extra = f" {dash(r['catalog_rank_mod2']):>10} {dash(r['best_known_mod2']):>10}" if mod2 else ""
        print(f"{_shape_str(r['shape']):<9} {dash(r['catalog_rank']):>9} {dash(r['best_known']):>10} "
              f"{r['lower_bound']:>11}{extra}  {_status(r)}")
    return 0


def _files(paths) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
                        and f.suffix.lower() in IMPORT_SUFFIXES
                        and not f.name.lower().endswith(("_r.sms", "_p.sms")) and f.name.lower() != "index.md"):
                    out.append(f)
        elif p.exists():
            out.append(p)
        else:
            raise FormatError(f"cannot import {p}: no such file or directory")
    return out


def run_import(args) -> int:
    from ..catalog import Catalog, resolve_path
    from ..formats import load_all
    files = _files(args.paths)
    path = resolve_path(args.db)
    added = dup = skipped = bad_files = 0
    with Catalog(path) as cat:
        for f in files:
            try:
                items = load_all(f, args.fmt)
            except AlgoDiscoverError as e:
                print(f"skipped {f}: {e}", file=sys.stderr)
                bad_files += 1
                continue
            good = []
            for key, s in items:
                v = s.verify()
                if v.ring in ("ZT", "Z", "Q", "Z2"):
                    good.append(s.with_provenance(source=f"{f}" + (f" [{key}]" if key is not None else "")))
                else:
                    skipped += 1
                    print(f"skipped {f}" + (f" [{key}]" if key is not None else "") + f": {v.summary()}",
                          file=sys.stderr)
            for _, is_new in cat.add_many(good):
                added += is_new
                dup += not is_new
    print(f"imported {added} new scheme(s) into {path}; {dup} already catalogued; "
          f"{skipped} invalid scheme(s) and {bad_files} unreadable file(s) skipped")
    return 0 if (skipped == 0 and bad_files == 0) else 1


def run_export(args) -> int:
    from ..catalog.results import export_results, write_index
    from ..formats import save
    cat, path = _open(args, readonly=True)
    if cat is None and args.out:
        return _empty(path)
    with (cat if cat is not None else _Null()):
        if args.results:
            written = export_results(cat, args.results, shape=args.shape) if cat is not None else []
            index = write_index(args.results)
            print(f"wrote {len(written)} scheme file(s) into {args.results} and {index}")
            return 0
        d = Path(args.out)
        d.mkdir(parents=True, exist_ok=True)
        n = 0
        for e in cat.entries(shape=args.shape, with_data=True):
            s = e.scheme()  # re-verified
            m, k, nn = e.shape
            suffix = "-z2" if e.ring == "Z2" else ""
            save(s, d / f"{m}x{k}x{nn}-r{e.rank}{suffix}-{e.canonical_key[:12]}.json")
            n += 1
        print(f"wrote {n} scheme file(s) into {d}")
    return 0


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def register_merge(cs, db) -> None:
    q = cs.add_parser("merge", parents=[db], help="join other catalogue files into this one (each scheme re-proven)",
                      description="Add every scheme of OTHER.sqlite ... to the catalogue (--db): each is re-proven "
                                  "exactly on the way in and enters once (deduplicated by fingerprint and canonical "
                                  "key); schemes already there are counted as seen again.")
    q.add_argument("others", nargs="+", metavar="OTHER.sqlite", help="catalogue files to merge in")
    q.set_defaults(func=run_merge)


def run_merge(args) -> int:
    from ..catalog import Catalog, resolve_path
    from ..catalog.store import merge
    path = resolve_path(args.db)
    with Catalog(path) as cat:
        reports = merge(cat, args.others)
        total = cat.count()
    for r in reports:
        print(f"{r.path}: {r.read} scheme(s) read, {r.added} new, {r.duplicates} already catalogued, "
              f"{r.rejected} rejected")
        for err in r.errors[:5]:
            print(f"  rejected {err}", file=sys.stderr)
    print(f"catalogue {path}: {total} scheme(s)")
    return 1 if any(r.rejected for r in reports) else 0
