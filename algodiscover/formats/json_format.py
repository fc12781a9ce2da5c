"""The project's own JSON scheme format, ``algodiscover.scheme/1`` (docs/DESIGN.md)."""

from __future__ import annotations

import json
import math

from ..core.arith import to_jsonable
from ..core.scheme import Scheme
from ..core.verify import verify
from ..errors import FormatError, SchemeError
from ._common import load_json_text

FORMAT_ID = "algodiscover.scheme/1"
REQUIRED = ("format", "shape", "rank", "W_a", "W_b", "W_c")



def to_dict(scheme: Scheme) -> dict:
    """The JSON object for a scheme, verification included (runs it if not cached)."""
    from .. import __version__
    v = verify(scheme)
    prov = dict(scheme.provenance)
    prov.setdefault("version", __version__)
    out = {
        "format": FORMAT_ID,
        "shape": list(scheme.shape),
        "rank": scheme.rank,
        "ring": v.ring,
        "W_a": to_jsonable(scheme.W_a),
        "W_b": to_jsonable(scheme.W_b),
        "W_c": to_jsonable(scheme.W_c),
        "metrics": scheme.metrics(),
        "provenance": _jsonable(prov),
        "verification": {"method": v.method, "ring": v.ring},
    }
    progs = scheme._cache.get("programs")
    if progs is not None and scheme._cache.get("programs_attached"):
        out["programs"] = {k: progs[k].to_json() for k in ("a", "b", "c")}
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def dump(scheme: Scheme) -> str:
    """Readable JSON: one matrix row per line."""
    d = to_dict(scheme)
    lines = ["{"]
    items = list(d.items())
    for idx, (key, val) in enumerate(items):
        comma = "," if idx < len(items) - 1 else ""
        if key == "programs":
            parts = ",\n    ".join(f"{json.dumps(k)}: {json.dumps(p, separators=(',', ':'))}" for k, p in val.items())
            lines.append(f'  "programs": {{\n    {parts}\n  }}{comma}')
        elif key in ("W_a", "W_b", "W_c"):
            rows = ",\n    ".join(json.dumps(r, separators=(", ", ": ")) for r in val)
            lines.append(f'  "{key}": [\n    {rows}\n  ]{comma}')
        else:
            lines.append(f'  {json.dumps(key)}: {json.dumps(val)}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def looks_like(obj) -> bool:
    return isinstance(obj, dict) and ("W_a" in obj or obj.get("format") == FORMAT_ID)


def from_dict(obj, *, source: str = "<data>") -> Scheme:
    """Build (not verify) a Scheme from a parsed JSON object, rejecting malformed data clearly."""
    if not isinstance(obj, dict):
        raise FormatError(f"{source}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise FormatError(f"{source}: missing required key(s) {', '.join(missing)}")
    if obj["format"] != FORMAT_ID:
        raise FormatError(f"{source}: format {obj['format']!r} is not {FORMAT_ID!r}")
    shape = obj["shape"]
    if (not isinstance(shape, list) or len(shape) != 3
            or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in shape)):
        raise FormatError(f"{source}: shape must be three positive integers, got {shape!r}")
    rank = obj["rank"]
    if isinstance(rank, bool) or not isinstance(rank, int) or rank <= 0:
        raise FormatError(f"{source}: rank must be a positive integer, got {rank!r}")
    try:
        scheme = Scheme(shape, obj["W_a"], obj["W_b"], obj["W_c"],
                        provenance=obj.get("provenance") if isinstance(obj.get("provenance"), dict) else None)
    except SchemeError as e:
        raise FormatError(f"{source}: {e}") from None
    if scheme.rank != rank:
        raise FormatError(f"{source}: declared rank {rank} differs from the {scheme.rank} rows of W_a")
    if obj.get("programs") is not None:
        _read_programs(scheme, obj["programs"], source)
    return scheme


def _read_programs(scheme: Scheme, progs, source: str) -> None:
    """The optional ``programs`` {"a","b","c"} (straight-line addition programs), re-checked exactly."""
    from ..execute.executor import attach_programs
    from ..execute.program import Program
    if not isinstance(progs, dict) or set(progs) != {"a", "b", "c"}:
        raise FormatError(f"{source}: programs must be an object with keys a, b, c")
    try:
        parsed = {k: Program.from_json(progs[k]) for k in ("a", "b", "c")}
        attach_programs(scheme, parsed)
    except SchemeError as e:
        raise FormatError(f"{source}: {e}") from None


def parse(text, *, source: str = "<data>") -> Scheme:
    """Parse one scheme from JSON text (str or bytes)."""
    obj = load_json_text(text, source)
    return from_dict(obj, source=source)


def parse_many(data, *, source: str = "<data>"):
    return [(None, parse(data, source=source))]
