"""A canonical form under the trivial symmetries, so that the same algorithm is never counted twice.

Trivial symmetries: the order of the products, and scalings inside a product
(a_t -> x a_t, b_t -> y b_t, c_t -> c_t / (x y)); for integer schemes this covers the sign
moves between factors.  ``canonical_key`` is equal for two schemes iff they differ only by these.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np

from .scheme import Scheme


def _first_nonzero_sign(rows: np.ndarray) -> np.ndarray:
    nz = rows != 0
    first = np.argmax(nz, axis=1)
    vals = rows[np.arange(rows.shape[0]), first]
    return np.where(vals < 0, -1, 1)


def canonical_triples(scheme: Scheme) -> list[tuple]:
    """The products as normalised (a, b, c) tuples, sorted."""
    Wa, Wb, Wc = scheme.W_a, scheme.W_b, scheme.W_c
    if Wa.dtype != object and Wb.dtype != object and Wc.dtype != object and scheme.is_ternary:
        sa = _first_nonzero_sign(Wa)
        sb = _first_nonzero_sign(Wb)
        A = Wa * sa[:, None]
        B = Wb * sb[:, None]
        C = Wc.T * (sa * sb)[:, None]
        trip = [(tuple(A[t].tolist()), tuple(B[t].tolist()), tuple(C[t].tolist())) for t in range(scheme.rank)]
    else:
        trip = []
        for t in range(scheme.rank):
            a = [Fraction(x) for x in Wa[t].tolist()]
            b = [Fraction(x) for x in Wb[t].tolist()]
            c = [Fraction(x) for x in Wc[:, t].tolist()]
            fa = next((x for x in a if x != 0), Fraction(1))
            fb = next((x for x in b if x != 0), Fraction(1))
            trip.append((_plain(x / fa for x in a), _plain(x / fb for x in b), _plain(x * fa * fb for x in c)))
    trip.sort()
    return trip


def _plain(values) -> tuple:
    """Integral Fractions as ints, so that a rescaled integer scheme keys like the ternary branch."""
    return tuple(int(x) if x.denominator == 1 else x for x in values)


def canonical_key(scheme: Scheme) -> str:
    """A short hex digest, equal exactly for schemes equal up to product order and scalings."""
    h = hashlib.sha256(repr((tuple(scheme.shape), canonical_triples(scheme))).encode())
    return h.hexdigest()[:32]


def normalize_signs(scheme: Scheme) -> Scheme:
    """The same algorithm with each product's A- and B-factor starting with a positive coefficient.

    Signs move into the output combination (c_t -> s_a s_b c_t), so ``(-a11)(b12 - b22)`` reads
    ``a11(b12 - b22)`` with the minus sign in the outputs.  Product order and magnitudes are kept.
    """
    Wa, Wb, Wc = scheme.W_a, scheme.W_b, scheme.W_c
    sa = _first_nonzero_sign(Wa)
    sb = _first_nonzero_sign(Wb)
    if np.all(sa == 1) and np.all(sb == 1):
        return scheme
    sab = sa * sb
    return Scheme(scheme.shape, Wa * sa[:, None], Wb * sb[:, None], Wc * sab[None, :],
                  provenance=scheme.provenance)
