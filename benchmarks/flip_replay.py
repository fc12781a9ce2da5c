"""Replay every flip-produced file in results/: re-run its walk from the provenance (seed, options, walk,
attempts; never the clock) and compare canonical keys.

    python benchmarks/flip_replay.py [FILES...]     # default: results/*.json with engine "flip"

Writes benchmarks/results/flip-replay.md and .json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402


def main(argv=None) -> int:
    from algodiscover.core.canonical import canonical_key
    from algodiscover.errors import ReplayError
    from algodiscover.formats import load
    from algodiscover.search import flip
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or sorted((ROOT / "results").glob("*.json"))
    rows = []
    for f in files:
        s = load(f)
        p = s.provenance or {}
        if p.get("engine") != "flip":
            continue
        t0 = time.monotonic()
        try:
            again = list(flip.replay(p))
            same = any(canonical_key(x) == canonical_key(s) for x in again)
            why = None
        except ReplayError as e:
            same, why = None, str(e)
        rows.append({"file": f.name, "ring": s.verify(symbolic=False).ring, "nnz": s.nnz, "seed": p.get("seed"),
                     "seconds": p.get("seconds"), "replayed": same, "why": why,
                     "replay_s": round(time.monotonic() - t0, 1), "command": p.get("command")})
        print(json.dumps(rows[-1]), flush=True)
    m = machine()
    (HERE / "results" / "flip-replay.json").write_text(json.dumps({"machine": m, "rows": rows}, indent=1) + "\n")
    lines = ["# Replaying the flip-produced files in results/", "", f"Machine: {describe(m)}", "",
             "Each file's walk re-run from its provenance (`algodiscover.search.flip.replay`: walker seed from the "
             "recorded seed and walk index, bounded by the recorded kernel attempts): same canonical key = yes.", "",
             "| file | ring | nnz | seed | search s | replays | replay s | command |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rep = {True: "yes", False: "NO (another scheme)", None: f"cannot: {r['why']}"}[r["replayed"]]
        lines.append(f"| {r['file']} | {r['ring']} | {r['nnz']} | {r['seed']} | {r['seconds']} | {rep} | {r['replay_s']} | "
                     f"`{r['command']}` |")
    (HERE / "results" / "flip-replay.md").write_text("\n".join(lines) + "\n")
    return 0 if all(r["replayed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
