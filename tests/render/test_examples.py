"""The classic schemes of algodiscover.examples equal the fixtures typed independently in conftest."""

import numpy as np

from algodiscover import examples
from tests.conftest import LADERMAN, STRASSEN, WINOGRAD


def test_examples_match_the_literature_fixtures():
    for fn, data in ((examples.strassen, STRASSEN), (examples.winograd, WINOGRAD), (examples.laderman, LADERMAN)):
        s = fn()
        for name in ("W_a", "W_b", "W_c"):
            assert np.array_equal(getattr(s, name), np.array(data[name])), (fn.__name__, name)
        assert s.verify().ring == "ZT"
