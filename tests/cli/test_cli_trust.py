"""Issue 10, user-facing points: writers never overwrite silently, invalid schemes are never shown as algorithms,
suffixes mean what the README says, Z2 wording, rank below the rank asked, --replay, the seed drawn and recorded.

Everything runs in this process with stand-in engines registered in ``search.ENGINES`` (fast); the schemes
are typed from the literature (conftest), never taken from a search's output.
"""

from __future__ import annotations

import json
import sys
import types

import pytest

from algodiscover import Scheme, load, save
from algodiscover.cli import discover_main, main
from algodiscover.core.canonical import canonical_key
from algodiscover.errors import FormatError, ReplayError
from algodiscover.formats import detect_format
from algodiscover.search import ENGINES
from tests.conftest import LADERMAN, STRASSEN, WINOGRAD


class _R:
    def __init__(self, code, out, err):
        self.returncode, self.stdout, self.stderr = code, out, err

    @property
    def lines(self):
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


@pytest.fixture
def cli(capsys):
    def run(*args, entry=main):
        try:
            code = entry([str(a) for a in args])
        except SystemExit as e:
            code = e.code
        o = capsys.readouterr()
        return _R(code, o.out, o.err)
    return run


def one_line(r, code=2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert len(r.lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return r.lines[0]


def _strassen_variant(coef):
    """Strassen with c22's m6 coefficient replaced: 0 fails everywhere, -1 holds modulo 2 only."""
    Wc = [list(r) for r in STRASSEN["W_c"]]
    Wc[3][5] = coef
    return {"format": "algodiscover.scheme/1", "shape": [2, 2, 2], "rank": 7,
            "W_a": STRASSEN["W_a"], "W_b": STRASSEN["W_b"], "W_c": Wc}


@pytest.fixture
def files(tmp_path):
    ok = save(Scheme((2, 2, 2), **STRASSEN), tmp_path / "strassen.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_strassen_variant(0)))
    z2 = tmp_path / "z2.json"
    z2.write_text(json.dumps(_strassen_variant(-1)))
    return types.SimpleNamespace(ok=str(ok), bad=str(bad), z2=str(z2), dir=tmp_path)


def _engine(monkeypatch, schemes=(), replay=None, calls=None, name="spn"):
    """Register a stand-in engine yielding ``schemes`` (verified); records its calls."""
    mod = types.ModuleType(f"fake_engine_{name}")
    calls = calls if calls is not None else []

    def search(shape, rank, *, seed=None, budget=None, device="cpu", on_progress=None, stop=None, **options):
        calls.append({"shape": shape, "rank": rank, "seed": seed, "options": options})
        if on_progress is not None:
            from algodiscover.search import Progress
            on_progress(Progress(engine=name, elapsed=0.5, restarts_done=0))
        for s in schemes:
            s.verify()
            yield s

    mod.search = search
    if replay is not None:
        mod.replay = replay
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setitem(ENGINES, name, mod.__name__)
    return calls


# ---- 1. writers refuse to overwrite, one line naming --force -----------------------------------------------
def test_catalog_export_to_an_existing_file_is_one_line(cli, files, tmp_path):
    from algodiscover.catalog import Catalog
    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        cat.add(load(files.ok))
    line = one_line(cli("catalog", "export", "--db", db, "--out", files.ok))  # was: internal error, exit 3
    assert "is a file" in line and "directory" in line
    out = tmp_path / "exported"
    assert cli("catalog", "export", "--db", db, "--out", out).returncode == 0
    line = one_line(cli("catalog", "export", "--db", db, "--out", out))
    assert "already exist" in line and "--force" in line
    assert cli("catalog", "export", "--db", db, "--out", out, "--force").returncode == 0
    line = one_line(cli("catalog", "export", "--db", db, "--results", files.ok))
    assert "is a file" in line


@pytest.mark.parametrize("cmd", [
    ["export", "{ok}", "--out", "{target}"],
    ["render", "{ok}", "--out", "{target}"],
    ["convert", "{ok}", "{target}"],
])
def test_writers_refuse_to_overwrite(cli, files, cmd):
    suffix = ".svg" if cmd[0] == "render" else (".exp" if cmd[0] == "convert" else ".tex")
    target = files.dir / f"existing{suffix}"
    target.write_text("precious\n")
    args = [a.format(ok=files.ok, target=target) for a in cmd]
    line = one_line(cli(*args))
    assert "already exists" in line and "--force" in line
    assert target.read_text() == "precious\n"
    r = cli(*args, "--force")
    assert r.returncode == 0, r.stderr
    assert target.read_text() != "precious\n"


def test_discover_out_file_exists_refused_before_search(cli, monkeypatch, files):
    calls = _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN)])
    line = one_line(cli("--shape", "2x2x2", "--rank", "7", "--out", files.ok, "-q", "--no-catalog",
                        entry=discover_main))
    assert "--force" in line and not calls


# ---- 2. --count > 1 needs DIR/; the printed scheme is the written one ---------------------------------------
def test_count_above_one_with_a_file_is_refused_before_any_search(cli, monkeypatch, tmp_path):
    calls = _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN), Scheme((2, 2, 2), **WINOGRAD)])
    line = one_line(cli("--shape", "2x2x2", "--rank", "7", "--count", "5", "--out", tmp_path / "many.json", "-q",
                        "--no-catalog", entry=discover_main))
    assert "DIR/" in line or "/ (one file per" in line
    assert "many/" in line and not calls and not (tmp_path / "many.json").exists()


def test_count_with_a_directory_writes_each_and_printed_equals_written(cli, monkeypatch, tmp_path):
    # Winograd is denser than Strassen's... no: both have 7 products; the file must be the first one printed
    _engine(monkeypatch, [Scheme((2, 2, 2), **WINOGRAD), Scheme((2, 2, 2), **STRASSEN)])
    r = cli("--shape", "2x2x2", "--rank", "7", "--out", tmp_path / "one.json", "-q", "--no-catalog",
            entry=discover_main)
    assert r.returncode == 0, r.stderr
    written = load(tmp_path / "one.json")
    assert canonical_key(written) == canonical_key(Scheme((2, 2, 2), **WINOGRAD))
    r = cli("--shape", "2x2x2", "--rank", "7", "--count", "2", "--out", f"{tmp_path / 'd'}/", "-q", "--no-catalog",
            entry=discover_main)
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "d").glob("*.json"))) == 2


# ---- 3. + 5. invalid schemes are never shown as algorithms; Z2 is said so -------------------------------------
def test_show_invalid_is_marked_and_exits_1(cli, files):
    r = cli("show", files.bad)
    assert r.returncode == 1
    assert r.stdout.splitlines()[0].startswith("# NOT A VALID ALGORITHM: ring invalid (")
    assert "Brent equations fail" in r.stdout.splitlines()[0]


def test_show_latex_of_invalid_is_refused(cli, files):
    r = cli("show", files.bad, "--format", "latex")
    line = one_line(r, code=1)
    assert "verify" in line and "fails exact verification" in line and r.stdout == ""


def test_show_json_of_invalid_keeps_the_ring_and_warns(cli, files):
    r = cli("show", files.bad, "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["ring"] == "invalid"
    assert "NOT A VALID ALGORITHM" in r.stderr


def test_show_z2_is_marked_mod2_only(cli, files):
    r = cli("show", files.z2)
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].startswith("# VALID MOD 2 ONLY")
    r = cli("show", files.z2, "--format", "latex")
    assert r.returncode == 0 and "VALID MOD 2 ONLY" in r.stdout


@pytest.mark.parametrize("cmd", ["export", "render"])
def test_export_and_render_of_invalid_exit_1_naming_verify(cli, files, cmd):
    args = [cmd, files.bad] + (["--out", files.dir / "g.svg"] if cmd == "render" else [])
    line = one_line(cli(*args), code=1)
    assert f"refusing to {cmd}" in line and "verify" in line
    assert "refusing to render" not in line or cmd == "render"  # export used to say "refusing to render"


def test_z2_run_never_says_proven_alone(cli, monkeypatch):
    z2 = load_variant(-1)
    assert z2.verify().ring == "Z2"
    _engine(monkeypatch, [z2], name="flip")
    r = cli("--engine", "flip", "--ring", "Z2", "--shape", "2x2x2", "--rank", "7", "-q", "--no-catalog",
            entry=discover_main)
    assert r.returncode == 0, r.stderr
    assert "valid mod 2 only (not an integer algorithm)" in r.stderr
    assert "proven 1" not in r.stderr
    assert "VALID MOD 2 ONLY" in r.stdout


def load_variant(coef) -> Scheme:
    d = _strassen_variant(coef)
    return Scheme((2, 2, 2), d["W_a"], d["W_b"], d["W_c"])


# ---- 4. output suffixes ------------------------------------------------------------------------------------
def test_convert_txt_writes_benson_ballard(cli, files):
    out = files.dir / "s.txt"
    r = cli("convert", files.ok, out)
    assert r.returncode == 0, r.stderr
    assert detect_format(out.read_bytes()) == "bb"  # was JSON
    assert load(out) == load(files.ok)


def test_convert_unknown_suffix_is_one_line(cli, files):
    line = one_line(cli("convert", files.ok, files.dir / "out.xyz"))
    assert ".txt" in line and "--to" in line and ".exp" in line
    assert not (files.dir / "out.xyz").exists()
    assert cli("convert", files.ok, files.dir / "out.xyz", "--to", "exp").returncode == 0


def test_save_unknown_suffix_raises_format_error(tmp_path, strassen):
    with pytest.raises(FormatError, match="--to"):
        save(strassen, tmp_path / "s.xyz")
    with pytest.raises(FormatError, match="no suffix"):
        save(strassen, tmp_path / "s")
    assert not any(tmp_path.iterdir())
    assert detect_format(save(strassen, tmp_path / "s.txt").read_bytes()) == "bb"
    save(strassen, tmp_path / "s", "bb")


def test_discover_unknown_out_suffix_before_search(cli, monkeypatch, tmp_path):
    calls = _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN)])
    line = one_line(cli("--shape", "2x2x2", "--rank", "7", "--out", tmp_path / "s.xyz", "-q", "--no-catalog",
                        entry=discover_main))
    assert "--to" in line or "suffix" in line
    assert not calls


# ---- 19. a scheme below the rank asked is said so -------------------------------------------------------------
def test_rank_below_the_rank_asked_is_said(cli, monkeypatch):
    _engine(monkeypatch, [Scheme((3, 3, 3), **LADERMAN)])
    r = cli("--shape", "3x3x3", "--rank", "24", "-q", "--no-catalog", entry=discover_main)
    assert r.returncode == 0, r.stderr
    assert "rank 23 < 24 asked" in r.stderr


# ---- 17. the seed is drawn, passed and recorded; --replay -------------------------------------------------------
def test_seed_drawn_passed_printed_and_recorded(cli, monkeypatch, tmp_path):
    calls = _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN, provenance={"engine": "spn"})])
    r = cli("--shape", "2x2x2", "--rank", "7", "-q", "--no-catalog", "--out", tmp_path / "s.json",
            entry=discover_main)
    assert r.returncode == 0, r.stderr
    seed = calls[0]["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**31
    assert f"seed {seed}" in r.stderr
    prov = load(tmp_path / "s.json").provenance
    assert prov["seed"] == seed and prov["engine"] == "spn"
    assert prov["command"].startswith("discover --shape 2x2x2 --rank 7")


def _prov_scheme(d, engine="fakeeng", **extra):
    from algodiscover import provenance
    rec = provenance.result_record(provenance.search_record(engine, options={"x": 1}, seed=5, workers=1),
                                   completed_by=["flip"], seconds=1.0, **extra)
    return Scheme((2, 2, 2), **d, provenance=rec)


@pytest.mark.parametrize("replayed,code", [("strassen", 0), ("winograd", 1), ("nothing", 1)])
def test_replay_compares_canonical_keys(cli, monkeypatch, tmp_path, replayed, code):
    seen = []

    def replay(prov):
        seen.append(prov)
        if replayed == "strassen":  # the same algorithm, products in another order
            yield Scheme((2, 2, 2), [r for r in reversed(STRASSEN["W_a"])], list(reversed(STRASSEN["W_b"])),
                         [list(reversed(r)) for r in STRASSEN["W_c"]])
        elif replayed == "winograd":
            yield Scheme((2, 2, 2), **WINOGRAD)

    _engine(monkeypatch, replay=replay, name="fakeeng")
    f = save(_prov_scheme(STRASSEN), tmp_path / "s.json")
    r = cli("--replay", f, entry=discover_main)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert seen and seen[0]["seed"] == 5 and seen[0]["options"] == {"x": 1}
    if code == 0:
        assert "the same scheme" in r.stdout


def test_replay_refusals_are_one_line_exit_2(cli, monkeypatch, tmp_path):
    old = save(Scheme((2, 2, 2), **STRASSEN, provenance={"engine": "spn", "seed": 3}), tmp_path / "old.json")
    assert "old provenance" in one_line(cli("--replay", old, entry=discover_main))
    _engine(monkeypatch, name="fakeeng")  # no replay()
    f = save(_prov_scheme(STRASSEN), tmp_path / "s.json")
    assert "cannot replay a search" in one_line(cli("--replay", f, entry=discover_main))

    def refuse(prov):
        raise ReplayError("a GPU run")
        yield  # pragma: no cover

    _engine(monkeypatch, replay=refuse, name="fakeeng")
    assert "a GPU run" in one_line(cli("--replay", f, entry=discover_main))
    g = save(_prov_scheme(STRASSEN, engine="nosuchengine"), tmp_path / "g.json")
    assert "unknown engine" in one_line(cli("--replay", g, entry=discover_main))
    assert "--shape and --rank" in one_line(cli("--rank", "7", entry=discover_main))


def test_replay_standard_algorithm(cli, tmp_path):
    out = tmp_path / "std.json"
    r = cli("--shape", "2x2x3", "--rank", "12", "--out", out, "-q", "--no-catalog", entry=discover_main)
    assert r.returncode == 0, r.stderr
    prov = load(out).provenance
    assert prov["schema"] == "algodiscover.provenance/2" and prov["engine"] == "standard"
    r = cli("--replay", out, entry=discover_main)
    assert r.returncode == 0, r.stderr


# ---- 8. progress display -------------------------------------------------------------------------------------
def test_progress_fields_never_inf_and_show_budget_left():
    from algodiscover.cli.output import progress_text
    from algodiscover.search import Budget, Progress
    t = progress_text(Progress(engine="spn", elapsed=3.0, restarts_done=0), Budget(time_limit=10, restarts=100))
    assert "best residual —" in t and "time left 7.0 s" in t and "restarts left 100" in t and "inf" not in t
    t = progress_text(Progress(engine="spn", elapsed=2.0, restarts_done=8, best_residual=float("inf")), Budget())
    assert "best residual —" in t and "budget no limit" in t and "rate 4 restarts/s" in t
    t = progress_text(Progress(engine="flip", unit="walks", restarts_done=2, best_rank=23, elapsed=1.0,
                               extra={"pool": 4, "unlifted": 1}), Budget(restarts=5))
    assert "walks 2" in t and "walks left 3" in t and "best rank 23" in t
    assert "pool" not in t and "unlifted" not in t
    assert "saved restart points 4" in t and "mod-2 schemes not lifted to Z 1" in t


class _Tty:
    """A stand-in terminal for stderr (the display draws only on a terminal)."""

    def __init__(self, tty):
        self.tty, self.parts = tty, []

    def write(self, s):
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return self.tty

    @property
    def text(self):
        return "".join(self.parts)


@pytest.mark.parametrize("tty", [True, False])
def test_progress_only_on_a_terminal(monkeypatch, capsys, tty):
    _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN)])
    err = _Tty(tty)
    monkeypatch.setattr(sys, "stderr", err)
    assert discover_main(["--shape", "2x2x2", "--rank", "7", "--no-catalog", "--time-limit", "30"]) == 0
    text = err.text
    assert ("elapsed 0.5 s" in text and "time left 29.5 s" in text and "best residual —" in text) == tty
    assert ("\x1b[" in text) == tty  # nothing drawn when piped


# ---- 9. --help shows the defaults and the strategies, without importing torch ----------------------------------
def test_help_shows_defaults_and_strategies_without_torch():
    import subprocess
    from tests.conftest import REPO
    code = ("import sys, io, contextlib\nfrom algodiscover.cli import discover_main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    try: discover_main(['--help'])\n    except SystemExit: pass\n"
            "print(buf.getvalue()); print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                       env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    out = r.stdout
    from algodiscover.search.spn_strategies import STRATEGIES
    for name in STRATEGIES:
        assert name in out
    assert "freeze_tol" in out and "repair" in out
    assert "--seed: random" in out and "--time-limit: none" in out and "--count: 1" in out
    assert out.strip().endswith("NO-TORCH")


def test_replay_literature_scheme(cli, tmp_path):
    from algodiscover import examples
    f = save(examples.laderman(), tmp_path / "laderman.json")
    assert load(f).provenance["start"]["published"] is True
    r = cli("--replay", f, entry=discover_main)
    assert r.returncode == 0, r.stderr
    g = save(Scheme((3, 3, 3), **LADERMAN, provenance={**examples.laderman().provenance, "source": "nobody 1900"}),
             tmp_path / "other.json")
    assert "not one of algodiscover.examples" in one_line(cli("--replay", g, entry=discover_main))


def test_out_dir_keeps_files_already_there(cli, monkeypatch, tmp_path):
    _engine(monkeypatch, [Scheme((2, 2, 2), **STRASSEN)])
    d = f"{tmp_path / 'd'}/"
    assert cli("--shape", "2x2x2", "--rank", "7", "--out", d, "-q", "--no-catalog", entry=discover_main).returncode == 0
    (f,) = (tmp_path / "d").glob("*.json")
    before = f.read_text()
    r = cli("--shape", "2x2x2", "--rank", "7", "--out", d, "-q", "--no-catalog", "--seed", "9", entry=discover_main)
    assert r.returncode == 0 and "1 already there, kept" in r.stderr
    assert f.read_text() == before


def test_z2_progress_never_says_proven(monkeypatch):
    from algodiscover.cli.output import progress_text
    from algodiscover.search import Progress
    assert "proven" in progress_text(Progress(engine="flip"))
    z2 = load_variant(-1)
    _engine(monkeypatch, [z2], name="flip")
    err = _Tty(True)
    monkeypatch.setattr(sys, "stderr", err)
    assert discover_main(["--engine", "flip", "--ring", "Z2", "--shape", "2x2x2", "--rank", "7", "--no-catalog"]) == 0
    assert "found (valid mod 2 only) 0" in err.text and "proven 0" not in err.text


def test_export_text_of_z2_is_marked(cli, files):
    r = cli("export", files.z2, "--format", "text")
    assert r.returncode == 0 and r.stdout.startswith("# VALID MOD 2 ONLY")


def test_progress_on_a_real_pseudo_terminal(tmp_path):
    """stderr on a pty: the rich display is drawn (the piped case: test_progress_only_on_a_terminal)."""
    import os
    import pty
    import subprocess
    from tests.conftest import REPO
    code = (
        "import sys, time, types\n"
        "from algodiscover import Scheme\n"
        "from algodiscover.search import ENGINES, Progress\n"
        "from algodiscover.cli import discover_main\n"
        "from tests.conftest import STRASSEN\n"
        "mod = types.ModuleType('pty_fake_engine')\n"
        "def search(shape, rank, *, seed=None, budget=None, device='cpu', on_progress=None, stop=None, **kw):\n"
        "    on_progress(Progress(engine='spn', elapsed=1.5, restarts_done=3, best_residual=0.25))\n"
        "    s = Scheme((2, 2, 2), **STRASSEN); s.verify(); yield s\n"
        "mod.search = search\n"
        "sys.modules['pty_fake_engine'] = mod; ENGINES['spn'] = 'pty_fake_engine'\n"
        "sys.exit(discover_main(['--shape', '2x2x2', '--rank', '7', '--no-catalog', '--restarts', '10']))\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200")
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=slave, cwd=REPO, env=env,
                           timeout=60)
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    err = b"".join(chunks).decode("utf-8", "replace")
    assert r.returncode == 0, err
    assert "restarts left 7" in err and "best residual 0.25" in err and "\x1b[" in err
