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
    q.add_argument("--ring", default=None, choices=["ZT", "Z", "Q", "Z2", "Z3"], help="only this ring")
    q.add_argument("--engine", default=None, help="only schemes found by this engine")
    q.add_argument("--limit", type=int, default=None, help="at most this many rows")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.set_defaults(func=run_list)

    q = cs.add_parser("show", parents=[db], help="print one catalogued scheme (re-verified)")
    q.add_argument("id", help="entry id (from 'catalog list')")
    q.add_argument("--format", default="text", choices=["text", "json", "latex"], help="output format")
    q.set_defaults(func=run_show)

    q = cs.add_parser("best", parents=[db], help="best catalogued rank per shape beside the literature",
                      description="Per shape: the catalogue's best integer (Z here: ZT/Z schemes), rational (Q here: "
                                  "ZT/Z/Q) and mod-2 rank (mod 2 here: every scheme valid modulo 2), each beside the "
                                  "literature's best known rank for the same ring, and the lower bound.")
    q.add_argument("--all", action="store_true", help="also list tabulated shapes the catalogue lacks")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    q.add_argument("--plot", default=None, metavar="FILE", help="also draw the table into FILE (png/pdf/svg)")
    q.add_argument("--force", action="store_true", help="overwrite an existing --plot FILE")
    q.set_defaults(func=run_best)

    q = cs.add_parser("classes", parents=[db], help="sort catalogued schemes into equivalence classes")
    q.add_argument("--shape", default=None, help="only this shape (any order)")
    q.add_argument("--time-limit", type=_seconds("time-limit"), default=None,
                   help="seconds for the whole command (default: no limit); it ends within the limit plus about "
                        "2 s and leaves the rows not reached unclassified")
    q.add_argument("--check-limit", type=_seconds("check-limit"), default=10.0,
                   help="seconds per equivalence check (default 10); a check cut short leaves its row unclassified")
    q.add_argument("--quiet", "-q", action="store_true", help="no progress display (shown only on a terminal)")
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
    q.add_argument("--force", action="store_true", help="--out: overwrite files already in DIR")
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


def _seconds(name):
    def conv(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be a number of seconds, got {text!r}") from None
        if not v > 0 or v == float("inf"):
            raise argparse.ArgumentTypeError(f"--{name} must be a positive number of seconds, got {text!r}")
        return v
    conv.__name__ = name
    return conv


class _CountProgress:
    """A rich progress bar over rows (stderr, only on a terminal)."""

    def __init__(self, enabled: bool, what: str):
        from .output import _isatty
        self.enabled = enabled and _isatty(sys.stderr)
        self.what = what
        self._p = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._p is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            self._p = Progress(TextColumn(self.what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                               console=Console(file=sys.stderr), transient=True)
            self._p.start()
            self._task = self._p.add_task(self.what, total=total)
        self._p.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()
            self._p = None


def run_classes(args) -> int:
    import time
    started = time.monotonic()  # --time-limit counts from here: imports (sympy) and opening included
    deadline = None if args.time_limit is None else started + args.time_limit
    from ..catalog import Catalog, resolve_path
    path = resolve_path(args.db)
    if not path.exists():
        return _empty(path)
    progress = _CountProgress(not args.quiet, "classifying")
    try:
        with Catalog(path) as cat:
            stats = cat.classify(shape=args.shape, time_limit=args.check_limit, deadline=deadline,
                                 on_progress=progress)
            rows = cat.classes(shape=args.shape)
    finally:
        progress.close()
    print(f"classified {stats['total'] - stats['not_reached']} of {stats['total']} unclassified scheme(s) in "
          f"{time.monotonic() - started:.1f} s: {stats['joined']} joined a class, {stats['new_classes']} founded one, "
          f"{stats['undecided']} undecided (equivalence unknown)")
    if stats["not_reached"]:
        print(f"time limit ({args.time_limit:g} s) reached: {stats['not_reached']} scheme(s) not reached, left "
              f"unclassified ('?' in catalog list); run 'catalog classes' again to continue")
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


def run_best(args) -> int:
    from ..catalog.tables import best_ranks
    cat, path = _open(args, readonly=True)
    try:
        table = best_ranks(cat, include_all=args.all)
    finally:
        if cat is not None:
            cat.close()
    rows = table.rows()
    if args.plot:
        from .output import check_new_file
        check_new_file(args.plot, args.force, what="--plot")
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
    print(table.to_markdown() if args.markdown else table.to_text())
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
                if v.ring in ("ZT", "Z", "Q", "Z2", "Z3"):
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


def _out_dir(path: str, flag: str) -> Path:
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise FormatError(f"{flag} {d} is a file; {flag} names a directory (one JSON file per scheme is written into it)")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FormatError(f"cannot create directory {d}: {e.strerror or e}") from None
    return d


def run_export(args) -> int:
    from ..catalog.results import export_results, write_index
    from ..formats import save
    target = Path(args.out or args.results)
    if target.exists() and not target.is_dir():  # before opening anything
        flag = "--out" if args.out else "--results"
        raise FormatError(f"{flag} {target} is a file; {flag} names a directory (one JSON file per scheme is "
                          f"written into it)")
    cat, path = _open(args, readonly=True)
    if cat is None and args.out:
        return _empty(path)
    with (cat if cat is not None else _Null()):
        if args.results:
            d = _out_dir(args.results, "--results")
            written = export_results(cat, d, shape=args.shape) if cat is not None else []
            index = write_index(d)
            print(f"wrote {len(written)} scheme file(s) into {args.results} and {index}")
            return 0
        entries = cat.entries(shape=args.shape, with_data=True)
        names = []
        for e in entries:
            m, k, nn = e.shape
            suffix = {"Z2": "-z2", "Z3": "-z3"}.get(e.ring, "")
            names.append(f"{m}x{k}x{nn}-r{e.rank}{suffix}-{e.canonical_key[:12]}.json")
        there = [nm for nm in names if (target / nm).exists()]
        if there and not args.force:
            raise FormatError(f"{len(there)} of the {len(names)} files already exist in {target} (e.g. {there[0]}); "
                              f"use --force to overwrite them")
        d = _out_dir(args.out, "--out")
        for e, nm in zip(entries, names):
            save(e.scheme(), d / nm)  # re-verified
        print(f"wrote {len(names)} scheme file(s) into {d}")
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
