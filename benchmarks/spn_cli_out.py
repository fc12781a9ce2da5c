"""The issue-3 command as a user runs it: a fresh ``discover`` process that writes one JSON file per
distinct proven scheme, then every file re-read and re-proven.

    python benchmarks/spn_cli_out.py --shape 3x3x3 --rank 23 --time 120

Writes ``benchmarks/results/spn-cli-out.md`` and ``.json`` (files written, distinct canonical keys,
files per second of the whole process, torch import and worker start included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", default="3x3x3")
    p.add_argument("--rank", type=int, default=23)
    p.add_argument("--time", type=float, default=120.0)
    p.add_argument("--tag", default="cli-out")
    a = p.parse_args(argv)
    from algodiscover.core.canonical import canonical_key
    from algodiscover.formats import load
    info = machine("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "found"
        cmd = ["discover", "--engine", "spn", "--shape", a.shape, "--rank", str(a.rank), "--count", "100000",
               "--time-limit", f"{a.time:g}", "--out", f"{out}/", "--quiet", "--no-catalog"]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        files = sorted(out.glob("*.json"))
        keys, ternary, ok = set(), 0, 0
        for f in files:
            s = load(f)
            ok += s.verify(symbolic=False).ok
            keys.add(canonical_key(s))
            ternary += s.is_ternary
    row = {"command": " ".join("DIR/" if c == f"{out}/" else c for c in cmd), "exit": r.returncode, "seconds": round(wall, 1),
           "files": len(files), "reproven": ok, "distinct_keys": len(keys), "ternary": ternary,
           "files_per_s": round(len(files) / wall, 3), "stderr_tail": r.stderr.strip().splitlines()[-1:]}
    print(json.dumps(row))
    res = HERE / "results"
    res.mkdir(exist_ok=True)
    (res / f"spn-{a.tag}.json").write_text(json.dumps({"benchmark": "spn-cli-out", "machine": info, "run": row},
                                                      indent=1) + "\n")
    lines = [f"# `discover --out DIR/` as a user runs it ({a.tag})", "", f"Machine: {describe(info)}.", "",
             f"Command: `python benchmarks/spn_cli_out.py --shape {a.shape} --rank {a.rank} --time {a.time:g} "
             f"--tag {a.tag}`, which runs `{row['command']}`", "",
             "| exit | wall s | files | re-proven | distinct keys | ternary | files / s |", "|---|---|---|---|---|---|---|",
             f"| {r.returncode} | {row['seconds']} | {len(files)} | {ok} | {len(keys)} | {ternary} | "
             f"{row['files_per_s']} |"]
    (res / f"spn-{a.tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if r.returncode == 0 and ok == len(files) == len(keys) else 1


if __name__ == "__main__":
    sys.exit(main())
