"""``algodiscover convert IN OUT``: read a scheme file in one format, re-prove it, write another."""

from __future__ import annotations

import sys

from ..core.verify import verify


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a scheme file between formats (re-proving it)",
                       description="Read IN (format from --from, its suffix, keys or content), re-prove every "
                                   "scheme exactly and write OUT (format from --to or its suffix). Nothing is "
                                   "written when a scheme fails verification (exit 1); a scheme valid only "
                                   "modulo 2 is written only to formats that record it (json, perminov). "
                                   "Formats: json, perminov, npz, exp, m, bb, sms; output suffixes .json, .npz, "
                                   ".exp, .m, .bb, .txt (Benson-Ballard), .sms, anything else needs --to. An "
                                   "existing OUT is never replaced without --force.")
    p.add_argument("input", metavar="IN", help="scheme file to read")
    p.add_argument("output", metavar="OUT", help="file to write (for sms: X, X.sms or X_L.sms names the triple)")
    p.add_argument("--from", dest="src_fmt", default=None, help="input format (default: detected)")
    p.add_argument("--to", dest="dst_fmt", default=None,
                   help="output format (default: from OUT's suffix; an unknown or missing suffix is an error)")
    p.add_argument("--force", action="store_true", help="overwrite an existing OUT")
    p.add_argument("--key", action="append", default=None,
                   help="only the archive entry with this key, e.g. 2,2,2 (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import FormatError
    from ..formats import Z2_CAPABLE, Z3_CAPABLE, output_format, load_all, save_all
    from pathlib import Path
    from .output import check_new_file
    out_fmt = output_format(Path(args.output), args.dst_fmt)  # before reading anything
    if out_fmt == "sms":
        from ..formats import plinopt
        for target in plinopt.triple_paths(Path(args.output)).values():
            check_new_file(target, args.force, what="OUT")
    else:
        check_new_file(args.output, args.force, what="OUT")
    items = load_all(args.input, args.src_fmt)
    if args.key:
        known = {k for k, _ in items}
        missing = [k for k in args.key if k not in known]
        if missing:
            raise FormatError(f"{args.input} has no entry {missing[0]!r}"
                              + (f"; keys: {', '.join(sorted(k for k in known if k))}" if any(known) else ""))
        items = [(k, s) for k, s in items if k in args.key]
    refused = []
    for key, scheme in items:
        v = verify(scheme)
        if v.ok or (v.ring == "Z2" and out_fmt in Z2_CAPABLE) or (v.ring == "Z3" and out_fmt in Z3_CAPABLE):
            continue
        label = args.input + (f" [{key}]" if key is not None else "")
        why = (v.summary() if v.ring not in ("Z2", "Z3")
               else f"valid only modulo {v.ring[1:]}, which the {out_fmt} format cannot record")
        refused.append(f"{label}: {scheme.shape.angle()} rank {scheme.rank}: {why}")
    if refused:
        for line in refused:
            print(f"algodiscover convert: refusing to write {line}", file=sys.stderr)
        print(f"algodiscover convert: nothing written to {args.output}", file=sys.stderr)
        return 1
    paths = save_all(items, args.output, out_fmt)
    rings = sorted({verify(s).ring for _, s in items})
    rings = [f"{r} (valid mod {r[1]} only)" if r in ("Z2", "Z3") else r for r in rings]
    print(f"wrote {len(items)} scheme{'s' if len(items) != 1 else ''} ({'/'.join(rings)}) as {out_fmt} to "
          f"{', '.join(str(p) for p in paths)}")
    return 0
