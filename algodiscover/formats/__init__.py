"""File formats: one module per format, each a pure ``parse``/``dump`` plus thin ``load``/``save``.

``load(path)`` and ``save(scheme, path)`` pick the format by suffix (or content) and always
re-verify: nothing is written unless exact verification passed.
"""

from __future__ import annotations

from pathlib import Path

from ..core.scheme import Scheme
from ..core.verify import verify
from ..errors import FormatError, VerificationError
from . import json_format

__all__ = ["load", "load_all", "save", "FORMATS"]

FORMATS = {"json": json_format}


def load_all(path, fmt: str | None = None) -> list[tuple[str | None, Scheme]]:
    """Every scheme in a file as (key or None, Scheme), each re-verified (see ``Scheme.verification``)."""
    p = Path(path)
    module = _module_for(p, fmt)
    try:
        text_or_bytes = p.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"cannot read {p}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"cannot read {p}: it is a directory") from None
    except OSError as e:
        raise FormatError(f"cannot read {p}: {e.strerror or e}") from None
    items = module.parse_many(text_or_bytes, source=str(p))
    for _, s in items:
        verify(s)
    return items


def load(path, fmt: str | None = None) -> Scheme:
    """The single scheme in a file (re-verified)."""
    items = load_all(path, fmt)
    if len(items) != 1:
        raise FormatError(f"{path} holds {len(items)} schemes; use load_all() or pick one by key")
    return items[0][1]


def save(scheme: Scheme, path, fmt: str | None = None, *, allow_z2: bool = True) -> Path:
    """Write a proven scheme.  Invalid schemes are refused; Z2 schemes are written with ring Z2."""
    v = verify(scheme)
    if not (v.ok or (allow_z2 and v.ring == "Z2")):
        raise VerificationError(f"refusing to save a scheme that fails exact verification ({v.summary()})")
    p = Path(path)
    module = _module_for(p, fmt)
    data = module.dump(scheme)
    tmp = p.with_name(p.name + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    tmp.replace(p)
    return p


def _module_for(p: Path, fmt: str | None):
    if fmt is not None:
        if fmt not in FORMATS:
            raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(sorted(FORMATS))}")
        return FORMATS[fmt]
    suffix = p.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return FORMATS[suffix]
    return json_format
