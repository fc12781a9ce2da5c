"""``algodiscover optimize FILE --out F``: fewer additions (CSE, basis changes, sparsifying flips)."""

from __future__ import annotations

import sys

from ..errors import SchemeError


def register(sub) -> None:
    p = sub.add_parser("optimize", help="share common sub-sums (and try basis changes and flips) to cut additions")
    p.add_argument("file", nargs="?", help="scheme file (proven over Z or Q)")
    p.add_argument("--out", required=True, help="output scheme JSON with metrics.additions_shared and programs")
    p.add_argument("--seconds", type=float, default=10.0, help="search time for basis changes and flips (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the search (default 0)")
    p.add_argument("--tries", type=int, default=30, help="greedy CSE runs with random tie-breaks per program (default 30)")
    p.add_argument("--no-basis", action="store_true", help="do not try basis changes")
    p.add_argument("--no-flips", action="store_true", help="do not try sparsifying flips")
    p.add_argument("--tensor", nargs=2, metavar=("S1", "S2"),
                   help="optimize the tensor product S1 (x) S2 (a flat two-level scheme) instead of FILE; "
                        "the nested programs are a candidate too")
    p.add_argument("--quiet", action="store_true", help="print only the final count")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..cli._pick import pick_scheme
    from ..execute.executor import attach_programs
    from ..execute.optimize import optimize
    from ..formats import save
    from .output import check_new_file
    if args.seconds < 0 or args.tries < 1:
        raise SchemeError("--seconds must be >= 0 and --tries >= 1")
    check_new_file(args.out, args.force)  # before the search: a typo never replaces a file
    tensor = None
    if args.tensor:
        if args.file:
            raise SchemeError("give either FILE or --tensor S1 S2, not both")
        from ..core.compose import tensor_product
        s1, s2 = (pick_scheme(f) for f in args.tensor)
        scheme = tensor_product(s1, s2)
        tensor = (s1, s2)
    else:
        if not args.file:
            raise SchemeError("optimize needs FILE (or --tensor S1 S2)")
        scheme = pick_scheme(args.file)
    v = scheme.verify()
    if not v.ok:
        raise SchemeError(f"{args.file}: the scheme is {v.ring}; only schemes proven over Z or Q are optimized")
    log = None if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    res = optimize(scheme, seconds=args.seconds, seed=args.seed, tries=args.tries,
                   basis=not args.no_basis, flips=not args.no_flips, tensor=tensor, log=log)
    out = res.scheme.with_provenance(optimized={"additions_shared": res.additions_shared,
                                                "from_additions_naive": scheme.additions_naive,
                                                "seconds": args.seconds, "seed": args.seed,
                                                "tensor": list(args.tensor) if args.tensor else None,
                                                "steps": [f"{name}: {n}" for name, n in res.history]})
    attach_programs(out, res.programs)
    save(out, args.out)
    p = res.programs
    print(f"additions_shared {res.additions_shared} (a {p['a'].additions}, b {p['b'].additions}, "
          f"c {p['c'].additions}; scalings {res.scalings}; naive {scheme.additions_naive}) -> {args.out}")
    return 0
