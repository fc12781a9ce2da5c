"""The arithmetic circuit of a scheme as a networkx DiGraph, drawn in layers with matplotlib.

Layers (left to right): the input entries of A and B; one addition node per linear form with
two or more terms; the r products; the outputs c_il, each the sum of its products.  Every
edge carries the coefficient it multiplies by (``coef``, exact) and its text (``label``).  A
one-term factor feeds its product directly (the edge carries the scaling, if any).  Common
sub-sums are not shared, so the additions counted are the scheme's naive addition count.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import networkx as nx

from ..core.scheme import Scheme
from ..errors import FormatError
from .text import _names, linear_form

LAYERS = ("input", "addition", "product", "output")
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


def _coef_label(c: Fraction) -> str:
    if c.denominator == 1:
        return f"{c.numerator:+d}"
    return f"{'-' if c < 0 else '+'}{abs(c.numerator)}/{c.denominator}"


def circuit_graph(scheme: Scheme, naming: str = "compact") -> nx.DiGraph:
    """The circuit as a DiGraph; node attributes ``kind`` (a LAYERS name), ``layer`` (0..3), ``label``.

    Node names: input entries ``a11``/``b21`` (or ``A[0,0]`` with naming="index"), addition nodes
    ``m3.a``/``m3.b`` (the left/right factor of product m3), products ``m3``, outputs ``c12``.
    Edge attributes: ``coef`` (int or Fraction), ``label`` ("+1", "-1", "+1/2"), ``sign`` (+1/-1).
    """
    a, b, c = _names(scheme, naming)
    G = nx.DiGraph(shape=tuple(scheme.shape), rank=scheme.rank)
    for name in a + b:
        G.add_node(name, kind="input", layer=0, label=name)

    def add_edge(u, v, coef):
        coef = Fraction(coef)
        value = int(coef) if coef.denominator == 1 else coef
        G.add_edge(u, v, coef=value, label=_coef_label(coef), sign=1 if coef > 0 else -1)

    for t in range(scheme.rank):
        prod = f"m{t + 1}"
        G.add_node(prod, kind="product", layer=2, label=prod, index=t)
        for side, W, names in (("a", scheme.W_a, a), ("b", scheme.W_b, b)):
            row = W[t].tolist()
            terms = [(names[x], Fraction(cf)) for x, cf in enumerate(row) if cf != 0]
            if len(terms) == 1:  # a single (possibly scaled) entry feeds the product directly
                add_edge(terms[0][0], prod, terms[0][1])
                continue
            node = f"{prod}.{side}"
            G.add_node(node, kind="addition", layer=1, label=linear_form(row, names), side=side, product=t)
            for name, cf in terms:
                add_edge(name, node, cf)
            add_edge(node, prod, 1)
    for z, name in enumerate(c):
        G.add_node(name, kind="output", layer=3, label=name)
        for t, cf in enumerate(scheme.W_c[z].tolist()):
            if cf != 0:
                add_edge(f"m{t + 1}", name, cf)
    return G


@dataclass(frozen=True)
class CircuitStats:
    """Counts read off the circuit graph."""

    inputs: int
    addition_nodes: int
    additions: int          # two-input additions/subtractions: sum over sum nodes of (in-degree - 1)
    multiplications: int    # products of two linear forms (scalings by constants not counted)
    scalings: int           # edges with |coefficient| != 1
    depth: int              # longest input-to-output path, in edges of the layered graph
    depth_binary: int       # the same with every k-term sum as a balanced tree of ceil(log2 k) additions

    def describe(self) -> str:
        s = (f"{self.multiplications} multiplications, {self.additions} additions "
             f"({self.addition_nodes} addition nodes + output sums), depth {self.depth} "
             f"({self.depth_binary} with two-input operations)")
        if self.scalings:
            s += f", {self.scalings} scalings by constants"
        return s


def circuit_stats(G: nx.DiGraph) -> CircuitStats:
    kinds = nx.get_node_attributes(G, "kind")
    sums = [v for v, k in kinds.items() if k in ("addition", "output")]
    additions = sum(max(G.in_degree(v) - 1, 0) for v in sums)
    # depth with two-input gates: an addition node of k terms costs ceil(log2 k), a product 1
    cost = {}
    for v in nx.topological_sort(G):
        kind = kinds[v]
        here = 0
        if kind in ("addition", "output"):
            here = math.ceil(math.log2(G.in_degree(v))) if G.in_degree(v) > 1 else 0
        elif kind == "product":
            here = 1
        cost[v] = here + max((cost[u] for u in G.predecessors(v)), default=0)
    outputs = [v for v, k in kinds.items() if k == "output"]
    return CircuitStats(
        inputs=sum(1 for k in kinds.values() if k == "input"),
        addition_nodes=sum(1 for k in kinds.values() if k == "addition"),
        additions=additions,
        multiplications=sum(1 for k in kinds.values() if k == "product"),
        scalings=sum(1 for _, _, d in G.edges(data=True) if abs(Fraction(d["coef"])) != 1),
        depth=nx.dag_longest_path_length(G),
        depth_binary=max((cost[v] for v in outputs), default=0),
    )


# ---------------------------------------------------------------------------------------
# DOT (Graphviz) text, written directly: no pygraphviz/pydot needed.

def _dot_id(name: str) -> str:
    return '"' + str(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def circuit_to_dot(G: nx.DiGraph, name: str = "circuit") -> str:
    """Graphviz DOT text of the circuit: one rank per layer, negative edges red and dashed.

    Every edge carries its coefficient as ``coef="+1"``; coefficients other than ±1 are also
    shown as the edge's ``label``.
    """
    shapes = {"input": 'box, style=rounded', "addition": "box", "product": "circle", "output": "doublecircle"}
    lines = [f"digraph {_dot_id(name)} {{", "  rankdir=LR;", "  nodesep=0.15;", "  ranksep=1.2;",
             '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];']
    for layer, kind in enumerate(LAYERS):
        members = [v for v, d in G.nodes(data=True) if d["kind"] == kind]
        if not members:
            continue
        lines.append(f"  subgraph {_dot_id('layer_' + kind)} {{")
        lines.append("    rank=same;")
        for v in members:
            d = G.nodes[v]
            lines.append(f"    {_dot_id(v)} [label={_dot_id(d['label'])}, shape={shapes[kind]}, kind={kind}];")
        lines.append("  }")
    for u, v, d in G.edges(data=True):
        attrs = [f"coef={_dot_id(d['label'])}"]
        if abs(Fraction(d["coef"])) != 1:  # the sign is shown by colour and dashes; only magnitudes as text
            attrs.append(f"label={_dot_id(d['label'])}")
        if d["sign"] < 0:
            attrs.append('color="#c0392b", style=dashed')
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Drawing with matplotlib.

_FONT = 8.0                      # points (node labels, monospace)
_MONO_W = 0.602 / 72.0           # DejaVu Sans Mono advance per point of font size, in inches
_ROW_H = 0.30                    # inches between node centres in the tallest column
_PAD = 0.06                      # inches of box padding on each side of a label
MAX_DRAWN_COLUMN = 600           # nodes in the tallest layer beyond which drawing is refused (use DOT)


def _font(kind: str) -> float:
    return _FONT - 0.5 if kind == "addition" else _FONT


def _half_width(G, v) -> float:
    d = G.nodes[v]
    return len(d["label"]) * _font(d["kind"]) * _MONO_W / 2 + _PAD


def _positions(G: nx.DiGraph):
    """Layered coordinates (inches): x per layer sized from label lengths, y evenly spaced per layer.

    Additions: the A-side forms (upper half, in product order) above the B-side forms (lower
    half), so that A entries (listed first) and B entries feed nearby boxes.
    """
    cols = {k: [] for k in LAYERS}
    for v, d in G.nodes(data=True):
        cols[d["kind"]].append(v)
    cols["addition"].sort(key=lambda v: (G.nodes[v]["side"], G.nodes[v]["product"]))
    cols["product"].sort(key=lambda v: G.nodes[v]["index"])
    half = {k: max((_half_width(G, v) for v in cols[k]), default=0.2) for k in LAYERS}
    tallest = max(len(v) for v in cols.values())
    height = max(tallest, 2) * _ROW_H
    gaps = {"input": 1.2, "addition": 1.3, "product": 1.5}
    x, pos, xs = 0.0, {}, {}
    for k in LAYERS:
        if not cols[k]:
            continue
        x += half[k]
        xs[k] = x
        n = len(cols[k])
        step = height / n
        for i, v in enumerate(cols[k]):
            pos[v] = (x, height - (i + 0.5) * step)
        x += half[k] + gaps.get(k, 0.0)
    return pos, xs, x, height


def draw_circuit(scheme_or_graph, ax=None, *, naming: str = "compact", title: bool = True):
    """Draw the circuit in layers; returns the matplotlib Figure (a new one unless ``ax`` is given).

    Positive edges are solid blue, negative ones dashed red; coefficients other than ±1 are
    written on the edge.  The figure is sized from the scheme so labels never overlap.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if isinstance(scheme_or_graph, Scheme):
        scheme = scheme_or_graph
        G = circuit_graph(scheme, naming)
    else:
        scheme, G = None, scheme_or_graph
    tallest = max(Counter(d["kind"] for _, d in G.nodes(data=True)).values())
    if tallest > MAX_DRAWN_COLUMN:
        raise FormatError(f"the circuit has {tallest} nodes in one layer, too many to draw legibly "
                          f"(limit {MAX_DRAWN_COLUMN}); write a .dot file and lay it out with Graphviz")
    pos, xs, total_w, height = _positions(G)
    stats = circuit_stats(G)
    shape, rank = G.graph.get("shape"), G.graph.get("rank")
    head = f"⟨{','.join(map(str, shape))}⟩ rank {rank}" if shape else "arithmetic circuit"
    if scheme is not None:
        head += f", ring {scheme.verify().ring}"  # the ring proven, or "invalid"
    line2 = stats.describe()
    # proportional title font: about 0.55 em per character
    title_w = max(len(head) * 10.5, len(line2) * 9) * 0.56 / 72 + 0.3
    width = max(total_w, title_w if title else 0, 3.0)
    top = 0.95 if title else 0.45
    shift = (width - total_w) / 2  # centre the layers under a wider title
    pos = {v: (x + shift, y) for v, (x, y) in pos.items()}
    xs = {k: x + shift for k, x in xs.items()}
    if ax is None:
        fig = Figure(figsize=(width + 0.4, height + top + (0.55 if title else 0.35)))
        ax = fig.add_axes((0, 0, 1, 1))
    else:
        fig = ax.figure
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(-0.55 if title else -0.35, height + top)
    ax.set_axis_off()

    pos_c, neg_c = "#2c5d8f", "#c0392b"
    for u, v, d in G.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        x0 += _half_width(G, u)          # leave u's box at its right edge
        x1 -= _half_width(G, v) + 0.02   # arrive at v's box at its left edge
        neg = d["sign"] < 0
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", lw=0.6, color=neg_c if neg else pos_c,
                                    linestyle=(0, (3, 2)) if neg else "-", alpha=0.8,
                                    shrinkA=0, shrinkB=0, mutation_scale=6))
        if abs(Fraction(d["coef"])) != 1:
            tx, ty = x0 + 0.8 * (x1 - x0), y0 + 0.8 * (y1 - y0)
            ax.text(tx, ty, d["label"] if neg else d["label"][1:], fontsize=_FONT - 1.5,
                    ha="center", va="center", color=neg_c if neg else pos_c,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none"), zorder=4)

    style = {"input": dict(fc="#eef3f8", ec="#2c5d8f"),
             "addition": dict(fc="#fdf6e3", ec="#b58900"),
             "product": dict(fc="#e8f5e9", ec="#2e7d32"),
             "output": dict(fc="#f3e5f5", ec="#6a1b9a")}
    for v, d in G.nodes(data=True):
        x, y = pos[v]
        ax.text(x, y, d["label"], fontsize=_font(d["kind"]), ha="center", va="center",
                family="DejaVu Sans Mono", zorder=5, gid=f"node:{v}",
                bbox=dict(lw=0.8, boxstyle="round,pad=0.25", **style[d["kind"]]))
    heads = {"input": "inputs", "addition": "additions", "product": "products", "output": "outputs"}
    for k, x in xs.items():
        ax.text(x, height + 0.1, heads[k], fontsize=_FONT + 1, ha="center", va="bottom",
                weight="bold", color="#444444")
    if title:
        ax.text(0.0, height + top - 0.05, head, fontsize=10.5, ha="left", va="top", weight="bold")
        ax.text(0.0, height + top - 0.27, line2, fontsize=9, ha="left", va="top")
    if title:
        ax.legend(handles=[Line2D([], [], color=pos_c, lw=1, label="coefficient +"),
                           Line2D([], [], color=neg_c, lw=1, ls=(0, (3, 2)), label="coefficient −")],
                  loc="lower left", fontsize=_FONT, frameon=False, ncol=2, handlelength=2.2,
                  bbox_to_anchor=(0.0, 0.0), borderaxespad=0.2)
    return fig


def write_circuit(scheme: Scheme, path, *, naming: str = "compact", dpi: int = 150) -> CircuitStats:
    """Write the circuit to ``path``: .svg/.png/.pdf drawn with matplotlib, .dot/.gv as DOT text."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise FormatError(f"cannot render to {p.name!r}: expected a file ending in {', '.join(GRAPH_SUFFIXES)}")
    if not p.parent.exists():
        raise FormatError(f"cannot write {p}: directory {p.parent} does not exist")
    G = circuit_graph(scheme, naming)
    if suffix in (".dot", ".gv"):
        s = scheme.shape
        try:
            p.write_text(circuit_to_dot(G, name=f"{s.m}x{s.k}x{s.n}_rank{scheme.rank}"), encoding="utf-8")
        except OSError as e:
            raise FormatError(f"cannot write {p}: {e.strerror or e}") from None
    else:
        fig = draw_circuit(scheme, naming=naming)
        from .plots import _save
        _save(fig, p, dpi=dpi)
    return circuit_stats(G)
