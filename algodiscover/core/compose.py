"""Build larger schemes from smaller ones.

``tensor_product(s1, s2)``: from <m1,k1,n1> of rank r1 and <m2,k2,n2> of rank r2, a scheme for
<m1 m2, k1 k2, n1 n2> of rank r1 r2 (block recursion written out: Strassen x Strassen is <4,4,4>:49).
"""

from __future__ import annotations

import numpy as np

from .scheme import Scheme
from .shape import Shape


def _as_array(W: np.ndarray) -> np.ndarray:
    return W if W.dtype != object else W.astype(object)


def tensor_product(s1: Scheme, s2: Scheme) -> Scheme:
    """The Kronecker product of two schemes; entry (i1*m2+i2, j1*k2+j2) of A is block (i1,j1), entry (i2,j2)."""
    (m1, k1, n1), (m2, k2, n2) = s1.shape, s2.shape
    r1, r2 = s1.rank, s2.rank
    Wa = np.einsum("aij,bkl->abikjl", _as_array(s1.W_a).reshape(r1, m1, k1),
                   _as_array(s2.W_a).reshape(r2, m2, k2)).reshape(r1 * r2, m1 * m2 * k1 * k2)
    Wb = np.einsum("aij,bkl->abikjl", _as_array(s1.W_b).reshape(r1, k1, n1),
                   _as_array(s2.W_b).reshape(r2, k2, n2)).reshape(r1 * r2, k1 * k2 * n1 * n2)
    Wc = np.einsum("ija,klb->ikjlab", _as_array(s1.W_c).reshape(m1, n1, r1),
                   _as_array(s2.W_c).reshape(m2, n2, r2)).reshape(m1 * m2 * n1 * n2, r1 * r2)
    return Scheme(Shape(m1 * m2, k1 * k2, n1 * n2), Wa, Wb, Wc,
                  provenance={"engine": "tensor-product",
                              "factors": [f"{s1.shape}:{r1}", f"{s2.shape}:{r2}"]})
