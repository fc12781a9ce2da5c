"""The notebooks run headless (kernel python3) on the checkout's code, from an unrelated directory."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("0[12]_*.ipynb"))  # 03 (nn): test_notebook_nn.py


def test_both_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_rediscover_strassen.ipynb", "02_explore.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip outputs before committing"
    assert "ALGODISCOVER_DB" in nb.cells[1].source  # temporary catalogue set in the first code cell


# 02_explore runs a <3,3,3>:25 search on every core (budget 120 s): in the slow selection (CI's second step)
@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem == "02_explore" else p
                                  for p in NOTEBOOKS], ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    if "spn" not in __import__("algodiscover.search", fromlist=["ENGINES"]).ENGINES:
        pytest.skip("the spn engine is not registered")
    # the kernel is a subprocess: it inherits the environment, so it imports this checkout
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run, tmp = tmp_path / "run", tmp_path / "tmp"
    run.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the notebook's temporary catalogue directory lands here, not in /tmp
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=280, kernel_name="python3",
                                     resources={"metadata": {"path": str(run)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"from {REPO / 'algodiscover'}" in text  # the kernel ran this checkout's code
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # circuit + curve / circuit + rank plot
    if path.stem.startswith("01"):
        assert "proven over ZT" in text and "sympy cross-check: True" in text
    assert not list(run.glob("*.sqlite"))  # nothing written where it ran
    assert list(tmp.glob("algodiscover-nb-*"))  # its temporary catalogue directory was made here
