"""``algodiscover bench FILE``: an executor against its backend's matmul, speed and accuracy."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("bench", help="time an executor against BLAS (paired, interleaved) and report its error")
    p.add_argument("file", help="scheme file (proven over Z or Q)")
    p.add_argument("--sizes", default="1024,2048", help="N or PxQxS, comma-separated (default 1024,2048)")
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    p.add_argument("--threads", type=int, default=None, help="BLAS/torch/numba threads (default: as configured)")
    p.add_argument("--levels", type=int, default=None, help="recursion levels (default: tuned or by cutoff)")
    p.add_argument("--cutoff", type=int, default=None, help="smallest block side (default: tuned or 1024)")
    p.add_argument("--fringe", default="peel", choices=["peel", "pad"], help="sizes that do not divide")
    p.add_argument("--mode", default=None, choices=["program", "fused"], help="numpy additions (default fused)")
    p.add_argument("--repeats", type=int, default=5, help="paired repetitions, median reported (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="one JSON object per size")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import SchemeError
    from ..execute.bench import bench, environment_notes, parse_sizes
    from ._pick import pick_scheme
    scheme = pick_scheme(args.file)
    sizes = parse_sizes(args.sizes)
    if args.threads is not None and args.threads < 1:
        raise SchemeError("--threads must be at least 1")
    env = environment_notes()
    if not args.json:
        b = env["blas"][0] if env["blas"] else {}
        print(f"# {scheme.shape}:{scheme.rank} ({scheme.verify().ring}) on {args.backend}; BLAS {b.get('internal_api')} "
              f"{b.get('version')} kernel {b.get('architecture')}; OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} "
              f"OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}; load {env['loadavg']}")
        print(f"{'size':>16} {'dtype':>7} {'thr':>3} {'lv':>2} {'ours s':>9} {'blas s':>9} {'ratio':>6} {'max rel err':>11}")

    def show(row):
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            sz = row["size"] if isinstance(row["size"], int) else "x".join(map(str, row["size"]))
            print(f"{sz!s:>16} {row['dtype']:>7} {row['threads']!s:>3} {row['levels']:>2} {row['seconds']:>9.4f} "
                  f"{row['blas_seconds']:>9.4f} {row['ratio']:>6.3f} {row['max_rel_error']:>11.2e}", flush=True)

    bench(scheme, sizes, dtype=args.dtype, backend=args.backend, n_threads=args.threads, repeats=args.repeats,
          levels=args.levels, cutoff=args.cutoff, seed=args.seed, fringe=args.fringe, mode=args.mode, on_row=show)
    return 0
