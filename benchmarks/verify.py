"""How fast exact verification is: Brent equations on schemes up to rank ~2400.

Writes benchmarks/results/verify.md and verify.json.  Run: python benchmarks/verify.py
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from algodiscover import Scheme  # noqa: E402
from algodiscover.core.compose import tensor_product  # noqa: E402
from algodiscover.core.verify import brent_residual, classify  # noqa: E402
from algodiscover.examples import strassen  # noqa: E402

STRASSEN = strassen()


def _halved(s: Scheme) -> Scheme:
    """Same scheme with product 0's A-factor doubled and its C-column halved: forces the rational path."""
    Wa = s.W_a.astype(object).copy()
    Wc = s.W_c.astype(object).copy()
    Wa[0] = Wa[0] * 2
    Wc[:, 0] = [Fraction(int(x), 2) for x in Wc[:, 0]]
    return Scheme(s.shape, Wa, s.W_b, Wc)


def cases():
    s7 = STRASSEN
    s49 = tensor_product(s7, s7)
    s343 = tensor_product(s49, s7)
    yield "Strassen <2,2,2>:7", s7
    yield "Strassen^2 <4,4,4>:49", s49
    yield "Strassen^3 <8,8,8>:343", s343
    yield "standard <10,10,10>:1000", Scheme.standard((10, 10, 10))
    yield "Strassen^3 x std<1,1,3> <8,8,24>:1029", tensor_product(s343, Scheme.standard((1, 1, 3)))
    yield "Strassen^4 <16,16,16>:2401", tensor_product(s343, s7)
    yield "rational Strassen^3 <8,8,8>:343", _halved(s343)


def main():
    rows = []
    for name, s in cases():
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            R, D = brent_residual(s)
            ring = classify(s, R, D)
            times.append(time.perf_counter() - t0)
        rows.append({"case": name, "rank": s.rank, "ring": ring, "median_s": statistics.median(times)})
        print(f"{name:42s} ring {ring:3s} {statistics.median(times) * 1000:9.1f} ms", flush=True)
    machine = f"{platform.node()} {platform.machine()} {platform.processor() or ''} python {platform.python_version()}"
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "verify.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    md = ["# Exact verification speed (Brent equations, median of 3)", "", f"Machine: {machine} (2 shared cores, CPU)", "",
          "| scheme | rank | ring | seconds |", "|---|---:|---|---:|"]
    md += [f"| {r['case']} | {r['rank']} | {r['ring']} | {r['median_s']:.4f} |" for r in rows]
    (out / "verify.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
