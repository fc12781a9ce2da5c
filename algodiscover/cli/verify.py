"""``algodiscover verify FILE``: re-prove every scheme in a file and report shape, rank and ring."""

from __future__ import annotations

import json
import sys

from ..core.verify import verify


def register(sub) -> None:
    p = sub.add_parser("verify", help="re-prove the schemes in a file",
                       description="Re-prove every scheme in FILE exactly. Exit 0 when all hold over ZT/Z/Q, "
                                   "1 when any is only Z2 or invalid, 2 when the file cannot be read.")
    p.add_argument("file", help="scheme file")
    p.add_argument("--json", action="store_true", help="one compact JSON object per scheme on stdout")
    p.add_argument("--symbolic", action="store_true", help="also cross-check with sympy (non-commutative symbols)")
    p.add_argument("--format", dest="fmt", default=None, help="file format: json, perminov, npz, exp, m, bb, sms (default: from suffix, keys or content)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..formats import load_all
    items = load_all(args.file, args.fmt)
    status = 0
    for key, scheme in items:
        v = verify(scheme, symbolic=True if args.symbolic else None)
        if not v.ok:
            status = 1
        label = f"{args.file}" + (f" [{key}]" if key is not None else "")
        if args.json:
            obj = {"shape": list(scheme.shape), "rank": scheme.rank, "ring": v.ring}
            if key is not None:  # archives holding many schemes: the key exactly as stored
                obj["key"] = key
            print(json.dumps(obj, separators=(",", ":")))
        else:
            print(f"{label}: {scheme.shape.angle()} rank {scheme.rank}: {v.summary()}")
        for f in v.failures:
            print(f"{label}: {f.describe()}", file=sys.stderr)
        if v.n_failures > len(v.failures):
            print(f"{label}: ... and {v.n_failures - len(v.failures)} more failing entries", file=sys.stderr)
    return status
