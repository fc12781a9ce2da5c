"""Run proven schemes fast: compiled executors, straight-line addition programs, CSE, codegen, bench, tune.

    >>> from algodiscover.execute import compile
    >>> f = compile(strassen, backend="numpy")     # or compile([s1, s2]): scheme i at level i
    >>> C = f(A, B)                                # == A @ B (to rounding)

Imported lazily by ``Scheme.compile``; the core never imports this package at module level.
"""

from .executor import DEFAULT_CUTOFF, Executor, additions_shared, attach_programs, check_programs, compile, programs_for
from .program import Program, best_program, greedy_cse, kron_program, naive_program

__all__ = ["compile", "Executor", "Program", "best_program", "greedy_cse", "naive_program", "kron_program",
           "programs_for", "attach_programs", "check_programs", "additions_shared", "DEFAULT_CUTOFF"]
