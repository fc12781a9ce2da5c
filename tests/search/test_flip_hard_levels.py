"""Hard levels (issue 12, session 11): the kernel version on the command line, and the long free walk
(--climb 4 --plateau 20000 --restart-after 1e9 --grow 0) that found <3,4,5>:47, on small shapes.

Expected values come from mathematics and the literature: Strassen's rank 7 for <2,2,2>, Laderman's 23 for
<3,3,3>; every scheme is proven by ``verify``; a replay of the recorded provenance finds the same scheme.
"""

from __future__ import annotations

import json

import pytest

from algodiscover.cli import discover_main
from algodiscover.core.canonical import canonical_key
from algodiscover.core.shape import Shape
from algodiscover.formats import load
from algodiscover.search import flip

FREE = {"climb": 4, "plateau": 20000, "restart_after": 10 ** 9, "grow": 0}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_kernel_flag_is_used_and_recorded(tmp_path, version):
    out = tmp_path / "s.json"
    code = discover_main(["--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--init", "standard", "--seed", "0",
                          "--workers", "1", "--kernel", str(version), "--no-catalog", "--quiet", "--time-limit", "60",
                          "--out", str(out)])
    assert code == 0
    s = load(out)
    assert s.rank == 7 and s.verify(symbolic=False).ok
    prov = json.loads(out.read_text())["provenance"]
    assert prov["options"]["kernel"] == version and "--kernel" in prov["command"]
    again = list(flip.replay(prov))
    assert again and canonical_key(again[-1]) == canonical_key(s)


def test_kernel_flag_rejects_unknown_versions(capsys):
    with pytest.raises(SystemExit) as e:
        discover_main(["--engine", "flip", "--shape", "2x2x2", "--rank", "7", "--kernel", "4"])
    assert e.value.code == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "--kernel" in err[0]
    with pytest.raises(flip.FlipOptionError, match="kernel"):
        flip.resolve_options(Shape(2, 2, 2), 7, kernel=9)


def test_free_walk_reaches_laderman_rank_and_replays():
    from algodiscover.search import Budget, run_search
    it = run_search("flip", (3, 3, 3), 23, seed=0, workers=1, init="standard", budget=Budget(time_limit=60), **FREE)
    s = next(it)
    it.close()
    assert s.rank <= 23 and s.verify(symbolic=False).ok
    opts = s.provenance["options"]
    assert {k: opts[k] for k in FREE} == FREE and opts["policy"] == "walk"
    again = list(flip.replay(s.provenance))
    assert again and canonical_key(again[-1]) == canonical_key(s)
