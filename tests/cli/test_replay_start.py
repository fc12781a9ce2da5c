"""``discover --replay FILE`` finds a relative ``--start`` file from another working directory."""

import argparse

from algodiscover.cli.replay import locate_start, run_replay
from algodiscover.core.scheme import Scheme
from algodiscover.formats import save
from algodiscover.search import Budget, flip


def _found_from_a_relative_start(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "starts").mkdir(parents=True)
    (repo / "results").mkdir()
    save(Scheme.standard((2, 2, 2)), repo / "starts" / "s.json")
    monkeypatch.chdir(repo)
    out = next(flip.search((2, 2, 3), 11, seed=0, budget=Budget(time_limit=60), start="starts/s.json"))
    assert out.provenance["start"]["source"] == "starts/s.json"
    save(out, repo / "results" / "x.json")
    return repo


def test_replay_from_another_directory_finds_the_start(tmp_path, monkeypatch, capsys, flip_kernels):
    repo = _found_from_a_relative_start(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)  # "starts/s.json" does not exist from here
    code = run_replay(argparse.Namespace(replay=str(repo / "results" / "x.json")))
    err = capsys.readouterr()
    assert code == 0, err.err
    assert "the same scheme" in err.out


def test_locate_start_leaves_what_it_cannot_find(tmp_path, monkeypatch):
    prov = {"start": {"kind": "file", "source": "nowhere/s.json"}}
    assert locate_start(prov, tmp_path / "a" / "x.json") == prov
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "s.json").write_text("{}")
    found = locate_start(prov, tmp_path / "a" / "x.json")
    assert found["start"]["source"] == str(tmp_path / "nowhere" / "s.json")
    assert prov["start"]["source"] == "nowhere/s.json"  # the input is not changed
    assert locate_start({"start": {"kind": "standard"}}, tmp_path / "x.json") == {"start": {"kind": "standard"}}
