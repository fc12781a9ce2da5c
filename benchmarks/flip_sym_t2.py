"""The t2 symmetric walk (``--symmetry t2``, shapes <m,k,m>) against the plain GF(2) walk, same seeds.

    python benchmarks/flip_sym_t2.py --time 90 --runs 3

Cases (shape, rank, ring): the best known ranks of three <m,k,m> shapes whose parity t2 can reach, and
<4,5,4>:61 (issue 12's <4,4,5>:61 rotated; t2 reaches even ranks only there, so it is the time to each level
that compares).  Each run pairs both walks from the standard algorithm (``--init standard``), one walker, the
same seed and wall-clock limit, alternating which goes first.  Recorded: seconds to the first proven scheme at
the rank asked for (or none), the best rank reached mod 2 and the time to each level.  Results:
``benchmarks/results/flip-sym-t2.md`` and ``.json``, with the machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402

CASES = {"2x5x2": ((2, 5, 2), 18, "Z"), "4x3x4": ((4, 3, 4), 38, "Z"), "5x4x5": ((5, 4, 5), 76, "Z"),
         "4x5x4": ((4, 5, 4), 61, "Z2")}


def run(case, mode, seconds, seed):
    from algodiscover.search import Budget, flip
    shape, rank, ring = CASES[case]
    load = [round(x, 2) for x in os.getloadavg()]
    t0 = time.monotonic()
    it = flip.search(shape, rank, seed=seed, budget=Budget(time_limit=seconds, count=1), workers=1,
                     init="standard", ring=ring, symmetry=mode)
    first = None
    for sch in it:
        first = round(time.monotonic() - t0, 2)
        break
    it.close()
    st = it.stats
    levels = {int(k): (v if isinstance(v, (int, float)) else v.get("seconds"))
              for k, v in (st.get("levels") or {}).items()}
    return {"reached_s": first, "best_rank": st.get("best_rank"), "levels": dict(sorted(levels.items(), reverse=True)),
            "load_before": load}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, default=90.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args(argv)
    info = machine()
    cmd = "python benchmarks/flip_sym_t2.py " + " ".join(sys.argv[1:] if argv is None else argv)
    from algodiscover.search import flip_sym
    flip_sym.warm_up()
    rows = []
    for case in args.cases:
        for r in range(args.runs):
            seed = args.seed + r
            order = ("t2", "none") if r % 2 == 0 else ("none", "t2")
            got = {mode: run(case, mode, args.time, seed) for mode in order}
            print(f"{case} seed {seed}: {got}", file=sys.stderr)
            rows.append({"case": case, "seed": seed, "order": list(order), **got})
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "flip-sym-t2.json").write_text(json.dumps({"command": cmd, "machine": info, "rows": rows}, indent=1))

    def cell(g):
        lv = ", ".join(f"{k}: {v:.1f}" for k, v in list(g["levels"].items())[-3:] if v is not None)
        return f"{g['reached_s'] if g['reached_s'] is not None else '-'} | {g['best_rank']} ({lv})"
    lines = ["# `--symmetry t2` vs the plain GF(2) walk on <m,k,m> shapes", "", f"Command: `{cmd}`", "",
             f"Machine: {describe(info)}", "",
             f"One walker each, `--init standard`, {args.time:.0f} s per walk, same seed per pair, order alternating. "
             "Seconds to the first proven scheme at the rank asked for ('-': not within the limit), then the best "
             "rank mod 2 and the seconds to the last three levels.", "",
             "| case | seed | t2: s to target | t2: best (levels) | plain: s to target | plain: best (levels) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        shape, rank, ring = CASES[r["case"]]
        lines.append(f"| <{r['case'].replace('x', ',')}>:{rank} {ring} | {r['seed']} | {cell(r['t2'])} | {cell(r['none'])} |")
    lines.append("")
    for case in args.cases:
        for mode in ("t2", "none"):
            hits = [r[mode]["reached_s"] for r in rows if r["case"] == case and r[mode]["reached_s"] is not None]
            n = sum(1 for r in rows if r["case"] == case)
            med = f", median {statistics.median(hits):.1f} s" if hits else ""
            lines.append(f"- {case} {mode if mode == 't2' else 'plain'}: target in {len(hits)} of {n}{med}.")
    (out / "flip-sym-t2.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
