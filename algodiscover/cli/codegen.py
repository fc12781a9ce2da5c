"""``algodiscover codegen FILE --lang python|c --out F``: standalone code for a proven scheme."""

from __future__ import annotations

from pathlib import Path

from ..errors import SchemeError


def register(sub) -> None:
    p = sub.add_parser("codegen", help="write a standalone numpy module or a C file (cblas at the leaves)")
    p.add_argument("file", help="scheme file (its programs are used when present)")
    p.add_argument("--lang", required=True, choices=["python", "c"], help="python (numpy only) or c (cblas)")
    p.add_argument("--out", required=True, help="output file")
    p.add_argument("--function", default="algodiscover_matmul", help="C function name (default algodiscover_matmul)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)


def run(args) -> int:
    from ._pick import pick_scheme
    from .output import check_new_file
    from ..execute.codegen import c_source, python_source
    check_new_file(args.out, args.force)
    scheme = pick_scheme(args.file)
    if not scheme.verify().ok:
        raise SchemeError(f"{args.file}: the scheme is {scheme.verify().ring}; code is generated only for Z or Q")
    if args.lang == "c" and not args.function.isidentifier():
        raise SchemeError(f"--function {args.function!r} is not a C identifier")
    text = python_source(scheme) if args.lang == "python" else c_source(scheme, args.function)
    out = Path(args.out)
    try:
        out.write_text(text)
    except OSError as e:
        raise SchemeError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"wrote {out} ({args.lang}, <{','.join(map(str, scheme.shape))}>:{scheme.rank})")
    return 0
