"""``algodiscover show FILE``: print a (re-verified) scheme as formulas, LaTeX or JSON.

A scheme that is not a proven algorithm is never shown as one: the text starts with
``# NOT A VALID ALGORITHM: ...`` (exit 1), LaTeX is refused (exit 1), JSON is printed with its
``"ring": "invalid"`` and the same line on stderr (exit 1).  A scheme valid only modulo 2 is shown
with a first line ``# VALID MOD 2 ONLY: ...`` (exit 0; LaTeX states the ring as well).
"""

from __future__ import annotations

import sys

from .output import EXIT_NOT_PROVEN, not_proven_line, render_scheme


def register(sub) -> None:
    p = sub.add_parser("show", help="print a scheme file as formulas, LaTeX or JSON",
                       description="Print the schemes of FILE, re-verified. Exit 0 when every scheme is proven "
                                   "(over ZT/Z/Q, or marked valid mod 2 only); 1 when one fails exact verification "
                                   "(shown only with a '# NOT A VALID ALGORITHM' mark; LaTeX refused).")
    p.add_argument("file", help="scheme file")
    p.add_argument("--format", default="text", choices=["text", "latex", "json"], help="output format (default text)")
    p.add_argument("--input-format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..formats import load_all
    items = load_all(args.file, args.fmt)
    status = 0
    for key, scheme in items:
        label = args.file + (f" [{key}]" if key is not None else "")
        valid = scheme.verify().ok or scheme.verify().ring in ("Z2", "Z3")
        if not valid:
            status = EXIT_NOT_PROVEN
            if args.format == "latex":
                print(f"algodiscover show: refusing to typeset {label} as an algorithm: it fails exact "
                      f"verification ({scheme.verify().summary()}); see 'algodiscover verify {args.file}'",
                      file=sys.stderr)
                continue
            if args.format == "json":
                print(f"{not_proven_line(scheme)} ({label})", file=sys.stderr)
        if key is not None and len(items) > 1:
            print(f"# [{key}]")
        print(render_scheme(scheme, args.format))
    return status
