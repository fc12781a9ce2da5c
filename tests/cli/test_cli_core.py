"""CLI behaviour that needs no search: bad input, verify/show contracts, the rank >= mkn shortcut."""

import json

import pytest

from algodiscover import save
from tests.conftest import assert_one_line_error, run_cli


_one_line_error = assert_one_line_error


@pytest.mark.parametrize("shape", ["2x2", "0x2x2", "axbxc", "-2x2x2", "2x2x2x2"])
def test_malformed_shapes(shape):
    line = _one_line_error(run_cli("discover!", "--shape", shape, "--rank", "7"))
    assert "shape" in line


@pytest.mark.parametrize("rank", ["0", "-3", "seven"])
def test_bad_ranks(rank):
    line = _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", rank))
    assert "rank" in line


def test_rank_below_lower_bound():
    line = _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", "6"))
    assert "below the proven lower bound 7" in line and "<2,2,2>" in line
    # shapes are looked up as sorted triples: <3,2,2> has the bound 11 of <2,2,3>
    line = _one_line_error(run_cli("discover", "--shape", "3x2x2", "--rank", "10"))
    assert "lower bound 11" in line


def test_unknown_engine_and_device():
    assert "unknown engine" in _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--engine", "nope"))
    # no GPU visible (also on a machine that has one): --device cuda is bad input, one line
    line = _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", "7", "--device", "cuda",
                                   env={"CUDA_VISIBLE_DEVICES": ""}))
    assert "CUDA" in line


def test_rank_at_least_mkn_returns_standard(tmp_path):
    out = tmp_path / "std.json"
    r = run_cli("discover!", "--shape", "3x2x2", "--rank", "12", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "standard algorithm" in r.stderr
    assert "c11 = m1 + m2" in r.stdout
    d = json.loads(out.read_text())
    assert d["shape"] == [3, 2, 2] and d["rank"] == 12 and d["ring"] == "ZT"


def test_out_into_missing_parent_is_bad_input(tmp_path):
    line = _one_line_error(run_cli("discover!", "--shape", "2x2x2", "--rank", "8", "--out", str(tmp_path / "no" / "x.json")))
    assert "does not exist" in line


def test_verify_json_contract_and_exit_codes(tmp_path, strassen):
    good = save(strassen, tmp_path / "good.json")
    r = run_cli("verify", str(good), "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout.strip()) == {"shape": [2, 2, 2], "rank": 7, "ring": "ZT"}
    r = run_cli("verify", str(good), "--symbolic")
    assert r.returncode == 0 and "ZT" in r.stdout and "sympy" in r.stdout

    d = json.loads(good.read_text())
    d["W_c"][0][4] = 1  # -m5 -> +m5: valid mod 2 only
    z2 = tmp_path / "z2.json"
    z2.write_text(json.dumps(d))
    r = run_cli("verify", str(z2), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["ring"] == "Z2"
    assert "c11" in r.stderr

    d["W_c"][0][4] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    r = run_cli("verify", str(bad), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["ring"] == "invalid"


@pytest.mark.parametrize("content, fragment", [
    ("{", "not valid JSON"),
    ('{"format": "algodiscover.scheme/1"}', "missing required key"),
    (None, "no such file"),
])
def test_verify_unreadable(tmp_path, content, fragment):
    p = tmp_path / "f.json"
    if content is not None:
        p.write_text(content)
    line = _one_line_error(run_cli("verify", str(p)))
    assert fragment in line


def test_show_formats(tmp_path, strassen):
    p = save(strassen, tmp_path / "s.json")
    r = run_cli("show", str(p))
    assert r.returncode == 0
    assert "m1 = (a11 + a22)(b11 + b22)" in r.stdout
    assert "c11 = m1 + m4 - m5 + m7" in r.stdout
    assert "ZT" in r.stdout
    r = run_cli("show", str(p), "--format", "latex")
    assert r.returncode == 0 and "\\begin{align*}" in r.stdout
    r = run_cli("show", str(p), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["rank"] == 7
