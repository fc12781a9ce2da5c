"""Generate docs/api.md, the API reference, from the docstrings and signatures (``inspect``).

    python docs/gen_api.py           # rewrite docs/api.md
    python docs/gen_api.py --check   # exit 1 when docs/api.md is not what the code says (the test suite runs this)

The page documents what users call: ``discover()``, ``Budget``, ``Progress``, ``Scheme``, ``verify``, the
file formats, the catalogue and the equivalence APIs.  Edit the docstrings, not the page.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "api.md"

# (section title, module, [names]); a class lists its public methods and properties after its docstring
SECTIONS = [
    ("Searching", "algodiscover", ["discover"]),
    ("Searching", "algodiscover.search", ["Budget", "Progress", "engine_names", "get_engine", "run_search"]),
    ("Schemes and proofs", "algodiscover", ["Scheme", "Shape", "parse_shape", "verify", "lower_bound"]),
    ("Schemes and proofs", "algodiscover.core.verify", ["Verification", "require_valid"]),
    ("Schemes and proofs", "algodiscover.core.bounds", ["best_known_rank"]),
    ("Schemes and proofs", "algodiscover.core.canonical", ["canonical_key", "normalize_signs"]),
    ("Files", "algodiscover", ["load", "save"]),
    ("Files", "algodiscover.formats", ["load_all", "save_all", "output_format", "detect_format"]),
    ("Catalogue", "algodiscover.catalog", ["Catalog", "CatalogWriter", "Entry", "EntryList", "best_ranks", "Table",
                                           "resolve_path"]),
    ("Equivalence and symmetry", "algodiscover.symmetry", ["equivalent", "symmetries", "transformations",
                                                           "Equivalence", "Transformation", "fingerprint",
                                                           "invariants", "basis_change", "apply_word"]),
    ("Moves between shapes", "algodiscover.search.flip_moves", ["extend", "project", "best_projection", "move_to"]),
    ("Provenance", "algodiscover.provenance", ["search_record", "result_record", "start_record", "origin_record",
                                               "environment"]),
    ("Errors", "algodiscover.errors", ["AlgoDiscoverError", "ShapeError", "SchemeError", "FormatError", "RankError",
                                       "DeviceError", "EngineNotFound", "VerificationError", "ReplayError",
                                       "InternalError"]),
]

# methods of a class worth listing (public, defined in the package); everything else is left out
_SKIP_METHODS = {"__init__"}


def _sig(obj) -> str:
    import re
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"
    return re.sub(r"<(function|built-in function) ([\w.]+) at 0x[0-9a-f]+>", r"\2", text)  # no addresses


def _doc(obj) -> str:
    d = inspect.getdoc(obj)
    return d.strip() if d else ""


def _members(cls) -> list[tuple[str, object]]:
    import dataclasses
    out = []
    data_fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for name, member in cls.__dict__.items():
        if name.startswith("_") or name in _SKIP_METHODS or name in data_fields:
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property) or inspect.isfunction(member):
            out.append((name, member))
    return out


def _entry(qual: str, obj) -> list[str]:
    lines = []
    if inspect.isclass(obj):
        lines.append(f"### class `{qual}{_sig(obj) if not issubclass(obj, BaseException) else ''}`")
        lines += ["", _doc(obj), ""] if _doc(obj) else [""]
        for name, member in _members(obj):
            doc = _first_paragraph(member)
            tail = f": {doc}" if doc else ""
            if isinstance(member, property):
                lines.append(f"- **`{name}`** (property){tail}")
            else:
                lines.append(f"- **`{name}{_sig(member)}`**{tail}")
        if _members(obj):
            lines.append("")
    else:
        lines.append(f"### `{qual}{_sig(obj)}`")
        lines += ["", _doc(obj), ""] if _doc(obj) else [""]
    return lines


def _first_paragraph(obj) -> str:
    d = inspect.getdoc(obj)
    if not d:
        return ""
    return " ".join(d.split("\n\n")[0].split())


def generate() -> str:
    lines = ["# algodiscover API reference", "",
             "Generated from the docstrings by `python docs/gen_api.py` (a test checks that it is current); the",
             "design behind it is `docs/DESIGN.md`. Everything here is importable without torch; the SPN engine",
             "loads torch when a search runs.", ""]
    current = None
    for title, modname, names in SECTIONS:
        mod = importlib.import_module(modname)
        if title != current:
            lines += [f"## {title}", ""]
            current = title
        for name in names:
            obj = getattr(mod, name)
            lines += _entry(f"{modname}.{name}", obj)
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/api.md is out of date")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    text = generate()
    if args.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
