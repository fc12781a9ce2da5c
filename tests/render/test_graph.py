"""The circuit graph: node and edge counts from the formulas, DOT text, drawings without overlaps."""

import re
from fractions import Fraction

import networkx as nx
import pytest

from algodiscover import Scheme
from algodiscover.render.graph import circuit_graph, circuit_stats, circuit_to_dot, draw_circuit, write_circuit
from tests.conftest import STRASSEN


def _kinds(G):
    out = {}
    for _, d in G.nodes(data=True):
        out[d["kind"]] = out.get(d["kind"], 0) + 1
    return out


def test_strassen_circuit_counts(strassen):
    G = circuit_graph(strassen)
    # 8 entries in; Strassen's factors with two terms: A side m1,m2,m5,m6,m7 and B side m1,m3,m4,m6,m7
    assert _kinds(G) == {"input": 8, "addition": 10, "product": 7, "output": 4}
    # edges: 2 per addition node in, 1 out; 4 one-term factors feed products directly; 12 terms in c
    assert G.number_of_edges() == 10 * 2 + 10 + 4 + 12
    st = circuit_stats(G)
    assert st.multiplications == 7
    assert st.additions == 18 == strassen.additions_naive
    assert st.depth == 3
    assert st.depth_binary == 4  # a 2-term sum, the product, a 4-term output sum (2 levels)
    assert st.scalings == 0
    assert nx.is_directed_acyclic_graph(G)
    # c11 = m1 + m4 - m5 + m7
    assert {u: d["coef"] for u, _, d in G.in_edges("c11", data=True)} == {"m1": 1, "m4": 1, "m5": -1, "m7": 1}
    assert G.nodes["m6.a"]["label"] == "-a11 + a21"


def test_laderman_circuit_counts(laderman):
    st = circuit_stats(circuit_graph(laderman))
    # from Laderman's formulas: 28 additions on the A side, 28 on the B side, 42 in the outputs
    assert st.multiplications == 23
    assert st.additions == 98 == laderman.additions_naive
    assert st.inputs == 18


def test_index_naming(strassen):
    G = circuit_graph(strassen, naming="index")
    assert "A[0,0]" in G and "B[1,1]" in G and "C[0,1]" in G


def test_coefficients_other_than_one_are_labelled():
    Wa = [list(r) for r in STRASSEN["W_a"]]
    Wa[0] = [2 * x for x in Wa[0]]
    Wc = [[Fraction(x) for x in r] for r in STRASSEN["W_c"]]
    for r in Wc:
        r[0] = r[0] / 2
    s = Scheme((2, 2, 2), Wa, STRASSEN["W_b"], Wc)
    assert s.verify().ring == "Q"
    G = circuit_graph(s)
    assert G.edges["a11", "m1.a"]["label"] == "+2"
    assert G.edges["m1", "c11"]["coef"] == Fraction(1, 2) and G.edges["m1", "c11"]["label"] == "+1/2"
    assert circuit_stats(G).scalings == 4


def _parse_dot(text):
    nodes = dict(re.findall(r'^\s+"([^"]+)" \[label="([^"]*)"', text, flags=re.M))
    edges = re.findall(r'^\s+"([^"]+)" -> "([^"]+)" \[coef="([^"]*)"', text, flags=re.M)
    return nodes, edges


def test_dot_text_parses_back(strassen, laderman):
    for s in (strassen, laderman):
        G = circuit_graph(s)
        text = circuit_to_dot(G)
        assert text.startswith("digraph ") and text.count("{") == text.count("}")
        nodes, edges = _parse_dot(text)
        assert set(nodes) == set(G.nodes)
        H = nx.DiGraph()
        H.add_edges_from((u, v, {"label": lab}) for u, v, lab in edges)
        assert set(H.edges) == set(G.edges)
        assert all(H.edges[e]["label"] == G.edges[e]["label"] for e in G.edges)


def test_dot_lays_out_with_graphviz_if_installed(laderman, tmp_path):
    import shutil
    import subprocess
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    write_circuit(laderman, tmp_path / "g.dot")
    r = subprocess.run(["dot", "-Tsvg", str(tmp_path / "g.dot")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "<svg" in r.stdout, r.stderr
    assert r.stderr.strip() == ""  # no warnings about the text we wrote


def test_dot_with_pydot_if_installed(strassen, tmp_path):
    pytest.importorskip("pydot")
    write_circuit(strassen, tmp_path / "g.dot")
    H = nx.nx_pydot.read_dot(tmp_path / "g.dot")
    assert H.number_of_edges() == circuit_graph(strassen).number_of_edges()


def _boxes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    boxes = []
    for t in fig.axes[0].texts:
        if not t.get_text():
            continue
        patch = t.get_bbox_patch()
        bb = patch.get_window_extent(r) if patch is not None else t.get_window_extent(r)
        boxes.append((t.get_text(), bb))
    return boxes, fig.bbox


@pytest.mark.parametrize("which", ["strassen", "laderman"])
def test_drawing_has_no_overlapping_labels(which, strassen, laderman):
    s = strassen if which == "strassen" else laderman
    s.verify()
    boxes, fig_bb = _boxes(draw_circuit(s))
    assert len(boxes) >= len(circuit_graph(s))  # every node is labelled
    for name, bb in boxes:
        assert bb.x0 >= fig_bb.x0 - 1 and bb.x1 <= fig_bb.x1 + 1, f"{name} leaves the figure"
        assert bb.y0 >= fig_bb.y0 - 1 and bb.y1 <= fig_bb.y1 + 1, f"{name} leaves the figure"
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (n1, b1), (n2, b2) = boxes[i], boxes[j]
            assert not b1.overlaps(b2), f"labels {n1!r} and {n2!r} overlap"


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF"),
                                          (".dot", b"digraph")])
def test_write_circuit_files(tmp_path, strassen, suffix, magic):
    st = write_circuit(strassen, tmp_path / f"g{suffix}")
    assert (tmp_path / f"g{suffix}").read_bytes().startswith(magic)
    assert st.additions == 18


def test_write_circuit_bad_suffix(tmp_path, strassen):
    from algodiscover.errors import FormatError
    with pytest.raises(FormatError, match="expected a file ending in"):
        write_circuit(strassen, tmp_path / "g.jpg")
    with pytest.raises(FormatError, match="does not exist"):
        write_circuit(strassen, tmp_path / "nope" / "g.png")


def test_huge_circuits_are_refused_for_drawing_but_not_for_dot(laderman, tmp_path, monkeypatch):
    from algodiscover.errors import FormatError
    from algodiscover.render import graph
    monkeypatch.setattr(graph, "MAX_DRAWN_COLUMN", 20)  # Laderman has 23 products
    with pytest.raises(FormatError, match="too many to draw"):
        write_circuit(laderman, tmp_path / "l.png")
    assert write_circuit(laderman, tmp_path / "l.dot").multiplications == 23
