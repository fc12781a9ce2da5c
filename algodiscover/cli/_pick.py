"""Pick one proven scheme out of a file (shared by ``export`` and ``render``)."""

from __future__ import annotations

from ..errors import FormatError, VerificationError


class NotProven(VerificationError):
    """A scheme that fails exact verification where a writer needs an algorithm (the CLI exits 1)."""


def pick_scheme(path, fmt=None, index=None, *, verb: str = "export"):
    """The scheme of a file (the ``index``-th, 1-based, when it holds several), refused unless proven.

    Schemes valid only modulo 2 pass (their ring is stated as Z2 wherever they are shown);
    schemes that fail exact verification raise :class:`NotProven`, whose message names why and
    ``algodiscover verify``.
    """
    from ..formats import load_all
    items = load_all(path, fmt)
    if not items:
        raise FormatError(f"{path} holds no scheme")
    if index is None:
        if len(items) > 1:
            raise FormatError(f"{path} holds {len(items)} schemes; pick one with --index N (1..{len(items)})")
        index = 1
    if not 1 <= index <= len(items):
        raise FormatError(f"--index {index} is out of range: {path} holds {len(items)} scheme(s)")
    scheme = items[index - 1][1]
    v = scheme.verify()
    if not (v.ok or v.ring in ("Z2", "Z3")):
        raise NotProven(f"refusing to {verb} {path}: it is not an algorithm, it fails exact verification "
                        f"({v.n_failures} Brent equations fail); see 'algodiscover verify {path}'")
    return scheme


def refuse(prog: str, e: NotProven) -> int:
    import sys
    from .output import EXIT_NOT_PROVEN
    print(f"{prog}: error: {e}", file=sys.stderr)
    return EXIT_NOT_PROVEN
