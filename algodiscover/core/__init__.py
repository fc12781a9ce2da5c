"""Core value types and exact verification; imports nothing from search, formats or render."""

from .bounds import best_known_rank, facts, lower_bound
from .scheme import Scheme
from .shape import Shape, parse_shape
from .tensor import matmul_tensor
from .verify import Verification, classify, require_valid, symbolic_check, verify

__all__ = ["Scheme", "Shape", "parse_shape", "matmul_tensor", "verify", "Verification", "classify",
           "require_valid", "symbolic_check", "lower_bound", "best_known_rank", "facts"]
