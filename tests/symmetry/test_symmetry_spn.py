"""De Groote on real search output: rank-7 <2,2,2> schemes from the SPN engine are all Strassen's."""

import pytest

from algodiscover.core.canonical import canonical_key
from algodiscover.search import Budget, run_search
from algodiscover.symmetry import EQUIVALENT, equivalent


def _spn_schemes(count, seed):
    seen = {}
    for s in run_search("spn", (2, 2, 2), 7, seed=seed, budget=Budget(time_limit=600, count=count),
                        stop=lambda: len(seen) >= count):
        seen.setdefault(canonical_key(s), s)
        if len(seen) >= count:
            break
    return list(seen.values())


def _all_equivalent(strassen, schemes):
    for s in schemes:
        res = equivalent(strassen, s)
        assert res.verdict == EQUIVALENT, res.reason
        assert res.transformation.apply(strassen) == s


def test_spn_schemes_are_equivalent_to_strassen(strassen):
    pytest.importorskip("torch")
    schemes = _spn_schemes(4, seed=1)
    assert len(schemes) == 4
    _all_equivalent(strassen, schemes)


@pytest.mark.slow
def test_100_distinct_spn_schemes_are_equivalent_to_strassen(strassen):
    pytest.importorskip("torch")
    schemes = _spn_schemes(100, seed=0)
    assert len(schemes) == 100
    _all_equivalent(strassen, schemes)
