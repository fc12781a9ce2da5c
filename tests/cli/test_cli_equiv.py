"""``algodiscover equiv A B``: verdicts, exit codes, and a transformation that checks out."""

import json

import numpy as np

from algodiscover import Scheme
from algodiscover.cli import main
from algodiscover.formats import save
from algodiscover.symmetry import Transformation, random_element

from tests.conftest import run_cli


def test_equiv_strassen_winograd(tmp_path, strassen, winograd, capsys):
    a, b = save(strassen, tmp_path / "a.json"), save(winograd, tmp_path / "b.json")
    assert main(["equiv", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("equivalent") and "X = [" in out


def test_equiv_json_transformation_reproduces_b(tmp_path, strassen, capsys):
    rng = np.random.default_rng(3)
    target = random_element(strassen.shape, rng, rational=True, rank=7).apply(strassen)
    a, b = save(strassen, tmp_path / "a.json"), save(target, tmp_path / "b.json")
    assert main(["equiv", str(a), str(b), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    t = obj["transformation"]
    from fractions import Fraction
    mat = lambda rows: np.array([[Fraction(x) for x in r] for r in rows], dtype=object)  # noqa: E731
    g = Transformation(strassen.shape, tuple(t["word"]), mat(t["X"]), mat(t["Y"]), mat(t["Z"]), tuple(t["perm"]),
                       tuple(Fraction(x) for x in t["scale_a"]), tuple(Fraction(x) for x in t["scale_b"]))
    assert g.apply(strassen) == target


def test_equiv_not_equivalent_exit_1(tmp_path, strassen, capsys):
    a = save(strassen, tmp_path / "a.json")
    b = save(Scheme.standard((2, 2, 2)), tmp_path / "b.json")
    c = save(Scheme.standard((2, 2, 3)), tmp_path / "c.json")
    assert main(["equiv", str(a), str(b)]) == 1
    assert main(["equiv", str(a), str(c)]) == 1
    out = capsys.readouterr().out
    assert "ranks differ" in out and "shapes differ" in out


def test_equiv_bad_input_one_line_exit_2(tmp_path, strassen):
    a = save(strassen, tmp_path / "a.json")
    r = run_cli("equiv", str(a), str(tmp_path / "missing.json"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
