"""``algodiscover render FILE --out graph.svg|png|pdf|dot``: draw the arithmetic circuit of a scheme."""

from __future__ import annotations

import sys

from ._pick import NotProven, pick_scheme, refuse
from .output import check_new_file


def register(sub) -> None:
    p = sub.add_parser("render", help="draw a scheme's arithmetic circuit (SVG, PNG, PDF or DOT)",
                       description="Draw the circuit of a (re-verified) scheme in layers: inputs, additions, "
                                   "products, outputs. Prints additions, multiplications and depth.")
    p.add_argument("file", help="scheme file")
    p.add_argument("--out", required=True, help="output file: .svg, .png, .pdf (matplotlib) or .dot/.gv (Graphviz text)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--naming", default="compact", choices=["compact", "index"], help="entry names a11 or A[0,0]")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150)")
    p.add_argument("--index", type=int, default=None, help="which scheme of a file holding several (1-based)")
    p.add_argument("--input-format", dest="fmt", default=None, help="file format (default: from suffix/content)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import FormatError
    from ..render.graph import GRAPH_SUFFIXES, write_circuit
    from pathlib import Path
    if Path(args.out).suffix.lower() not in GRAPH_SUFFIXES:  # before reading the scheme
        raise FormatError(f"cannot render to {args.out!r}: expected a file ending in {', '.join(GRAPH_SUFFIXES)}")
    if not 10 <= args.dpi <= 1200:
        raise FormatError(f"--dpi must be between 10 and 1200, got {args.dpi}")
    check_new_file(args.out, args.force)
    try:
        scheme = pick_scheme(args.file, args.fmt, args.index, verb="render")
    except NotProven as e:
        return refuse("algodiscover render", e)
    stats = write_circuit(scheme, args.out, naming=args.naming, dpi=args.dpi)
    ring = scheme.verification.ring
    ring = f"{ring}: valid mod {ring[1]} only, not an integer algorithm" if ring in ("Z2", "Z3") else ring
    print(f"{scheme.shape.angle()} rank {scheme.rank} (ring {ring}): {stats.describe()}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
