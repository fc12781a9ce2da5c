"""File formats: one module per format, each a pure ``parse_many``/``dump`` plus thin ``load``/``save``.

``load_all(path)`` picks the format by ``fmt``, by suffix, or -- for ``.txt``, unknown or missing
suffixes -- by content, and always re-verifies every scheme.  ``save`` writes only schemes that
passed exact verification (Z2 schemes only to formats that can record the ring).

Formats (``FORMATS`` keys, with aliases in ``ALIASES``):

- ``json``      our ``algodiscover.scheme/1`` JSON (docs/DESIGN.md)
- ``perminov``  Perminov-style JSON (``n``, ``m``, ``u``, ``v``, ``w``); ``.json`` files are told apart by keys
- ``npz``       AlphaTensor factorisation archives (many shapes per file, keyed ``"m,k,n"``)
- ``exp``       Kauers/Moosbauer product lines ``(a11+a22)*(b11+b22)*(c11+c22)``
- ``m``         Kauers/Moosbauer Maple/Mathematica lists ``{{A, B, C^T}, ...}``
- ``bb``        Benson–Ballard coefficient files (three ``#``-separated blocks; often no extension)
- ``sms``       PLinOpt L/R/P triples (``X_L.sms``, ``X_R.sms``, ``X_P.sms``)
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.scheme import Scheme
from ..core.verify import verify
from ..errors import FormatError, VerificationError
from . import alphatensor, benson_ballard, exp_format, json_format, maple, perminov, plinopt

__all__ = ["load", "load_all", "save", "save_all", "FORMATS", "ALIASES", "Z2_CAPABLE", "Z3_CAPABLE", "format_name", "detect_format",
           "output_format", "OUTPUT_SUFFIXES"]

FORMATS = {
    "json": json_format,
    "perminov": perminov,
    "npz": alphatensor,
    "exp": exp_format,
    "m": maple,
    "bb": benson_ballard,
    "sms": plinopt,
}
ALIASES = {
    "ours": "json", "algodiscover": "json",
    "alphatensor": "npz",
    "kauers": "exp", "moosbauer": "exp",
    "maple": "m", "mathematica": "m",
    "benson-ballard": "bb", "fast-matmul": "bb",
    "plinopt": "sms",
}
_BY_SUFFIX = {"npz": "npz", "exp": "exp", "m": "m", "bb": "bb", "sms": "sms"}
# formats that can record that a scheme holds only modulo 2 (ours: "ring": "Z2"; Perminov: "z2": true)
Z2_CAPABLE = {"json", "perminov"}
# formats that can record that a scheme holds only modulo 3 (ours: "ring": "Z3")
Z3_CAPABLE = {"json"}


def format_name(fmt: str) -> str:
    """The canonical name of a format given by name or alias; FormatError if unknown."""
    key = fmt.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        names = sorted(FORMATS) + sorted(ALIASES)
        raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(names)}")
    return key


def _holds_many(name: str) -> bool:
    return bool(getattr(FORMATS[name], "HOLDS_MANY", False))


def _json_flavour(data) -> str:
    try:
        text = data.decode("utf-8-sig") if isinstance(data, (bytes, bytearray)) else data
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return "json"  # our reader gives the precise error
    if perminov.looks_like(obj) and not json_format.looks_like(obj):
        return "perminov"
    return "json"


def detect_format(data, source: str = "<data>") -> str:
    """The format of file contents that carry no telling suffix (``.txt`` or none)."""
    if isinstance(data, (bytes, bytearray)) and bytes(data[:4]) == b"PK\x03\x04":
        return "npz"
    try:
        text = data.decode("utf-8-sig") if isinstance(data, (bytes, bytearray)) else data
    except UnicodeDecodeError:
        raise FormatError(f"{source}: binary data of unknown format; pass --format") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.lstrip()
    if maple.looks_like(stripped):
        return "m"
    if stripped.startswith("{"):
        return _json_flavour(text)
    if exp_format.looks_like(text):
        return "exp"
    if benson_ballard.looks_like(text):
        return "bb"
    first = next((ln.strip() for ln in text.split("\n") if ln.strip() and not ln.lstrip().startswith("#")), "")
    if first.endswith(" R") or first.endswith(" M"):
        raise FormatError(f"{source}: looks like one matrix of a PLinOpt triple; name its X_L.sms file, X.sms or X")
    raise FormatError(f"{source}: cannot tell the format from the content (not product lines, '#'-separated "
                      f"numeric blocks, JSON or a Maple list); pass --format ({', '.join(sorted(FORMATS))})")


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"cannot read {p}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"cannot read {p}: it is a directory") from None
    except OSError as e:
        raise FormatError(f"cannot read {p}: {e.strerror or e}") from None


def load_all(path, fmt: str | None = None) -> list[tuple[str | None, Scheme]]:
    """Every scheme in a file as (key or None, Scheme), each re-verified (see ``Scheme.verification``).

    ``key`` is the archive key (e.g. ``"2,2,2"``) for formats that hold many schemes, else None.
    """
    p = Path(path)
    name = format_name(fmt) if fmt is not None else None
    suffix = p.suffix.lower().lstrip(".")
    if name is None and (suffix == "sms" or (not p.exists() and plinopt.is_triple(p))):
        name = "sms"
    if name == "sms":
        data = plinopt.read(p)
        source = str(plinopt.triple_paths(p)["L"])[: -len("_L.sms")]
    else:
        data = _read_bytes(p)
        source = str(p)
        if name is None:
            if suffix == "json":
                name = _json_flavour(data)
            elif suffix in _BY_SUFFIX:
                name = _BY_SUFFIX[suffix]
            else:
                name = detect_format(data, source)
    items = FORMATS[name].parse_many(data, source=source)
    for _, s in items:
        verify(s)
    return items


def load(path, fmt: str | None = None) -> Scheme:
    """The single scheme in a file (re-verified)."""
    items = load_all(path, fmt)
    if len(items) != 1:
        raise FormatError(f"{path} holds {len(items)} schemes; use load_all() or pick one by key")
    return items[0][1]


#: output suffixes and the format each one means (``.txt`` is Benson–Ballard, as in the README)
OUTPUT_SUFFIXES = {"json": "json", "npz": "npz", "exp": "exp", "m": "m", "bb": "bb", "txt": "bb", "sms": "sms"}


def output_format(p: Path, fmt: str | None) -> str:
    """The format a file would be written in: ``fmt``, else by its suffix (``OUTPUT_SUFFIXES``; ``X_L.sms`` ->
    sms).  A missing or unknown suffix is a FormatError naming the known suffixes and ``--to``/``fmt=``:
    nothing is ever written as JSON under a name that says otherwise."""
    if fmt is not None:
        return format_name(fmt)
    p = Path(p)
    suffix = p.suffix.lower().lstrip(".")
    if p.name.lower().endswith(("_l.sms", "_r.sms", "_p.sms")):
        return "sms"
    if suffix in OUTPUT_SUFFIXES:
        return OUTPUT_SUFFIXES[suffix]
    known = ", ".join("." + k for k in OUTPUT_SUFFIXES)
    what = f"its suffix .{suffix} is unknown" if suffix else "it has no suffix"
    raise FormatError(f"cannot tell which format to write {p.name} in: {what}; known suffixes: {known} "
                      f"(.txt is Benson-Ballard), or name the format with --to (fmt= in Python): "
                      f"{', '.join(sorted(FORMATS))}")


def _check_writable(scheme: Scheme, name: str, allow_z2: bool) -> None:
    v = verify(scheme)
    if v.ok:
        return
    if v.ring == "Z2" and allow_z2:
        if name in Z2_CAPABLE:
            return
        raise VerificationError(f"refusing to write a scheme that holds only modulo 2 to the {name} format, "
                                f"which cannot record that; use json or perminov")
    if v.ring == "Z3" and allow_z2:
        if name in Z3_CAPABLE:
            return
        raise VerificationError(f"refusing to write a scheme that holds only modulo 3 to the {name} format, "
                                f"which cannot record that; use json")
    raise VerificationError(f"refusing to save a scheme that fails exact verification ({v.summary()})")


def _write(p: Path, data) -> None:
    tmp = p.with_name(p.name + ".tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        tmp.replace(p)
    except OSError as e:
        raise FormatError(f"cannot write {p}: {e.strerror or e}") from None


def save_all(items, path, fmt: str | None = None, *, allow_z2: bool = True) -> list[Path]:
    """Write (key or None, scheme) pairs: all of them to an archive format, or exactly one otherwise."""
    items = list(items)
    p = Path(path)
    name = output_format(p, fmt)
    for _, s in items:
        _check_writable(s, name, allow_z2)
    if not items:
        raise FormatError("nothing to write")
    module = FORMATS[name]
    if _holds_many(name):
        _write(p, module.dump_many(items))
        return [p]
    if len(items) != 1:
        raise FormatError(f"the {name} format holds one scheme but {len(items)} were given; pick one by key")
    data = module.dump(items[0][1])
    if name == "sms":
        paths = plinopt.triple_paths(p)
        for part, text in data.items():
            _write(paths[part], text)
        return list(paths.values())
    _write(p, data)
    return [p]


def save(scheme: Scheme, path, fmt: str | None = None, *, allow_z2: bool = True) -> Path:
    """Write a proven scheme.  Invalid schemes are refused; Z2 schemes only to formats that say so."""
    return save_all([(None, scheme)], path, fmt, allow_z2=allow_z2)[0]
