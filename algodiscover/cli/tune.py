"""``algodiscover tune [FILE]``: measure levels and cutoff on this machine and cache them."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("tune", help="measure recursion levels and cutoff for this machine and cache them")
    p.add_argument("file", nargs="?", help="scheme file (default: Strassen's algorithm)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--sizes", default="1024,2048", help="square sizes to time, comma-separated (default 1024,2048)")
    p.add_argument("--max-levels", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="BLAS threads while measuring (default: as configured)")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import SchemeError
    from ..execute.bench import threads
    from ..execute.tune import cache_path, tune
    from ._pick import pick_scheme
    if args.file:
        scheme = pick_scheme(args.file)
    else:
        from ..examples import strassen
        scheme = strassen()
    try:
        sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        raise SchemeError(f"--sizes {args.sizes!r}: expected square sizes like 1024,2048") from None
    if not sizes or min(sizes) < 2 or args.max_levels < 0 or args.repeats < 1:
        raise SchemeError("--sizes must be integers >= 2, --max-levels >= 0, --repeats >= 1")

    def show(row):
        secs = ", ".join(f"L{k} {v:.4f}s" for k, v in row["seconds"].items())
        print(f"n={row['n']}: {secs} -> best {row['best_levels']} levels", flush=True)

    with threads(args.threads, args.backend):
        entry = tune(scheme, backend=args.backend, dtype=args.dtype, sizes=sizes, max_levels=args.max_levels,
                     repeats=args.repeats, on_result=show)
    print(f"cached {entry['key']}: cutoff {entry['cutoff']} (levels=None recurses while blocks are at least this "
          f"large) in {cache_path()}")
    return 0
