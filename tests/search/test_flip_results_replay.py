"""The flip-engine files in results/ replay: ``discover --replay`` re-runs the recorded walk and finds the
recorded scheme (same canonical key).  Files recorded before lift versions existed are replayed with each
lift rule in turn (the walk's path depends on which schemes lift).  The replays of the long walks
(minutes each) are in test_flip_moves.py and test_flip_sym.py; here the walks that took under 25 s."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from algodiscover.cli.replay import run_replay
from algodiscover.search import flip

RESULTS = Path(__file__).resolve().parents[2] / "results"


def _flip_files(max_seconds):
    out = []
    for p in sorted(RESULTS.glob("*.json")):
        prov = json.loads(p.read_text()).get("provenance", {})
        if prov.get("engine") == "flip" and not prov.get("strategy") and (prov.get("options") or {}).get(
                "field") in (None, 2) and float(prov.get("seconds") or 1e9) <= max_seconds:
            out.append(p)
    return out


def test_the_short_flip_results_are_there():
    names = {p.name for p in _flip_files(25)}
    assert {"3x3x3-r23.json", "2x5x5-r40.json", "2x4x5-r33.json"} <= names


def test_a_record_without_a_lift_version_is_replayed_with_each_newest_first(monkeypatch):
    seen = []

    def fake(shape, rank, *, state, attempts, seed, options):
        seen.append(options["lift"])
        return [], None
    monkeypatch.setattr(flip, "run_segment", fake)
    prov = json.loads((RESULTS / "3x3x3-r23.json").read_text())["provenance"]
    assert "lift" not in prov["options"]
    assert list(flip.replay(prov)) == [] and seen == [3, 2, 1]
    seen.clear()
    assert list(flip.replay({**prov, "options": {**prov["options"], "lift": 2}})) == [] and seen == [2]


def test_new_records_carry_the_lift_version():
    from algodiscover.core.shape import Shape
    assert flip.resolve_options(Shape(2, 2, 2), 7)["lift"] == 3
    with pytest.raises(flip.FlipOptionError, match="lift must be one of"):
        flip.resolve_options(Shape(2, 2, 2), 7, lift=9)


@pytest.mark.slow
@pytest.mark.parametrize("path", _flip_files(25), ids=lambda p: p.name)
def test_flip_result_replays_to_the_recorded_scheme(path, monkeypatch, capsys):
    monkeypatch.chdir(RESULTS.parent)  # recorded start paths are relative to the repository root
    assert run_replay(argparse.Namespace(replay=str(path))) == 0, capsys.readouterr()
    assert "the same scheme" in capsys.readouterr().out


def test_a_mod2_record_without_a_lift_version_is_replayed_once(monkeypatch):
    seen = []

    def fake(shape, rank, *, state, attempts, seed, options):
        seen.append(options["lift"])
        return [], None
    monkeypatch.setattr(flip, "run_segment", fake)
    prov = json.loads((RESULTS / "4x4x4-r47.json").read_text())["provenance"]
    assert prov["options"]["ring"] == "Z2" and "lift" not in prov["options"]
    monkeypatch.chdir(RESULTS.parent)
    assert list(flip.replay(prov)) == [] and seen == [3]
