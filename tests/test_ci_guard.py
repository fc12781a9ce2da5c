"""Under CI a skipped test fails (tests/conftest.py), so a missing package or fixture cannot hide."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("ci,code,needle", [("true", 1, "skipped under CI"), ("false", 0, "1 skipped")])
def test_a_skip_fails_under_ci(tmp_path, ci, code, needle):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_inner.py").write_text(
        "import pytest\n\n"
        "def test_skips():\n    pytest.skip('pdflatex is not installed')\n\n"
        "@pytest.mark.xfail(reason='known')\ndef test_xfails():\n    assert False\n\n"
        "def test_passes():\n    assert True\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), CI=ci)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == code, r.stdout + r.stderr
    assert needle in r.stdout
    assert "1 xfailed" in r.stdout and "1 passed" in r.stdout  # an expected failure is not a skip
    if code:
        assert "pdflatex is not installed" in r.stdout  # the reason is kept
