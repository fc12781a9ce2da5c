"""The flip engine beside the public flip-graph solvers, same machine, interleaved runs.

For each target SHAPE:RANK:RING: our engine (`discover --engine flip --init standard --workers 1
--seed S`, in-process through ``run_search``), then flip-cpd (github:khoruzhii/flip-cpd, `search2`,
one thread, plus transitions, from its trivial decomposition), each under the same wall-clock cap;
for <5,5,5> also symmetric-flips (github:jakobmoosbauer/symmetric-flips, GPL-3, its `r5-93-1.txt`
configuration: C3-symmetric, diagonal-cube seeds; a different, symmetric search).  The public tools
are fetched and built outside the repository (default /tmp/fk-frontier; never copied or committed):

    git clone <mirror of khoruzhii/flip-cpd> /tmp/fk-frontier/flip-cpd
    g++ -DMOD2 -Ofast -std=c++20 -march=native -Ithird_party -pthread src/search.cpp -o bin/search2
    git clone <mirror of jakobmoosbauer/symmetric-flips> /tmp/fk-frontier/symmetric-flips
    g++ -O3 -march=native -o code/FlipSolver22 code/FlipSolver22.cpp   (fastsolver path set in MatrixMult22.py)

flip-cpd needs its tensor files (data/tensors/gg-MKN.npy + .meta.json, COO of the matmul tensor);
this script writes them from the definition (alpha = i*k+j, beta = j*n+l, gamma = i*n+l).

    python benchmarks/flip_frontier.py --targets 4x4x4:47:Z2 5x5x5:93:Z2 --time 120
    python benchmarks/flip_frontier.py --targets 2x4x5:32:Z:120:f3 --policies walk   # GF(3) walk, search3

A target's optional ``f3`` walks over GF(3) (ours with --field 3, flip-cpd's search3); its optional
``start=FILE`` starts our walk from that scheme file (`--start FILE`; a scheme of a neighbouring shape is
moved first, Kauers & Wood's meta flip graph; the public tools still start from their own trivial
decomposition, and the row says so), e.g. ``3x5x5:58:Z:60:start=results/3x4x5-r47.json``; policy ``c3`` runs
our symmetric search (--symmetry c3 --init symmetric) on square shapes; symmetric-flips runs its own
configuration for <5,5,5> (r5-93-1.txt, C3) and <6,6,6> (r6-153-1.txt, S3).

Writes benchmarks/results/flip-frontier.md and .json: per target and tool, time to each rank level,
flips/s where the tool reports it, seeds, workers, machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _machine import describe, machine as machine_info  # noqa: E402


POLICY_OPTIONS = {  # --policies NAME -> options of our engine (init standard unless named)
    "walk": {}, "pool": {"policy": "pool"}, "c3": {"symmetry": "c3", "init": "symmetric"},
}


def ours(shape, rank, ring, seed, seconds, options) -> dict:
    from algodiscover.search import Budget, run_search
    t0 = time.monotonic()
    options = dict(options)
    init = options.pop("init", "standard")
    start = options.pop("start", None)
    it = run_search("flip", shape, rank, seed=seed, workers=1, ring=ring, init=init, start=start,
                    budget=Budget(time_limit=seconds), **options)
    found = None
    for s in it:
        found = s
        break
    it.close()
    st = it.stats  # the symmetric and GF(3) walks keep theirs too (flip._Delegated)
    label = ", ".join(str(options[k]) for k in ("policy", "symmetry") if k in options)
    if options.get("field", 2) != 2:
        label = ", ".join(x for x in (label, f"GF({options['field']})") if x)
    if start is not None:
        label = ", ".join(x for x in (label, f"from {Path(start).name}") if x)
    first = None
    if start is not None:  # the start record as the engine resolves it (its move and origin)
        from algodiscover.core.shape import parse_shape
        from algodiscover.search.flip import _resolve_start
        first = _resolve_start(start, parse_shape(shape))[1]
    return {"tool": "algodiscover flip" + (f" ({label})" if label else ""), "seed": seed, "workers": 1,
            "options": {**options, "init": init, **({"start": start} if start else {})},
            "start_record": first,
            "reached": found is not None, "best_rank": st.get("best_rank"),
            # proven during the walk, else the end-of-run lift of the pools above the target
            "best_lifted": st.get("best_lifted") if st.get("best_lifted") is not None else st.get("best_lifted_above"),
            "levels": {str(k): v for k, v in (st.get("levels") or {}).items()},
            "flips": st.get("flips"), "flips_per_s": (st.get("flips") or 0) / max(time.monotonic() - t0, 1e-9),
            "wall_s": round(time.monotonic() - t0, 2),
            "command": f"discover --engine flip --shape {'x'.join(map(str, shape))} --rank {rank} --ring {ring} "
                       + (f"--start {start} " if start else f"--init {init} ")
                       + f"--workers 1 --seed {seed} --time-limit {seconds:g}"
                       + "".join(f" --{k.replace('_', '-')} {v}" for k, v in options.items())}


def _timed_lines(cmd, cwd, seconds, pattern):
    """Run cmd for at most `seconds`; returns [(t, line)] for lines matching pattern, and all output."""
    p = subprocess.Popen(["stdbuf", "-oL", *cmd], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()
    hits, lines = [], []

    def read():
        for line in p.stdout:
            lines.append(line.rstrip())
            if re.search(pattern, line):
                hits.append((round(time.monotonic() - t0, 2), line.rstrip()))

    th = threading.Thread(target=read, daemon=True)
    th.start()
    try:
        p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    th.join(timeout=5)
    return hits, lines, round(time.monotonic() - t0, 2)


def _cpd_tensor(d: Path, shape):
    import numpy as np
    m, k, n = shape
    name = f"gg-{m}{k}{n}"
    t = d / "data" / "tensors"
    t.mkdir(parents=True, exist_ok=True)
    coo = [(i * k + j, j * n + l, i * n + l, 1) for i in range(m) for j in range(k) for l in range(n)]
    np.save(t / f"{name}.npy", np.array(coo, dtype=np.int8))
    (t / f"{name}.meta.json").write_text(json.dumps({"name": name, "nU": m * k, "nV": k * n, "nW": m * n, "op": "gg",
                                                     "n1": m, "n2": k, "n3": n}))
    return name


def flip_cpd(d: Path, shape, rank, seconds, field=2) -> dict:
    exe = d / "bin" / f"search{field}"
    if not exe.exists():
        return {"tool": f"flip-cpd search{field}", "error": f"{exe} not built"}
    name = _cpd_tensor(d, shape)
    cmd = [str(exe), name, "--plus", "-t", "1", "-r", str(rank)]
    hits, lines, wall = _timed_lines(cmd, d, seconds, r"Searching for rank|rank \d+")
    levels = {}
    for t, line in hits:
        m = re.search(r"Searching for rank (\d+)", line)
        if m:  # the level above is complete: its pool holds schemes of that rank
            levels.setdefault(str(int(m.group(1)) + 1), t)
    return {"tool": f"flip-cpd search{field}", "workers": 1, "levels": levels,
            "best_rank": min((int(k) for k in levels), default=None), "wall_s": wall,
            "command": " ".join(cmd), "last_lines": lines[-5:]}


SYMMETRIC_FLIPS_CONFIG = {5: "r5-93-1.txt", 6: "r6-153-1.txt"}  # its published configurations


def symmetric_flips(d: Path, seconds, solves=10, n=5) -> dict:
    code = d / "code"
    if not (code / "FlipSolver22").exists():
        return {"tool": "symmetric-flips", "error": f"{code / 'FlipSolver22'} not built"}
    conf = SYMMETRIC_FLIPS_CONFIG[n]
    cfg = (code / conf).read_text()
    cfg = re.sub(r"NUMBER_OF_SOLVES:\s*\d+", f"NUMBER_OF_SOLVES: {solves}", cfg)
    cfg = re.sub(r"RANDOM_SEED:\s*\S+", "RANDOM_SEED: 12345", cfg)
    mine = f"fk-{conf}"
    (code / mine).write_text(cfg)
    hits, lines, wall = _timed_lines([sys.executable, "MatrixMult22.py", mine], code, seconds,
                                     r"Best: \d+")
    runs = []
    for t, line in hits:
        m = re.search(r"Run: (\d+) Best: (\d+).*?Speed: (\d+) megaflips/min", line)
        if m:
            runs.append({"t": t, "run": int(m.group(1)), "best": int(m.group(2)),
                         "flips_per_s": int(m.group(3)) * 1e6 / 60})
    sym = re.search(r"SYMMETRY:\s*(\d)", cfg)
    group = {"3": "C3", "6": "S3"}.get(sym.group(1) if sym else "3", "C3")
    return {"tool": f"symmetric-flips ({group}, {conf})", "workers": 1, "runs": runs,
            "best_rank": min((r["best"] for r in runs), default=None), "wall_s": wall,
            "flips_per_s": (sum(r["flips_per_s"] for r in runs) / len(runs)) if runs else None,
            "command": f"python3 MatrixMult22.py {mine} (NUMBER_OF_SOLVES {solves}, RANDOM_SEED 12345)"}


def _option_value(v: str):
    """An --option value as int, else float, else text."""
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", default=["4x4x4:47:Z2", "5x5x5:93:Z2"],
                    help="SHAPE:RANK:RING[:SECONDS] (seconds for our engine; default --time)")
    ap.add_argument("--time", type=float, default=120.0, help="wall-clock cap of our engine per target")
    ap.add_argument("--time-other", type=float, default=None, help="cap of each public tool (default --time)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tools", default="/tmp/fk-frontier")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                    help="an engine option for our runs (int, float or text), e.g. max_weight=3")
    ap.add_argument("--name", default="flip-frontier")
    ap.add_argument("--policies", nargs="+", default=["walk"], choices=tuple(POLICY_OPTIONS),
                    help="run our engine once per search policy (walk, pool: --policy; c3: --symmetry c3 "
                         "--init symmetric, square shapes only), then the public tools")
    ap.add_argument("--note", action="append", default=[], metavar="TEXT",
                    help="a paragraph for the Notes under the table (kept in the JSON; --append keeps the old ones)")
    ap.add_argument("--append", action="store_true",
                    help="add these targets' rows to the existing results file of --name (its first command kept)")
    args = ap.parse_args(argv)
    tools = Path(args.tools)
    opts = {k: _option_value(v) for k, v in (o.split("=", 1) for o in args.option)}
    out = {"machine": machine_info(), "command": "python benchmarks/flip_frontier.py " + " ".join(sys.argv[1:]),
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "targets": []}
    for t in args.targets:
        sh, rk, ring, *rest = t.split(":")
        field = 3 if "f3" in rest else 2
        start = next((x.split("=", 1)[1] for x in rest if x.startswith("start=")), None)
        secs = [x for x in rest if x != "f3" and not x.startswith("start=")]
        ours_s = float(secs[0]) if secs else args.time
        shape = tuple(int(x) for x in sh.split("x"))
        row = {"target": t, "load_1min_before": os.getloadavg()[0], "runs": []}
        for pol in args.policies:
            if pol == "c3" and len(set(shape)) != 1:
                continue  # the cyclic symmetry needs a square shape
            o = {**opts, **POLICY_OPTIONS[pol]}
            if field != 2:
                o["field"] = field
            if start is not None:
                if pol == "c3":
                    continue  # the symmetric search starts from diagonal cubes only
                o["start"] = start
            row["runs"].append(ours(shape, int(rk), ring, args.seed, ours_s, o))
            print(json.dumps(row["runs"][-1]), flush=True)
        other = args.time_other or args.time
        row["runs"].append(flip_cpd(tools / "flip-cpd", shape, int(rk), other, field))
        print(json.dumps(row["runs"][-1]), flush=True)
        if len(set(shape)) == 1 and shape[0] in SYMMETRIC_FLIPS_CONFIG:
            row["runs"].append(symmetric_flips(tools / "symmetric-flips", other, n=shape[0]))
            print(json.dumps(row["runs"][-1]), flush=True)
        row["load_1min_after"] = os.getloadavg()[0]
        out["targets"].append(row)
    res = HERE / "results"
    prev_file = res / f"{args.name}.json"
    if args.append and prev_file.exists():
        prev = json.loads(prev_file.read_text())
        for row in out["targets"]:
            row["command"], row["started"] = out["command"], out["started"]
        out = {**prev, "targets": prev["targets"] + out["targets"],
               "appended": prev.get("appended", []) + [{"command": out["command"], "started": out["started"]}]}
    out["notes"] = list(out.get("notes", [])) + list(args.note)
    (res / f"{args.name}.json").write_text(json.dumps(out, indent=1, default=float) + "\n")
    (res / f"{args.name}.md").write_text(markdown(out))
    return 0


def _load(row) -> str:
    v = row.get("load_1min_before")
    return "-" if v is None else f"{v:.1f}"


def markdown(out) -> str:
    m = out["machine"]
    lines = ["# Flip graphs at the frontier: algodiscover beside flip-cpd and symmetric-flips", "",
             f"Machine: {describe(m)}", f"Started {out['started']}. Command: `{out['command']}`", ""]
    for a in out.get("appended", []):
        lines += [f"Rows appended (started {a['started']}): `{a['command']}`", ""]
    lines += [
             "Shared machine (2 cores; the load column is the 1-min load average before the row): every tool ran on one thread under the same load, one after "
             "the other for each target (interleaved); wall-clock times, so absolute figures are low, compare within a "
             "row. flip-cpd reports a level when its pool for that rank is complete (its own pool rule); "
             "symmetric-flips runs a C3-symmetric search (not the same search space). A row of ours marked "
             "\"from FILE\" started from that committed result of this toolkit (moved to the target's shape when "
             "it is a neighbour's: see the move and origin in the JSON); the public tools ran from their own "
             "trivial decomposition.", "",
             "| target | tool | best rank | time to each rank level (s) | flips/s | wall s | load | command |",
             "|---|---|---|---|---|---|---|---|"]
    for row in out["targets"]:
        for r in row["runs"]:
            if "error" in r:
                lines.append(f"| {row['target']} | {r['tool']} | - | {r['error']} | - | - | - | - |")
                continue
            lv = ", ".join(f"{k}: {v:.1f}" for k, v in sorted(((int(k), v) for k, v in r.get("levels", {}).items()),
                                                              reverse=True)[-8:])
            if "runs" in r and r["runs"]:
                lv = "; ".join(f"run {x['run']}: best {x['best']} at {x['t']:.0f}s" for x in r["runs"][:8])
            fps = f"{r['flips_per_s']:.3g}" if r.get("flips_per_s") else "not reported"
            lines.append(f"| {row['target']} | {r['tool']} | {r.get('best_rank')} | {lv} | {fps} | {r.get('wall_s')} | "
                         f"{_load(row)} | `{r['command']}` |")
    for note in out.get("notes", []):
        lines += ["", note]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
