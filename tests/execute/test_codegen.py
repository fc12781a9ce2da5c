"""Generated code runs without algodiscover: numpy module and C with cblas_dgemm (compiled with gcc)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from algodiscover.execute.codegen import c_source, python_source
from algodiscover.symmetry import permute_and_scale


def _load(path):
    spec = importlib.util.spec_from_file_location("gen_mod", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_python_module_is_standalone_and_correct(tmp_path, laderman, strassen):
    rng = np.random.default_rng(0)
    for s in (laderman, strassen):
        src = python_source(s)
        assert "algodiscover" not in src.replace("algodiscover codegen", "")
        path = tmp_path / f"gen{s.rank}.py"
        path.write_text(src)
        # run in a fresh interpreter where algodiscover cannot be imported
        code = (f"import sys; sys.modules['algodiscover'] = None; import importlib.util as u; "
                f"sp = u.spec_from_file_location('g', {str(path)!r}); m = u.module_from_spec(sp); "
                f"sp.loader.exec_module(m); import numpy as np; r = np.random.default_rng(1); "
                f"A = r.random((37, 29)); B = r.random((29, 41)); C = m.matmul(A, B, levels=2, cutoff=1); "
                f"assert np.abs(C - A @ B).max() < 1e-10 * np.abs(A @ B).max(); "
                f"Ai = r.integers(-2**62, 2**62, (9, 9)); assert (m.matmul(Ai, Ai, levels=2, cutoff=1) == Ai @ Ai).all()")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr


def test_python_module_q_scheme_refuses_integers(tmp_path, strassen):
    from fractions import Fraction
    q = permute_and_scale(strassen, range(7), [Fraction(2)] + [1] * 6, [1] * 7)
    path = tmp_path / "genq.py"
    path.write_text(python_source(q))
    m = _load(path)
    rng = np.random.default_rng(2)
    A, B = rng.random((16, 16)), rng.random((16, 16))
    assert np.abs(m.matmul(A, B, levels=2, cutoff=1) - A @ B).max() < 1e-12
    with pytest.raises(ValueError, match="Q"):
        m.matmul(np.ones((4, 4), dtype=int), np.ones((4, 4), dtype=int))


def _blas_flag():
    """The BLAS library gcc can link here (Debian's libopenblas-dev provides -lopenblas and cblas.h)."""
    for flag in ("-lopenblas", "-lcblas", "-lblas"):
        r = subprocess.run(["gcc", "-x", "c", "-", "-o", "/dev/null", flag],
                           input="#include <cblas.h>\nint main(void){double a=1,b=1,c=0;"
                                 "cblas_dgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1.0,&a,1,&b,1,0.0,&c,1);"
                                 "return c!=1.0;}\n", capture_output=True, text=True)
        if r.returncode == 0:
            return flag
    raise AssertionError("no cblas to link: install gcc and libopenblas-dev (see .ci/run)")


def test_c_file_compiles_and_matches_numpy(tmp_path, laderman, strassen):
    assert shutil.which("gcc"), "gcc is needed (see .ci/run: apt-get install gcc libopenblas-dev)"
    flag = _blas_flag()
    rng = np.random.default_rng(3)
    for s in (strassen, laderman):
        c = tmp_path / f"s{s.rank}.c"
        c.write_text(c_source(s))
        exe = tmp_path / f"s{s.rank}"
        r = subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-DALGODISCOVER_MAIN", str(c), "-o", str(exe), flag],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        for (p, q, n, levels) in ((37, 41, 29, 3), (64, 64, 64, 2), (5, 3, 2, 1)):
            A, B = rng.random((p, q)), rng.random((q, n))
            A.tofile(tmp_path / "A.bin")
            B.tofile(tmp_path / "B.bin")
            r = subprocess.run([str(exe), str(p), str(q), str(n), str(levels), "1", str(tmp_path / "A.bin"),
                                str(tmp_path / "B.bin"), str(tmp_path / "C.bin")], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            C = np.fromfile(tmp_path / "C.bin").reshape(p, n)
            assert np.abs(C - A @ B).max() < 1e-10 * np.abs(A @ B).max()
