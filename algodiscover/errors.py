"""One error family for the whole toolkit.

Every error raised on bad user input derives from :class:`AlgoDiscoverError`;
subclasses are also ``ValueError`` or ``LookupError`` so callers that only know
the builtins can still catch them.  Messages say what was wrong and what was
expected, in one line.
"""


class AlgoDiscoverError(Exception):
    """Base class of all algodiscover errors."""


class ShapeError(AlgoDiscoverError, ValueError):
    """A malformed matrix-multiplication shape."""


class SchemeError(AlgoDiscoverError, ValueError):
    """A scheme whose coefficient matrices are malformed."""


class FormatError(AlgoDiscoverError, ValueError):
    """A scheme file that cannot be read or parsed."""


class RankError(AlgoDiscoverError, ValueError):
    """A multiplication budget that is impossible or malformed."""


class DeviceError(AlgoDiscoverError, ValueError):
    """A compute device that is not available."""


class EngineNotFound(AlgoDiscoverError, LookupError):
    """An unknown search engine or strategy name."""


class VerificationError(AlgoDiscoverError, ValueError):
    """A scheme failed exact verification where a proven one was required."""


class ReplayError(AlgoDiscoverError, ValueError):
    """A scheme file whose search cannot be re-run (old provenance, a GPU run, ...)."""


class InternalError(AlgoDiscoverError, RuntimeError):
    """A defect of algodiscover itself (a crashed worker, ...): exit 3, not bad input."""
