"""``algodiscover equiv A B``: are two scheme files the same algorithm up to symmetry?

Exit 0: equivalent (the transformation is printed, and was checked exactly); 1: not equivalent;
4: unknown (the search gave up); 2: a file cannot be read or holds an invalid scheme.
"""

from __future__ import annotations

import json

from ..errors import FormatError, VerificationError

EXIT_CODES = {"equivalent": 0, "not equivalent": 1, "unknown": 4}


def register(sub) -> None:
    p = sub.add_parser("equiv", help="decide whether two schemes are equivalent under the symmetry group",
                       description="Decide whether scheme B is the image of scheme A under basis changes, "
                                   "transposition/cyclic symmetry, product order and scalings. Exit 0 "
                                   "equivalent, 1 not equivalent, 4 unknown, 2 unreadable input.")
    p.add_argument("a", metavar="A", help="scheme file (FILE or FILE:KEY for a file holding many)")
    p.add_argument("b", metavar="B", help="scheme file (FILE or FILE:KEY)")
    p.add_argument("--format", dest="fmt", default=None, help="file format of both files (default: from suffix)")
    p.add_argument("--json", action="store_true", help="print the verdict and transformation as JSON")
    p.add_argument("--time-limit", type=float, default=30.0, help="give up (verdict unknown) after this many seconds")
    p.set_defaults(func=run)


def _load_one(spec: str, fmt):
    from pathlib import Path

    from ..formats import load_all
    path, key = spec, None
    if not Path(spec).exists() and ":" in spec:
        path, key = spec.rsplit(":", 1)
    items = load_all(path, fmt)
    if key is not None:
        items = [(k, s) for k, s in items if k == key]
        if not items:
            raise FormatError(f"{path} holds no scheme with key {key!r}")
    if len(items) != 1:
        keys = ", ".join(str(k) for k, _ in items[:5])
        raise FormatError(f"{path} holds {len(items)} schemes; name one as {path}:KEY (keys: {keys}, ...)")
    scheme = items[0][1]
    v = scheme.verify()
    if not v.ok:
        raise VerificationError(f"{spec} is not a proven scheme ({v.summary()}); equiv compares proven schemes")
    return scheme


def run(args) -> int:
    from ..symmetry import equivalent
    s1, s2 = _load_one(args.a, args.fmt), _load_one(args.b, args.fmt)
    res = equivalent(s1, s2, time_limit=args.time_limit if args.time_limit > 0 else None)
    if args.json:
        obj = {"verdict": res.verdict, "reason": res.reason,
               "transformation": res.transformation.to_dict() if res.transformation else None}
        print(json.dumps(obj, separators=(",", ":")))
    else:
        print(f"{res.verdict}: {res.reason}")
        if res.transformation is not None:
            print(res.transformation.describe())
            print("checked: applying it to A gives B exactly "
                  "(a -> X a Y^-1, b -> Y b Z^-1, c -> X^-T c Z^T, then the product order and scalings)")
    return EXIT_CODES[res.verdict]
