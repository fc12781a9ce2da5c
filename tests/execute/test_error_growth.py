"""Accuracy of Strassen's and Winograd's forms with three levels of recursion.

Error bounds (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 2002, Thms 23.2-23.3):
Strassen's form grows like 12^L per level, Winograd's like 18^L, so Strassen's form should be the
more accurate one.  For zero-mean data [-1, 1) that is what is measured.  For the non-negative data
uniform [0, 1) that issue 13 names, the ordering is REVERSED here (Winograd's form about 8x more
accurate, by the executor and by ``Scheme.apply`` alike): Strassen's products such as
(a11 + a22)(b11 + b22) carry several times |c| that c11 and c22 then cancel, while Winograd's
m1 = a11 b11 is a term of c11 itself.  Both figures are in benchmarks/results/execute-error-growth.md.
Errors: float32 products against the float64 product of the same (float32) data, max|C - AB| / max|AB|.
"""

from __future__ import annotations

import numpy as np
import pytest


def _median_errors(strassen, winograd, n, seeds, lo):
    kw = dict(levels=3, cutoff=1, mode="program")  # the numpy programs: no numba start-up in a small test
    fs = {"strassen": strassen.compile(**kw), "winograd": winograd.compile(**kw)}
    errs = {k: [] for k in fs}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        A = rng.uniform(lo, 1, (n, n)).astype(np.float32)
        B = rng.uniform(lo, 1, (n, n)).astype(np.float32)
        ref = A.astype(np.float64) @ B.astype(np.float64)
        den = np.abs(ref).max()
        for k, f in fs.items():
            errs[k].append(float(np.abs(f(A, B).astype(np.float64) - ref).max() / den))
    return {k: float(np.median(v)) for k, v in errs.items()}


def test_strassen_form_more_accurate_on_zero_mean_data(strassen, winograd):
    """The ordering of the bounds (12^L < 18^L), on a smaller default variant: n = 128, 3 levels."""
    med = _median_errors(strassen, winograd, 128, 10, -1.0)
    assert med["strassen"] < med["winograd"]
    assert max(med.values()) < 1e-3   # the float32 contract


@pytest.mark.slow
def test_error_growth_n512_three_levels_20_seeds(strassen, winograd):
    """Issue 13's setting: n = 512, 3 levels, 20 seeds; zero-mean data keep the bound ordering."""
    med = _median_errors(strassen, winograd, 512, 20, -1.0)
    assert med["strassen"] < med["winograd"]
    med01 = _median_errors(strassen, winograd, 512, 20, 0.0)
    assert max(med01.values()) < 1e-3
    # uniform [0, 1): reversed (see the module docstring); stated, not hidden
    assert med01["winograd"] < med01["strassen"]
