"""How rare reductions are in the GF(3) flip graph: flips from the standard algorithm to the first reduction,
GF(2) walk (gf2.walk) against GF(3) walk (gf3.walk3), same shapes, same seeds, no plus transitions.

    python benchmarks/gf3_first_reduction.py --shapes 2x2x3 2x3x4 --seeds 1 2 3 4 5 --cap 3000000 --max-weight 3 6

``--max-weight W ...`` adds a GF(3) row per W: the walk with its weight rule (no flip may give a factor more
than W nonzero entries; ``discover --field 3 --max-weight W``).

Writes benchmarks/results/gf3-first-reduction.md and .json (machine and load average included).  A cell
"> cap" means no reduction within ``--cap`` flips.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe, machine  # noqa: E402

from algodiscover.core.shape import Shape, parse_shape  # noqa: E402
from algodiscover.search import gf2, gf3  # noqa: E402

CHUNK = 1 << 14


def first_reduction(shape: Shape, field: int, seed: int, cap: int, max_weight: int = 0) -> tuple[int | None, float]:
    """Flips until the rank first drops below m*k*n (None: not within cap flips), and the seconds it took."""
    state = np.array([seed * 1_000_003 + 1], dtype=np.uint64)
    c = np.zeros(5, dtype=np.int64)
    t = time.perf_counter()
    if field == 2:
        F, r = gf2.standard_bits(shape, 2 * shape.m * shape.k * shape.n)
        r0 = r
        while c[0] < cap and r == r0:
            r = gf2.walk(F, r, r0 - 1, CHUNK, 10**15, r0, state, c)
    else:
        P, Q, r = gf3.standard_planes(shape, 2 * shape.m * shape.k * shape.n)
        r0 = r
        while c[0] < cap and r == r0:
            r = gf3.walk3(P, Q, r, r0 - 1, CHUNK, 10**15, r0, state, c, max_weight, 0.0)
        assert gf3.is_valid_mod3(shape, P, Q, r)
    return (int(c[0]) if r < r0 else None), time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", default=["2x2x3", "2x3x4"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--cap", type=int, default=3_000_000)
    ap.add_argument("--max-weight", nargs="*", type=int, default=[])
    ap.add_argument("--name", default="gf3-first-reduction")
    a = ap.parse_args(argv)
    info = machine()
    gf2.warm_up()
    gf3.warm_up()
    rows = []
    for sh in a.shapes:
        s = parse_shape(sh)
        for field, mw in ((2, 0), (3, 0), *((3, w) for w in a.max_weight)):
            cells = [first_reduction(s, field, seed, a.cap, mw) for seed in a.seeds]
            flips = [f for f, _ in cells]
            found = sorted(f for f in flips if f is not None)
            rows.append({"shape": sh, "field": field, "max_weight": mw, "seeds": a.seeds, "flips": flips,
                         "seconds": [round(x, 3) for _, x in cells], "reached": len(found),
                         "median_flips": (found[len(found) // 2] if len(found) * 2 > len(flips) else None)})
            print(rows[-1], flush=True)
    load_end = [round(x, 2) for x in os.getloadavg()]
    cmd = "python benchmarks/gf3_first_reduction.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps({"command": cmd, "machine": info, "load_average_at_end": load_end,
                                                    "cap": a.cap, "rows": rows}, indent=1))
    lines = [f"# Flips to the first reduction from the standard algorithm: GF(2) against GF(3)", "",
             f"Machine: {describe(info)}; load average at end {load_end} (shared 2-core machine, niced).",
             f"Command: `{cmd}`", "",
             "Both walks are the plain kernels (gf2.walk, gf3.walk3) with plus transitions off, from the standard "
             "algorithm, the same seeds; a cell is the number of flips until the rank first drops (\"> cap\": none "
             f"within {a.cap:,} flips). \"GF(3), max weight W\": the GF(3) walk where no flip may give a factor "
             "more than W nonzero entries (a refused flip is an attempt, not a flip).", "",
             "| shape | field | " + " | ".join(f"seed {x}" for x in a.seeds) + " | reached | median |",
             "|---|---|" + "---|" * len(a.seeds) + "---|---|"]
    for row in rows:
        cells = [f"{f:,}" if f is not None else "> cap" for f in row["flips"]]
        med = f"{row['median_flips']:,}" if row["median_flips"] is not None else "> cap"
        fld = f"GF({row['field']})" + (f", max weight {row['max_weight']}" if row.get("max_weight") else "")
        lines.append(f"| {row['shape']} | {fld} | " + " | ".join(cells)
                     + f" | {row['reached']}/{len(row['flips'])} | {med} |")
    (out / f"{a.name}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
