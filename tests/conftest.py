"""Shared fixtures: schemes typed from the literature, a temporary catalogue, the shared data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from algodiscover import Scheme

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # small public files of our own: see fixtures/README.md


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI (``$CI`` set, as CI does) a skipped test is a failure: every test must run there, so a
    missing system package or fixture cannot hide behind a skip.  Deselection (``-m``) is not a skip."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail") and _ci():
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3 else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"skipped under CI (CI={os.environ.get('CI')!r}): {reason} -- install what it needs in .ci/run"


# The numba kernels' cold compile is about a minute of one core.  Left to the tests, the two xdist workers and
# the processes they start (CLI runs, a LocalCluster's workers) compile the same kernels at once, three or
# four processes on two cores (a clean clone: 61 s in one fixture, 57 s in the first cluster test).  So the
# xdist controller first compiles them once, in two processes of about equal cost (tests/prewarm_kernels.py),
# into numba's on-disk cache, which every later process loads in well under a second.
def pytest_configure(config):
    if hasattr(config, "workerinput") or os.environ.get("ALGODISCOVER_NO_PREWARM"):
        return  # an xdist worker, or switched off
    n = config.getoption("numprocesses", None) if config.pluginmanager.hasplugin("xdist") else None
    if n in (None, 0, 1, "0", "1"):
        return  # one test process compiles each kernel once anyway
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = str(Path(__file__).resolve().parent / "prewarm_kernels.py")
    procs = [subprocess.Popen([sys.executable, script, g], env=env, cwd=str(REPO), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for g in ("a", "b")]
    for p in procs:  # a failure here only means the tests compile for themselves (and fail there if broken)
        try:
            p.wait(timeout=900)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture(scope="module")
def flip_kernels():
    """Compile the flip engine's numba kernels (GF(2), flip kernels, GF(3)) before a module's tests start a
    Budget clock: Budget(time_limit=...) counts from its creation, and a cold compile (over a minute on a
    loaded CI machine) would otherwise eat the time a test gives the walk.  Cost-neutral: the first search
    would compile them anyway; later modules load numba's cache in well under a second."""
    from algodiscover.search import flipkernel, gf2, gf3, gf3kernel
    gf2.warm_up()
    gf3.warm_up()
    gf3kernel.warm_up()
    flipkernel.warm_up()


@pytest.fixture(scope="module")
def gf3_kernels():
    """As :func:`flip_kernels`, for modules that run the GF(3) walk only."""
    from algodiscover.search import gf3, gf3kernel
    gf3.warm_up()
    gf3kernel.warm_up()


def walker_state_without_clock(state: dict) -> dict:
    """A flip walker state without its clock readings (seconds walked, seconds to each level)."""
    st = {k: v for k, v in state.items() if k != "seconds"}
    st["levels"] = {k: {a: b for a, b in v.items() if a != "seconds"} for k, v in state["levels"].items()}
    return st


# Strassen 1969, products m1..m7 as in the paper (A, B, C row-major 2x2):
#   m1=(a11+a22)(b11+b22) m2=(a21+a22)b11 m3=a11(b12-b22) m4=a22(b21-b11)
#   m5=(a11+a12)b22 m6=(a21-a11)(b11+b12) m7=(a12-a22)(b21+b22)
#   c11=m1+m4-m5+m7 c12=m3+m5 c21=m2+m4 c22=m1-m2+m3+m6
STRASSEN = dict(
    W_a=[[1, 0, 0, 1], [0, 0, 1, 1], [1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 0, 0], [-1, 0, 1, 0], [0, 1, 0, -1]],
    W_b=[[1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, -1], [-1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]],
    W_c=[[1, 0, 0, 1, -1, 0, 1], [0, 0, 1, 0, 1, 0, 0], [0, 1, 0, 1, 0, 0, 0], [1, -1, 1, 0, 0, 1, 0]],
)

# Winograd's variant (1971), as usually written (e.g. Knuth TAOCP vol. 2, 4.6.4):
#   s1=a21+a22 s2=s1-a11 s3=a11-a21 s4=a12-s2 ; t1=b12-b11 t2=b22-t1 t3=b22-b12 t4=t2-b21
#   m1=a11 b11, m2=a12 b21, m3=s4 b22, m4=a22 t4, m5=s1 t1, m6=s2 t2, m7=s3 t3
#   c11=m1+m2, c12=m1+m6+m5+m3, c21=m1+m6+m7-m4, c22=m1+m6+m7+m5
# expanded: s2=-a11+a21+a22, s4=a11+a12-a21-a22, t2=b11-b12+b22, t4=b11-b12-b21+b22
WINOGRAD = dict(
    W_a=[[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, -1, -1], [0, 0, 0, 1], [0, 0, 1, 1], [-1, 0, 1, 1], [1, 0, -1, 0]],
    W_b=[[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, -1, -1, 1], [-1, 1, 0, 0], [1, -1, 0, 1], [0, -1, 0, 1]],
    W_c=[[1, 1, 0, 0, 0, 0, 0], [1, 0, 1, 0, 1, 1, 0], [1, 0, 0, -1, 0, 1, 1], [1, 0, 0, 0, 1, 1, 1]],
)


@pytest.fixture
def strassen() -> Scheme:
    return Scheme((2, 2, 2), **STRASSEN)


@pytest.fixture
def winograd() -> Scheme:
    return Scheme((2, 2, 2), **WINOGRAD)


@pytest.fixture
def known_schemes() -> Path:
    """tests/fixtures: public scheme files of our own (alphatensor/...), present in every clone."""
    return FIXTURES


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the checkout (or $ALGODISCOVER_SHARED); tests using it skip when absent, which
    fails under CI: use ``known_schemes`` (tests/fixtures) instead."""
    env = os.environ.get("ALGODISCOVER_SHARED")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared"]:
        if cand.is_dir():
            return cand
    pytest.skip("../shared is not present")


@pytest.fixture(autouse=True)
def _isolated_catalog(tmp_path, monkeypatch):
    """Tests never touch the user's catalogue, nor write crash logs into the user's state folder."""
    monkeypatch.setenv("ALGODISCOVER_DB", str(tmp_path / "catalog.sqlite"))
    monkeypatch.setenv("ALGODISCOVER_LOG_DIR", str(tmp_path / "logs"))


def run_cli(*args, input=None, timeout=300, env=None):
    """Run ``python -m algodiscover ARGS`` (or ``discover`` when the first arg is 'discover!') in a subprocess."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    if args and args[0] == "discover!":
        cmd = [sys.executable, "-c", "import sys; from algodiscover.cli import discover_main; sys.exit(discover_main())",
               *args[1:]]
    else:
        cmd = [sys.executable, "-m", "algodiscover", *args]
    return subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=timeout, env=e)

class CliResult:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli_here(*args, env=None):
    """``algodiscover ARGS`` in this process (a subprocess costs about a second of start-up per call);
    the same ``returncode``/``stdout``/``stderr`` as :func:`run_cli`.  Keep one subprocess call per
    command in a test file for the real end-to-end path."""
    import contextlib
    import io
    from algodiscover.cli import main
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse
                code = e.code
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(code, out.getvalue(), err.getvalue())



def _lin(expr: str, letter: str, rows: int, cols: int) -> list[int]:
    """'a11+a12-a21' -> coefficient row over the row-major entries of a rows x cols matrix."""
    import re
    out = [0] * (rows * cols)
    for sign, i, j in re.findall(rf"([+-]?){letter}(\d)(\d)", expr.replace(" ", "")):
        out[(int(i) - 1) * cols + int(j) - 1] += -1 if sign == "-" else 1
    return out


# Laderman 1976 (Bull. AMS 82(1), 126-128), typed from the paper.
_LADERMAN_PRODUCTS = [
    ("a11+a12+a13-a21-a22-a32-a33", "b22"),
    ("a11-a21", "-b12+b22"),
    ("a22", "-b11+b12+b21-b22-b23-b31+b33"),
    ("-a11+a21+a22", "b11-b12+b22"),
    ("a21+a22", "-b11+b12"),
    ("a11", "b11"),
    ("-a11+a31+a32", "b11-b13+b23"),
    ("-a11+a31", "b13-b23"),
    ("a31+a32", "-b11+b13"),
    ("a11+a12+a13-a22-a23-a31-a32", "b23"),
    ("a32", "-b11+b13+b21-b22-b23-b31+b32"),
    ("-a13+a32+a33", "b22+b31-b32"),
    ("a13-a33", "b22-b32"),
    ("a13", "b31"),
    ("a32+a33", "-b31+b32"),
    ("-a13+a22+a23", "b23+b31-b33"),
    ("a13-a23", "b23-b33"),
    ("a22+a23", "-b31+b33"),
    ("a12", "b21"),
    ("a23", "b32"),
    ("a21", "b13"),
    ("a31", "b12"),
    ("a33", "b33"),
]
_LADERMAN_OUTPUTS = [
    [6, 14, 19], [1, 4, 5, 6, 12, 14, 15], [6, 7, 9, 10, 14, 16, 18],
    [2, 3, 4, 6, 14, 16, 17], [2, 4, 5, 6, 20], [14, 16, 17, 18, 21],
    [6, 7, 8, 11, 12, 13, 14], [12, 13, 14, 15, 22], [6, 7, 8, 9, 23],
]
LADERMAN = dict(
    W_a=[_lin(a, "a", 3, 3) for a, _ in _LADERMAN_PRODUCTS],
    W_b=[_lin(b, "b", 3, 3) for _, b in _LADERMAN_PRODUCTS],
    W_c=[[1 if t + 1 in used else 0 for t in range(23)] for used in _LADERMAN_OUTPUTS],
)


@pytest.fixture
def laderman() -> Scheme:
    return Scheme((3, 3, 3), **LADERMAN)


def assert_one_line_error(r, code=2):
    """A CLI result that failed with exactly one stderr line and no traceback; returns that line."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]
