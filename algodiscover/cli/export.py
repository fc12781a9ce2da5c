"""``algodiscover export FILE --format latex``: a scheme as a LaTeX document (or fragment) or as text."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import FormatError
from ._pick import pick_scheme


def register(sub) -> None:
    p = sub.add_parser("export", help="write a scheme as a LaTeX document/fragment or as text formulas",
                       description="Export a (re-verified) scheme: a self-contained LaTeX document (article + "
                                   "amsmath, compiles with pdflatex), a fragment for pasting, or text formulas.")
    p.add_argument("file", help="scheme file")
    p.add_argument("--format", default="latex", choices=["latex", "text"], help="output format (default latex)")
    p.add_argument("--out", default=None, help="write to this file instead of standard output")
    p.add_argument("--fragment", action="store_true", help="LaTeX: only the align* block (for pasting into a paper)")
    p.add_argument("--matrices", action="store_true", help="LaTeX: add W_a, W_b, W_c as bmatrix")
    p.add_argument("--naming", default="compact", choices=["compact", "index"],
                   help="text: entry names a11 (compact) or A[0,0] (index)")
    p.add_argument("--index", type=int, default=None, help="which scheme of a file holding several (1-based)")
    p.add_argument("--input-format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    p.set_defaults(func=run)


def run(args) -> int:
    scheme = pick_scheme(args.file, args.fmt, args.index)
    if args.format == "latex":
        from ..render.latex import scheme_to_latex
        text = scheme_to_latex(scheme, fragment=args.fragment, matrices=args.matrices)
    else:
        from ..render.text import scheme_to_text
        text = scheme_to_text(scheme, naming=args.naming)
    if not text.endswith("\n"):
        text += "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if not out.parent.exists():
        raise FormatError(f"cannot write {out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise FormatError(f"cannot write {out}: it is a directory")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise FormatError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"wrote {out} ({scheme.shape.angle()} rank {scheme.rank}, ring {scheme.verification.ring})",
          file=sys.stderr)
    return 0
