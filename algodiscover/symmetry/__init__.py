"""Symmetries of bilinear schemes: the group action, invariants, a fingerprint, and equivalence.

    >>> from algodiscover.symmetry import equivalent, fingerprint
    >>> verdict, g = equivalent(strassen, winograd)   # "equivalent", g.apply(strassen) == winograd
"""

from .equivalence import EQUIVALENT, NOT_EQUIVALENT, UNKNOWN, Equivalence, equivalent, symmetries, transformations
from .group import (WORDS, Transformation, apply_word, basis_change, permute_and_scale, random_element,
                    word_shape)
from .invariants import compare, fingerprint, invariants, product_signatures

__all__ = ["equivalent", "transformations", "symmetries", "Equivalence", "EQUIVALENT", "NOT_EQUIVALENT", "UNKNOWN", "Transformation",
           "basis_change", "permute_and_scale", "apply_word", "word_shape", "random_element", "WORDS",
           "fingerprint", "invariants", "product_signatures", "compare"]
