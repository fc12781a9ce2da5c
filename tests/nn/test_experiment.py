"""`algodiscover nn train` end to end at tiny settings; load(); clear errors for bad data and saved models."""

import json
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from algodiscover.errors import AlgoDiscoverError  # noqa: E402
from algodiscover.nn import distillation_loss, load  # noqa: E402
from algodiscover.nn.experiment import train_experiment  # noqa: E402
from algodiscover.nn.models import parse_budget  # noqa: E402
from tests.conftest import assert_one_line_error, run_cli  # noqa: E402


def test_distillation_loss_formula():
    torch.manual_seed(0)
    s, t = torch.randn(6, 4), torch.randn(6, 4)
    y = torch.randint(0, 4, (6,))
    lam, T = 0.3, 2.0
    ps, pt = torch.softmax(s / T, 1), torch.softmax(t / T, 1)
    kl = (pt * (pt.log() - ps.log())).sum(1).mean()
    ce = -torch.log_softmax(s, 1)[torch.arange(6), y].mean()
    expect = (1 - lam) * ce + lam * T * T * kl
    torch.testing.assert_close(distillation_loss(s, y, t, lam=lam, temperature=T), expect)
    torch.testing.assert_close(distillation_loss(s, y, t, lam=0.0), ce)
    assert float(distillation_loss(t, y, t, lam=1.0)) == pytest.approx(0.0, abs=1e-6)  # KL(t‖t) = 0


def test_budget_parsing():
    assert parse_budget("1.0x") == ("factor", 1.0) and parse_budget("0.5X") == ("factor", 0.5)
    assert parse_budget("12") == ("fixed", 12)
    for bad in ("0", "-1x", "x", "1.0y", ""):
        with pytest.raises(AlgoDiscoverError):
            parse_budget(bad)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    r = run_cli("nn", "train", "--dataset", "digits", "--out", str(out), "--teacher-epochs", "2",
                "--student-epochs", "1,1,1", "--quiet", timeout=240)
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def test_cli_digits_writes_model_curves_report(digits_run):
    out, summary = digits_run
    rep = json.loads((out / "report.json").read_text())
    for who in ("teacher", "student"):
        assert 0 <= rep[who]["accuracy"] <= 1 and rep[who]["multiplications"] > 0 and rep[who]["additions"] > 0
        assert summary[who]["accuracy"] == rep[who]["accuracy"]
    # the arithmetic of the default (p = 1, r = each layer's outputs): 16·64 + 32·64 + 10 = 3082 products
    assert rep["teacher"]["multiplications"] == 309248
    assert rep["student"]["multiplications"] == 3082
    assert rep["student"]["deployed"]["multiplications_counted_on_one_example"] == 3082
    assert rep["student"]["ranks"] == {"0": 16, "2": 32, "6": 10}
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rep["data"]["split"].startswith("train_test_split(test_size=0.25, random_state=0, stratify=y)")


def test_load_predicts_raw_digits_images(digits_run):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    out, _ = digits_run
    model = load(out)
    assert isinstance(model, torch.nn.Module)
    d = load_digits()
    _, xte, _, yte = train_test_split(d.images, d.target, test_size=0.25, random_state=0, stratify=d.target)
    pred = model.predict(xte)
    assert pred.dtype == np.int64 and pred.shape == (len(yte),)
    rep = json.loads((out / "report.json").read_text())
    assert float((pred == yte).mean()) == pytest.approx(rep["student"]["accuracy"], abs=1e-9)
    from algodiscover.nn.experiment import evaluate_saved
    ev = evaluate_saved(out)
    assert ev["accuracy"] == pytest.approx(rep["student"]["accuracy"], abs=1e-9) and ev["multiplications"] == 3082
    with pytest.raises(AlgoDiscoverError, match="do not fit"):
        model.predict(np.zeros((2, 7, 7)))


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_corrupted_or_mismatched_model_is_a_clear_error(digits_run, tmp_path):
    out, _ = digits_run
    # weights changed on disk
    d = _copy(out, tmp_path / "corrupt")
    b = bytearray((d / "student.pt").read_bytes())
    b[len(b) // 2] ^= 0xFF
    (d / "student.pt").write_bytes(bytes(b))
    with pytest.raises(AlgoDiscoverError, match="corrupted"):
        load(d)
    assert "corrupted" in assert_one_line_error(run_cli("nn", "eval", str(d)))
    # model.json describing other ranks than the weights hold
    d = _copy(out, tmp_path / "mismatch")
    meta = json.loads((d / "model.json").read_text())
    meta["ranks"]["2"] = 8
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(AlgoDiscoverError, match="does not match"):
        load(d)
    # not JSON, missing
    d = _copy(out, tmp_path / "notjson")
    (d / "model.json").write_text("{oops")
    with pytest.raises(AlgoDiscoverError, match="not JSON"):
        load(d)
    with pytest.raises(AlgoDiscoverError, match="no saved model"):
        load(tmp_path / "nothing")


def test_cli_bad_input_one_line_exit_2(tmp_path):
    assert "CIFAR-10 directory" in assert_one_line_error(
        run_cli("nn", "train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "absent"), "--out", str(tmp_path)))
    assert "--budget" in assert_one_line_error(
        run_cli("nn", "train", "--dataset", "digits", "--budget", "lots", "--out", str(tmp_path)))


@pytest.mark.parametrize("kw,match", [
    (dict(dataset="cifar10"), "--data-dir"), (dict(dataset="digits", lam=1.5), "lambda"),
    (dict(dataset="digits", temperature=0), "temperature"), (dict(dataset="digits", p=0), "--p"),
    (dict(dataset="mnist"), "unknown dataset"), (dict(dataset="digits", device="tpu"), "not available")])
def test_bad_experiment_arguments(kw, match, tmp_path):
    with pytest.raises(AlgoDiscoverError, match=match):
        train_experiment(out=tmp_path, log=lambda *a: None, **kw)


def _write_cifar(root, n_train=8, n_test=6):
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, n in [(f"data_batch_{i}", n_train) for i in range(1, 6)] + [("test_batch", n_test)]:
        with open(root / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": [int(v) for v in rng.integers(0, 10, n)]}, f)


def test_cifar10_reader_and_training_on_a_tiny_pickle_directory(tmp_path):
    from algodiscover.nn.data import cifar10
    root = tmp_path / "cifar-10-batches-py"
    _write_cifar(root)
    d = cifar10(tmp_path)                 # the parent directory works too
    assert d.x_train.shape == (40, 3, 32, 32) and d.x_test.shape == (6, 3, 32, 32)
    rep = train_experiment("cifar10", tmp_path / "out", data_dir=root, teacher_epochs=1, student_epochs=(0, 1, 0),
                           log=lambda *a: None)
    assert rep["student"]["multiplications"] < rep["teacher"]["multiplications"]
    (root / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(AlgoDiscoverError, match="not a CIFAR-10"):
        cifar10(root)
    (root / "data_batch_3").unlink()
    with pytest.raises(AlgoDiscoverError, match="lacks data_batch_3"):
        cifar10(root)


def test_text_lm_on_stdlib_sources_small(tmp_path):
    rep = train_experiment("text", tmp_path / "t", teacher_epochs=1, student_epochs=(0, 1, 0), limit=3000,
                           budget="0.25x", log=lambda *a: None)
    assert rep["teacher"]["perplexity"] > 1 and rep["student"]["perplexity"] > 1
    assert len(rep["data"]["files_sha256"]) >= 10
    assert all(len(h) == 64 for h in rep["data"]["files_sha256"].values())
    assert rep["student"]["multiplications"] < rep["teacher"]["multiplications"]
    lm = load(tmp_path / "t")
    from algodiscover.nn.experiment import evaluate_saved
    ev = evaluate_saved(tmp_path / "t")           # the full test split, re-encoded with the saved vocabulary
    assert ev["perplexity"] > 1 and ev["multiplications"] == rep["student"]["multiplications"]
    ids = lm.encode("def f(x):\n    return x\n")[None]
    assert lm.predict(ids).shape == ids.shape


def test_ptb_directory_missing_is_a_clear_error(tmp_path):
    from algodiscover.nn.data import text
    (tmp_path / "ptb").mkdir()
    with pytest.raises(AlgoDiscoverError, match="lacks ptb.train.txt"):
        text(tmp_path / "ptb")


def test_import_algodiscover_and_cli_parser_do_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, algodiscover; from algodiscover.cli import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
