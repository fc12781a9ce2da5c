"""``algodiscover export FILE --format latex``: a scheme as a LaTeX document (or fragment) or as text."""

from __future__ import annotations

import sys

from ..errors import FormatError
from ._pick import NotProven, pick_scheme, refuse
from .output import check_new_file


def register(sub) -> None:
    p = sub.add_parser("export", help="write a scheme as a LaTeX document/fragment or as text formulas",
                       description="Export a (re-verified) scheme: a self-contained LaTeX document (article + "
                                   "amsmath, compiles with pdflatex), a fragment for pasting, or text formulas.")
    p.add_argument("file", help="scheme file")
    p.add_argument("--format", default="latex", choices=["latex", "text"], help="output format (default latex)")
    p.add_argument("--out", default=None, help="write to this file instead of standard output (never over an "
                                               "existing file unless --force)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--fragment", action="store_true", help="LaTeX: only the align* block (for pasting into a paper)")
    p.add_argument("--matrices", action="store_true", help="LaTeX: add W_a, W_b, W_c as bmatrix")
    p.add_argument("--naming", default="compact", choices=["compact", "index"],
                   help="text: entry names a11 (compact) or A[0,0] (index)")
    p.add_argument("--index", type=int, default=None, help="which scheme of a file holding several (1-based)")
    p.add_argument("--input-format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    p.set_defaults(func=run)


def run(args) -> int:
    out = check_new_file(args.out, args.force) if args.out is not None else None  # before any work
    try:
        scheme = pick_scheme(args.file, args.fmt, args.index, verb="export")
    except NotProven as e:
        return refuse("algodiscover export", e)
    if args.format == "latex":
        from ..render.latex import scheme_to_latex
        text = scheme_to_latex(scheme, fragment=args.fragment, matrices=args.matrices)
    else:
        from ..render.text import scheme_to_text
        from .output import not_proven_line
        text = scheme_to_text(scheme, naming=args.naming)
        mark = not_proven_line(scheme)  # a mod-2-only scheme says so on its first line
        if mark:
            text = mark + "\n" + text
    if not text.endswith("\n"):
        text += "\n"
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise FormatError(f"cannot write {out}: {e.strerror or e}") from None
    ring = scheme.verification.ring
    ring = f"{ring}: valid mod {ring[1]} only, not an integer algorithm" if ring in ("Z2", "Z3") else ring
    print(f"wrote {out} ({scheme.shape.angle()} rank {scheme.rank}, ring {ring})",
          file=sys.stderr)
    return 0
