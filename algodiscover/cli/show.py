"""``algodiscover show FILE``: print a (re-verified) scheme as formulas, LaTeX or JSON."""

from __future__ import annotations

from .output import render_scheme


def register(sub) -> None:
    p = sub.add_parser("show", help="print a scheme file as formulas, LaTeX or JSON")
    p.add_argument("file", help="scheme file")
    p.add_argument("--format", default="text", choices=["text", "latex", "json"], help="output format")
    p.add_argument("--input-format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..formats import load_all
    items = load_all(args.file, args.fmt)
    for key, scheme in items:
        if key is not None and len(items) > 1:
            print(f"# [{key}]")
        print(render_scheme(scheme, args.format))
    return 0
