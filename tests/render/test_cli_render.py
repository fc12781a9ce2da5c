"""CLI: ``export``, ``render`` and ``discover --plot``; bad input gives one line and exit 2."""

import json
import sys
import types

import pytest

from algodiscover import Scheme, save
from algodiscover.cli import discover_main, main
from algodiscover.search import ENGINES
from tests.conftest import assert_one_line_error, LADERMAN, STRASSEN, run_cli


_one_line_error = assert_one_line_error


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys):
    """Run ``algodiscover ARGS`` in this process (fast); the subprocess tests cover the real entry point."""
    def run(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse errors
            code = e.code
        out = capsys.readouterr()
        return _Result(code, out.out, out.err)
    return run


@pytest.fixture
def strassen_file(tmp_path):
    return str(save(Scheme((2, 2, 2), **STRASSEN), tmp_path / "strassen.json"))


def _strassen_with_c22_m6(tmp_path, coef, name):
    Wc = [list(r) for r in STRASSEN["W_c"]]
    Wc[3][5] = coef
    obj = {"format": "algodiscover.scheme/1", "shape": [2, 2, 2], "rank": 7,
           "W_a": STRASSEN["W_a"], "W_b": STRASSEN["W_b"], "W_c": Wc}
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return str(p)


@pytest.fixture
def invalid_file(tmp_path):
    """Strassen without m6 in c22: fails exact verification over Z and modulo 2."""
    return _strassen_with_c22_m6(tmp_path, 0, "bad.json")


def test_mod2_scheme_is_exported_as_mod2_only(cli, tmp_path):
    """Strassen with -m6 in c22 holds modulo 2 only; the document must say so, never 'every ring'."""
    f = _strassen_with_c22_m6(tmp_path, -1, "z2.json")
    r = cli("export", f)
    assert r.returncode == 0, r.stderr
    assert "valid only modulo 2" in r.stdout and "every ring" not in r.stdout


def test_export_latex_document_end_to_end(strassen_file, tmp_path):
    """Through the real entry point, in a subprocess."""
    r = run_cli("export", strassen_file, "--format", "latex", "--out", str(tmp_path / "s.tex"), "--matrices")
    assert r.returncode == 0, r.stderr
    tex = (tmp_path / "s.tex").read_text()
    assert tex.startswith("\\documentclass{article}") and tex.count("\\begin{bmatrix}") == 3
    assert "wrote" in r.stderr


def test_export_fragment_to_stdout(cli, strassen_file):
    r = cli("export", strassen_file, "--fragment")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("\\begin{align*}") and "\\documentclass" not in r.stdout


def test_export_text_index_naming(cli, strassen_file):
    r = cli("export", strassen_file, "--format", "text", "--naming", "index")
    assert r.returncode == 0, r.stderr
    assert "m1 = (A[0,0] + A[1,1]) * (B[0,0] + B[1,1])" in r.stdout


@pytest.mark.parametrize("suffix,magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("dot", b"digraph")])
def test_render_files_and_report(cli, strassen_file, tmp_path, suffix, magic):
    out = tmp_path / f"g.{suffix}"
    r = cli("render", strassen_file, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(magic)
    assert "7 multiplications, 18 additions" in r.stdout and "depth 3" in r.stdout


def test_render_laderman_report(cli, tmp_path):
    f = save(Scheme((3, 3, 3), **LADERMAN), tmp_path / "l.json")
    r = cli("render", str(f), "--out", str(tmp_path / "l.dot"))
    assert r.returncode == 0, r.stderr
    assert "23 multiplications, 98 additions" in r.stdout


@pytest.mark.parametrize("args,word", [
    (["render", "{missing}", "--out", "{tmp}/g.svg"], "no such file"),
    (["render", "{ok}", "--out", "{tmp}/g.jpg"], "expected a file ending in"),
    (["render", "{ok}", "--out", "{tmp}/nodir/g.png"], "does not exist"),
    (["render", "{ok}", "--out", "{tmp}/g.png", "--dpi", "0"], "dpi"),
    (["export", "{ok}", "--out", "{tmp}/nodir/s.tex"], "does not exist"),
    (["export", "{ok}", "--format", "pdf"], "invalid choice"),
    (["export", "{ok}", "--index", "2"], "out of range"),
    (["render", "{ok}"], "--out"),
])
def test_bad_input(cli, strassen_file, invalid_file, tmp_path, args, word):
    subst = {"missing": str(tmp_path / "missing.json"), "ok": strassen_file, "bad": invalid_file, "tmp": str(tmp_path)}
    line = _one_line_error(cli(*[a.format(**subst) for a in args]))
    assert word in line


@pytest.mark.parametrize("args", [["render", "{bad}", "--out", "{tmp}/g.png"], ["export", "{bad}"]])
def test_invalid_scheme_refused_exit_1(cli, invalid_file, tmp_path, args):
    """Not an algorithm: refused like 'verify' reports it (exit 1), one line naming 'verify'."""
    line = _one_line_error(cli(*[a.format(bad=invalid_file, tmp=str(tmp_path)) for a in args]), code=1)
    assert "fails exact verification" in line and "algodiscover verify" in line


# ---- discover --plot with a stand-in engine registered under the SPN engine's name -------

def _fake_engine(yield_scheme: bool):
    mod = types.ModuleType("fake_spn_for_plot_tests")

    def search(shape, rank, *, seed=None, budget=None, device="cpu", on_progress=None, stop=None,
               curves=None, **options):
        assert curves is not None, "--plot must hand the engine a list"
        for step in range(0, 50, 10):
            curves.append({"step": step, "residual": [1.0 / (step + 1), 2.0 / (step + 1)],
                           "quantized_fraction": [step / 50, step / 60]})
        if yield_scheme:
            s = Scheme((2, 2, 2), **STRASSEN, provenance={"engine": "spn"})
            s.verify()
            yield s

    mod.search = search
    return mod


@pytest.mark.parametrize("found,code", [(True, 0), (False, 1)])
def test_discover_plot_written(monkeypatch, tmp_path, capsys, found, code):
    monkeypatch.setitem(sys.modules, "fake_spn_for_plot_tests", _fake_engine(found))
    monkeypatch.setitem(ENGINES, "spn", "fake_spn_for_plot_tests")
    out = tmp_path / "curve.png"
    rc = discover_main(["--shape", "2x2x2", "--rank", "7", "--plot", str(out), "-q"])
    assert rc == code
    assert out.read_bytes().startswith(b"\x89PNG")
    assert "training curves (5 snapshots)" in capsys.readouterr().err


def test_discover_plot_bad_suffix_before_search(tmp_path):
    line = _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--plot", str(tmp_path / "c.txt")))
    assert "expected a file ending in" in line


def test_render_bad_input_end_to_end(tmp_path):
    line = _one_line_error(run_cli("render", str(tmp_path / "missing.json"), "--out", str(tmp_path / "g.svg")))
    assert "no such file" in line


def test_render_to_a_directory_named_like_a_file(cli, strassen_file, tmp_path):
    (tmp_path / "g.png").mkdir()
    line = _one_line_error(cli("render", strassen_file, "--out", tmp_path / "g.png"))
    assert "cannot write" in line
