"""Gradient-trained SPNs (issue 11): success rate per restart, successes by part, time to the first
proven scheme and distinct proven schemes per second, for ``paper``, the gradient-only strategies
and the ALS default, measured in one process (``--workers 1``) with the engine the CLI runs.

    python benchmarks/spn_gradient.py --case 2x2x2:7 --strategies paper sgd-penalty --data random \
        --restarts 256 --seeds 0 1 2 --tag 222
    python benchmarks/spn_gradient.py --case 2x3x3:15 --strategies sgd-penalty --data random --time 300 --tag mid

Each row is the search ``discover --shape S --rank R --strategy X --data D --restarts N --count 100000
--seed S --workers 1`` would run (the CLI's discover calls this same engine with these options).
Rows are appended to ``benchmarks/results/spn-gradient.json`` (keyed by tag); the markdown table
``spn-gradient.md`` is written from all rows with ``--report``.  Figures are from a shared 2-core
machine: the load average is recorded with every row.
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

OUT = HERE / "results" / "spn-gradient.json"


def run(shape, rank, strategy, data, seed, restarts, time_limit):
    from algodiscover.core.canonical import canonical_key
    from algodiscover.core.verify import verify
    from algodiscover.search import Budget
    from algodiscover.search import spn
    opts = {"data": data, "workers": 1}
    if strategy != "default":
        opts["strategy"] = strategy
    t0 = time.monotonic()
    it = spn.search(shape, rank, seed=seed, budget=Budget(restarts=restarts, time_limit=time_limit, count=100000),
                    **opts)
    keys, ternary, first = set(), 0, None
    completed = {}
    for s in it:
        assert verify(s, symbolic=False).ok
        k = canonical_key(s)
        if k in keys:
            continue
        keys.add(k)
        first = first if first is not None else round(time.monotonic() - t0, 2)
        ternary += all(abs(int(x)) <= 1 for M in (s.W_a, s.W_b, s.W_c) for x in M.flat)
        cb = "+".join(s.provenance["completed_by"])
        completed[cb] = completed.get(cb, 0) + 1
    secs = time.monotonic() - t0
    st = it.stats
    return {"shape": shape, "rank": rank, "strategy": strategy, "resolved": st.get("strategy") or strategy,
            "data": data, "seed": seed, "restarts_budget": restarts, "time_limit": time_limit,
            "restarts_done": st["restarts_done"], "restarts_proven": st["restarts_proven"],
            "success_rate": round(st["restarts_proven"] / st["restarts_done"], 4) if st["restarts_done"] else None,
            "by_part": st["by_part"], "distinct": len(keys), "distinct_ternary": ternary,
            "completed_by_of_distinct": completed, "first_s": first, "seconds": round(secs, 1),
            "distinct_ternary_per_s": round(ternary / secs, 3) if secs > 0 else None,
            "best_residual": st["best_residual"], "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "command": (f"discover --shape {shape} --rank {rank}" + (f" --strategy {strategy}" if strategy != "default" else "")
                        + f" --data {data}" + (f" --restarts {restarts}" if restarts else "")
                        + (f" --time-limit {time_limit:g}" if time_limit else "")
                        + f" --count 100000 --seed {seed} --workers 1")}


def load_rows():
    if OUT.exists():
        return json.loads(OUT.read_text())
    return {"machine": None, "rows": []}


def pct(x):
    return "–" if x is None else f"{100 * x:.1f} %"


def report(doc):
    rows = doc["rows"]
    lines = ["| tag | shape:rank | strategy | data | seed | restarts proven / done | rate | by part | distinct (ternary) "
             "| time to first | seconds | ternary/s | load |", "|" + "---|" * 13]
    for r in rows:
        lines.append(f"| {r['tag']} | {r['shape']}:{r['rank']} | `{r['strategy']}` | {r['data']} | {r['seed']} | "
                     f"{r['restarts_proven']}/{r['restarts_done']} | "
                     f"{pct(r['success_rate'])} | "
                     f"{', '.join(f'{k} {v}' for k, v in r['by_part'].items()) or '–'} | {r['distinct']} ({r['distinct_ternary']}) | "
                     f"{'–' if r['first_s'] is None else str(r['first_s']) + ' s'} | {r['seconds']} | "
                     f"{r['distinct_ternary_per_s']} | {r['load_average_end'][0]} |")
    med = {}
    for r in rows:
        if r["restarts_budget"]:
            med.setdefault((r["tag"], r["shape"], r["rank"], r["strategy"], r["data"]), []).append(r["success_rate"])
    mlines = ["| tag | case | strategy | data | seeds | median success rate |", "|---|---|---|---|---|---|"]
    for (tag, sh, rk, stg, data), v in med.items():
        mlines.append(f"| {tag} | {sh}:{rk} | `{stg}` | {data} | {len(v)} | {100 * statistics.median(v):.1f} % |")
    return "\n".join(lines), "\n".join(mlines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case")
    ap.add_argument("--strategies", nargs="+", default=["paper"])
    ap.add_argument("--data", default="random")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--restarts", type=int)
    ap.add_argument("--time", type=float)
    ap.add_argument("--tag", default="run")
    ap.add_argument("--report", action="store_true", help="print the tables from the JSON rows")
    a = ap.parse_args(argv)
    doc = load_rows()
    if a.case:
        sh, rk = a.case.split(":")
        doc["machine"] = machine()
        doc.setdefault("machines", []).append(describe(doc["machine"]))
        for strategy in a.strategies:
            for seed in a.seeds:
                row = run(sh, int(rk), strategy, a.data, seed, a.restarts, a.time)
                row["tag"] = a.tag
                row["load_average_start"] = doc["machine"].get("load_average_at_start")
                doc["rows"].append(row)
                print(json.dumps(row), flush=True)
                OUT.write_text(json.dumps(doc, indent=1))
    if a.report:
        t, m = report(doc)
        print(t)
        print()
        print(m)


if __name__ == "__main__":
    main()
