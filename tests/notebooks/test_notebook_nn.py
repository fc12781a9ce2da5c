"""Notebook 03 (SPN layers for networks) runs headless with small settings on the checkout's code."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

REPO = Path(__file__).resolve().parents[2]
PATH = REPO / "notebooks" / "03_strassennets_layers.ipynb"


def test_committed_without_outputs():
    nb = nbformat.read(PATH, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip outputs before committing"
    assert "ALGODISCOVER_DB" in nb.cells[1].source


def test_notebook_executes_small(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("ALGODISCOVER_NB_SMALL", "1")
    run, tmp = tmp_path / "run", tmp_path / "tmp"
    run.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the notebook's temporary catalogue directory lands here, not in /tmp
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(PATH, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=280, kernel_name="python3",
                                     resources={"metadata": {"path": str(run)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"from {REPO / 'algodiscover'}" in text
    assert "309248 multiplications per image" in text            # the teacher's hand count (see test_count_deploy)
    assert "r =   1.0x" in text and "3082 multiplications" in text  # 64·16 + 64·32 + 10
    assert "deployed == training mode: True" in text
    assert "deployed multiplications on one image: 3082 count(): 3082" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 2
    assert not list(run.iterdir())                                # nothing written where it ran
