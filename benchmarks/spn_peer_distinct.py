"""Count the distinct proven schemes a peer tool wrote, by our canonical key, so that its figures are
comparable with the SPN engine's (the peer deduplicates product order only, not sign/scale symmetries).

    python benchmarks/spn_peer_distinct.py DIR    # DIR: numerical-fast-matmul's output (n x m x p JSON files)

Its files hold u (A, row-major), v (B, row-major), w (C transposed: w[j*n + i] is C[i][j]) per product;
every file is re-proven here with ``verify`` before it is counted.  Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def to_scheme(doc):
    from algodiscover.core.scheme import Scheme
    n, m, p = doc["dimension"]
    conv = lambda x: Fraction(x) if isinstance(x, str) else Fraction(x).limit_denominator(1 << 20)  # noqa: E731
    u = [[conv(x) for x in row] for row in doc["u"]]
    v = [[conv(x) for x in row] for row in doc["v"]]
    w = [[conv(x) for x in row] for row in doc["w"]]
    r = len(u)
    Wc = [[w[t][j * n + i] for t in range(r)] for i in range(n) for j in range(p)]
    ints = all(x.denominator == 1 for M in (u, v, w) for row in M for x in row)
    f = (lambda x: int(x)) if ints else (lambda x: x)
    return Scheme((n, m, p), [[f(x) for x in row] for row in u], [[f(x) for x in row] for row in v],
                  [[f(x) for x in row] for row in Wc])


def main(argv=None):
    from algodiscover.core.canonical import canonical_key
    from algodiscover.core.verify import verify
    d = Path((argv or sys.argv[1:])[0])
    files = sorted(d.rglob("*.json"))
    keys, ternary_keys, bad = set(), set(), 0
    for f in files:
        s = to_scheme(json.loads(f.read_text()))
        if not verify(s, symbolic=False).ok:
            bad += 1
            continue
        k = canonical_key(s)
        keys.add(k)
        if all(abs(x) <= 1 and int(x) == x for M in (s.W_a, s.W_b, s.W_c) for x in M.flat):
            ternary_keys.add(k)
    print(json.dumps({"files": len(files), "not_proven": bad, "distinct": len(keys),
                      "distinct_ternary": len(ternary_keys)}))


if __name__ == "__main__":
    main()
