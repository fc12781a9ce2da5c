"""Every SPN-produced file in results/ replays: ``spn.replay`` re-runs its restart and proves the
same scheme (same canonical key).  One restart per file, a few seconds each: marked slow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.formats import load

spn = pytest.importorskip("algodiscover.search.spn")

RESULTS = Path(__file__).resolve().parents[2] / "results"
SPN_FILES = sorted(p for p in RESULTS.glob("*.json")
                   if json.loads(p.read_text()).get("provenance", {}).get("engine") == "spn")


def test_the_spn_results_are_there():
    names = {p.name for p in SPN_FILES}
    assert {"2x2x2-r7.json", "2x2x3-r11.json", "2x2x4-r14.json", "2x2x5-r18.json", "2x3x3-r15.json",
            "2x3x4-r20.json"} <= names
    for p in SPN_FILES:
        prov = load(p).provenance
        assert prov["workers"] == 1 and prov["seed"] == 0 and prov["device"] == "cpu"
        assert "--workers 1" in prov["command"] and "--seed 0" in prov["command"]


@pytest.mark.slow
@pytest.mark.parametrize("path", SPN_FILES, ids=lambda p: p.name)
def test_spn_result_replays_to_the_same_scheme(path):
    scheme = load(path)
    back = list(spn.replay(scheme.provenance))
    assert canonical_key(scheme) in {canonical_key(s) for s in back}
