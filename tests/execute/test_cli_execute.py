"""The CLI of issue 13 (optimize, codegen, bench, tune) and the catalogue column additions_shared."""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from algodiscover import load, save
from tests.conftest import REPO, run_cli_here


run_cli = run_cli_here  # in-process: a subprocess per call costs seconds of start-up here


def assert_one_line_error(r, code=2):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_optimize_results_2x2x2_to_15_and_reload(tmp_path):
    out = tmp_path / "opt.json"
    r = run_cli("optimize", str(REPO / "results" / "2x2x2-r7.json"), "--out", str(out), "--seconds", "0", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "additions_shared 15" in r.stdout
    d = json.loads(out.read_text())
    assert d["metrics"]["additions_shared"] == 15 and set(d["programs"]) == {"a", "b", "c"}
    s = load(out)  # re-verified and programs re-checked
    assert s.additions_shared == 15 and s.verify().ring == "ZT"
    r = run_cli("show", str(out), "--format", "json")
    assert json.loads(r.stdout)["metrics"]["additions_shared"] == 15
    # the executor runs the attached programs
    A = np.random.default_rng(0).random((20, 20))
    assert np.abs(s.compile(levels=2, cutoff=1)(A, A) - A @ A).max() < 1e-12


def test_bad_input_is_one_line(tmp_path, strassen):
    assert_one_line_error(run_cli("optimize", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o.json")))
    z2 = tmp_path / "z2.json"
    from algodiscover import Scheme
    save(Scheme((2, 2, 2), np.abs(strassen.W_a), np.abs(strassen.W_b), np.abs(strassen.W_c)), z2)
    for args in (("optimize", str(z2), "--out", str(tmp_path / "o.json")),
                 ("codegen", str(z2), "--lang", "c", "--out", str(tmp_path / "o.c")),
                 ("bench", str(REPO / "results" / "2x2x2-r7.json"), "--sizes", "12x"),
                 ("bench", str(REPO / "results" / "2x2x2-r7.json"), "--threads", "0")):
        line = assert_one_line_error(run_cli(*args))
        assert "error" in line


def test_codegen_and_bench_json_and_tune(tmp_path):
    src = REPO / "results" / "2x2x2-r7.json"
    r = run_cli("codegen", str(src), "--lang", "python", "--out", str(tmp_path / "g.py"))
    assert r.returncode == 0, r.stderr and (tmp_path / "g.py").exists()
    r = run_cli("bench", str(src), "--sizes", "64,33x17x40", "--levels", "2", "--cutoff", "1", "--repeats", "2",
                "--threads", "1", "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["size"] for x in rows] == [64, [33, 17, 40]]
    for x in rows:
        assert {"size", "dtype", "backend", "threads", "seconds", "blas_seconds", "ratio", "max_rel_error"} <= set(x)
        assert x["threads"] == 1 and x["max_rel_error"] < 1e-10
        assert abs(x["ratio"] - x["blas_seconds"] / x["seconds"]) < 1e-9
    cache = tmp_path / "cache"
    r = run_cli("tune", "--sizes", "64", "--max-levels", "2", "--repeats", "1", env={"ALGODISCOVER_CACHE": str(cache)})
    assert r.returncode == 0, r.stderr
    data = json.loads((cache / "tune.json").read_text())
    (key, entry), = data.items()
    assert key.startswith("numpy/float64/") and entry["cutoff"] >= 1


def test_tuned_cutoff_is_used_when_cached(tmp_path, monkeypatch, strassen):
    from algodiscover.execute.tune import key_for, store
    monkeypatch.setenv("ALGODISCOVER_CACHE", str(tmp_path))
    f = strassen.compile()
    store(key_for(f, np.dtype("float64")), {"cutoff": 7})
    assert f.settings(np.dtype("float64"))[1] == 7
    assert f.settings(np.dtype("float32"))[1] != 7   # another dtype: not tuned -> the default
    A = np.random.default_rng(0).random((30, 30))
    assert np.abs(f(A, A) - A @ A).max() < 1e-12 and f._ws   # blocks of 15 >= 7: it recursed


def test_catalogue_column_and_migration(tmp_path, strassen, winograd):
    from algodiscover.catalog import Catalog
    db = tmp_path / "c.sqlite"
    with Catalog(db) as c:
        c.add(strassen)
        c.add(winograd)
        got = {e.additions_shared for e in c.entries()}
    assert got == {18, 15}
    # make it a version-1 catalogue: no column, user_version 1
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE schemes DROP COLUMN additions_shared")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with Catalog(db, readonly=True) as c:   # read-only: not migrated, the new column reads None
        assert {e.additions_shared for e in c.entries()} == {None}
    with Catalog(db) as c:                  # opened for writing: migrated in place
        assert sorted(e.additions_shared for e in c.entries()) == [15, 18]
        assert c.get(c.entries()[0].id).as_dict()["additions_shared"] in (15, 18)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    con.close()


def test_optimize_and_codegen_never_replace_a_file_silently(tmp_path):
    src = str(REPO / "results" / "2x2x2-r7.json")
    for cmd, name in ((("optimize", src, "--seconds", "0", "--quiet"), "o.json"),
                      (("codegen", src, "--lang", "python"), "g.py")):
        out = tmp_path / name
        out.write_text("keep me")
        line = assert_one_line_error(run_cli(*cmd, "--out", str(out)))
        assert "--force" in line and out.read_text() == "keep me"
        r = run_cli(*cmd, "--out", str(out), "--force")
        assert r.returncode == 0, r.stderr
        assert out.read_text() != "keep me"
