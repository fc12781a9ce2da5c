"""Pick one proven scheme out of a file (shared by ``export`` and ``render``)."""

from __future__ import annotations

from ..errors import FormatError, VerificationError


def pick_scheme(path, fmt=None, index=None):
    """The scheme of a file (the ``index``-th, 1-based, when it holds several), refused unless proven.

    Schemes valid only modulo 2 pass (their ring is stated as Z2 wherever they are shown);
    schemes that fail exact verification are refused.
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
        raise VerificationError(f"{path}: refusing to render a scheme that fails exact verification ({v.summary()})")
    return scheme
