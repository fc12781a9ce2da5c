"""How long rendering takes: circuit graph, PNG/SVG/DOT files, LaTeX documents (and pdflatex when present).

Writes benchmarks/results/render.md and render.json.  Run: python benchmarks/render.py
Figures are wall-clock medians of 3 runs on a machine whose 2 cores are shared with other work:
read them as upper bounds on the time taken (lower bounds on speed).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _machine import describe, machine  # noqa: E402

from algodiscover import examples  # noqa: E402
from algodiscover.core.compose import tensor_product  # noqa: E402
from algodiscover.render.graph import circuit_graph, write_circuit  # noqa: E402
from algodiscover.render.latex import scheme_to_latex  # noqa: E402


def cases():
    s7 = examples.strassen()
    yield "Strassen <2,2,2>:7", s7
    yield "Laderman <3,3,3>:23", examples.laderman()
    yield "Strassen^2 <4,4,4>:49", tensor_product(s7, s7)


def _median(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pdflatex(tex: str) -> float | None:
    if shutil.which("pdflatex") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        Path(d, "doc.tex").write_text(tex)
        t0 = time.perf_counter()
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=d,
                           capture_output=True, timeout=300)
        dt = time.perf_counter() - t0
        return dt if r.returncode == 0 else float("nan")


def main():
    info = machine("cpu")
    import matplotlib
    import networkx
    info["matplotlib"], info["networkx"] = matplotlib.__version__, networkx.__version__
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, s in cases():
            s.verify()
            row = {"case": name, "rank": s.rank, "nodes": circuit_graph(s).number_of_nodes()}
            row["graph_s"] = _median(lambda: circuit_graph(s))
            for suffix in ("png", "svg", "dot"):
                row[f"{suffix}_s"] = _median(lambda: write_circuit(s, Path(d, f"g.{suffix}")))
                row[f"{suffix}_bytes"] = Path(d, f"g.{suffix}").stat().st_size
            tex = scheme_to_latex(s, fragment=False, matrices=True)
            row["latex_s"] = _median(lambda: scheme_to_latex(s, fragment=False, matrices=True))
            row["pdflatex_s"] = _pdflatex(tex)
            rows.append(row)
            print(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k != "case"},
                  flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "render.json").write_text(json.dumps({"machine": info, "note": "CPU cores shared with other work",
                                                 "rows": rows}, indent=2))

    def f(x):
        return "n/a" if x is None else f"{x:.3f}"
    md = ["# Rendering speed (wall clock, median of 3)", "",
          f"Machine: {describe(info)}; matplotlib {info['matplotlib']}, networkx {info['networkx']}.",
          "The CPU cores were shared with other work while this ran: times are upper bounds.", "",
          "| scheme | graph nodes | graph s | PNG s (bytes) | SVG s (bytes) | DOT s | LaTeX doc s | pdflatex s |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    md += [f"| {r['case']} | {r['nodes']} | {f(r['graph_s'])} | {f(r['png_s'])} ({r['png_bytes']}) | "
           f"{f(r['svg_s'])} ({r['svg_bytes']}) | {f(r['dot_s'])} | {f(r['latex_s'])} | {f(r['pdflatex_s'])} |"
           for r in rows]
    (out / "render.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
