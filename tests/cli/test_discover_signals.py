"""Ctrl-C and SIGTERM end a search cleanly and keep everything already proven."""

import os
import signal
import subprocess
import sys
import time

import pytest

from algodiscover import load
from tests.conftest import REPO


@pytest.mark.parametrize("sig,workers", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 2)])
def test_signal_keeps_proven_schemes(tmp_path, sig, workers):
    # workers=2: the signal goes to the whole process group, as Ctrl-C in a terminal does
    out = tmp_path / "found"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", "import sys; from algodiscover.cli import discover_main; sys.exit(discover_main())",
           "--shape", "2x2x2", "--rank", "7", "--seed", "0", "--count", "100000", "--out", f"{out}/", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.is_dir() and any(out.glob("*.json")):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        assert any(out.glob("*.json")), "no scheme proven within 120 s"
        if workers > 1:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    files = sorted(out.glob("*.json"))
    assert files
    for f in files:  # every file written is complete and re-proves
        assert load(f).verification.ok
    assert "c11 = " in stdout
