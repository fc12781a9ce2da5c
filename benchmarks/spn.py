"""Benchmark the SPN engine: per shape, rank and strategy, the success rate per restart, distinct
proven schemes per wall-clock second, and the time to the first proven scheme.

    python benchmarks/spn.py --cases 2x2x2:7 3x3x3:23 --strategies als paper --time 60 --runs 1

Each run is one engine search with a wall-clock limit (``--time``) or a restart budget
(``--restarts``); schemes are counted once per canonical form (product order and scalings),
and ternary ones separately.  Results go to ``benchmarks/results/spn-TAG.md`` and ``.json``
with the machine named.  On a shared machine the figures are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402


def run_case(shape, rank, strategy, seed, time_limit, restarts, device, batch, steps, coefficients, workers=None):
    from algodiscover.core.canonical import canonical_key
    from algodiscover.search import Budget, get_engine
    opts = {}
    if strategy != "default":
        opts["strategy"] = strategy
    if batch:
        opts["batch"] = batch
    if steps:
        opts["steps"] = steps
    if coefficients:
        opts["coefficients"] = coefficients
    if workers:
        opts["workers"] = workers
    t0 = time.monotonic()
    budget = Budget(time_limit=time_limit, restarts=restarts, count=None)
    it = get_engine("spn").search(shape, rank, seed=seed, budget=budget, device=device, **opts)
    first = None
    keys, ternary = set(), 0
    for s in it:
        assert s.verify(symbolic=False).ok  # the engine only yields proven schemes; checked again here
        key = canonical_key(s)
        if key in keys:
            continue
        keys.add(key)
        ternary += s.is_ternary
        if first is None:
            first = time.monotonic() - t0
    wall = time.monotonic() - t0
    st = it.stats
    done = st.get("restarts_done", 0)
    return {"shape": shape, "rank": rank, "strategy": strategy, "seed": seed, "seconds": round(wall, 2),
            "restarts_done": done, "successes": st.get("successes", 0),
            "success_rate": round(st.get("successes", 0) / done, 4) if done else None,
            "distinct": len(keys), "distinct_ternary": ternary,
            "distinct_per_s": round(len(keys) / wall, 4), "ternary_per_s": round(ternary / wall, 4),
            "time_to_first": None if first is None else round(first, 2),
            "best_residual": st.get("best_residual"), "workers": st.get("workers", 1), "batch": batch}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", default=["2x2x2:7", "3x3x3:23"], help="SHAPE:RANK items")
    p.add_argument("--strategies", nargs="+", default=["default"])
    p.add_argument("--time", type=float, default=60.0, help="wall-clock seconds per run")
    p.add_argument("--restarts", type=int, default=None, help="restart budget per run instead of/in addition to time")
    p.add_argument("--runs", type=int, default=1, help="runs (seeds 0..runs-1) per case and strategy")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--coefficients", default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=None, help="processes on the CPU (default: the engine's)")
    p.add_argument("--out-dir", default=None, help="where the results go (default benchmarks/results)")
    p.add_argument("--tag", default=None, help="results file name part (default: a timestamp)")
    p.add_argument("--note", default="", help="free text recorded with the results")
    a = p.parse_args(argv)
    a.argv = sys.argv[1:] if argv is None else list(argv)
    info = machine(a.device)
    tag = a.tag or time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for case in a.cases:
        shape, rank = case.split(":")
        for strat in a.strategies:
            for seed in range(a.runs):
                r = run_case(shape, int(rank), strat, seed, a.time, a.restarts, a.device, a.batch, a.steps,
                             a.coefficients, a.workers)
                rows.append(r)
                print(json.dumps(r), flush=True)
                write(a, info, tag, rows, final=False)  # a run cut short still leaves the finished ones
    write(a, info, tag, rows, final=True)
    return 0


def write(a, info, tag, rows, final):
    summary = []
    for case in a.cases:
        shape, rank = case.split(":")
        for strat in a.strategies:
            rs = [r for r in rows if r["shape"] == shape and r["rank"] == int(rank) and r["strategy"] == strat]
            if not rs:
                continue
            done = sum(r["restarts_done"] for r in rs)
            firsts = [r["time_to_first"] for r in rs if r["time_to_first"] is not None]
            summary.append({
                "case": f"<{shape.replace('x', ',')}>:{rank}", "strategy": strat, "runs": len(rs),
                "seconds_per_run": a.time if a.restarts is None else None,
                "success_rate": round(sum(r["successes"] for r in rs) / done, 4) if done else None,
                "restarts": done,
                "distinct_per_s_median": statistics.median(r["distinct_per_s"] for r in rs),
                "ternary_per_s_median": statistics.median(r["ternary_per_s"] for r in rs),
                "time_to_first_median": statistics.median(firsts) if len(firsts) == len(rs) else None,
                "found_in": f"{len(firsts)}/{len(rs)}",
            })
    out = Path(a.out_dir) if a.out_dir else HERE / "results"
    out.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": "spn", "machine": info, "argv": a.argv,
               "note": a.note, "summary": summary, "runs": rows}
    (out / f"spn-{tag}.json").write_text(json.dumps(payload, indent=1) + "\n")
    workers = sorted({r["workers"] for r in rows})
    lines = [f"# SPN engine benchmark ({tag})", "", f"Machine: {describe(info)}; engine processes: "
             f"{', '.join(map(str, workers))}.", ""]
    if not final:
        lines += ["(partial: the benchmark is still running or was cut short)", ""]
    if a.note:
        lines += [a.note, ""]
    lines += [f"Command: `python benchmarks/spn.py {' '.join(payload['argv'])}`", "",
              "| case | strategy | runs | restarts | success/restart | distinct/s (median) | ternary/s (median) "
              "| time to first (median s) | found in |",
              "|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        sr = "n/a" if s["success_rate"] is None else f"{100 * s['success_rate']:.1f} %"
        ttf = "—" if s["time_to_first_median"] is None else f"{s['time_to_first_median']:.1f}"
        lines.append(f"| {s['case']} | {s['strategy']} | {s['runs']} | {s['restarts']} | {sr} | "
                     f"{s['distinct_per_s_median']:.3g} | {s['ternary_per_s_median']:.3g} | {ttf} | {s['found_in']} |")
    (out / f"spn-{tag}.md").write_text("\n".join(lines) + "\n")
    if final:
        print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
