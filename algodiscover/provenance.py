"""One provenance schema for every result, whatever produced it.

A scheme file must say enough to reproduce it.  Every engine builds its provenance with
:func:`search_record` (once per search) and :func:`result_record` (once per scheme); other
issues *add* keys through ``extra``, never beside this schema.

Keys (``PROVENANCE_KEYS``):

- ``schema``: ``"algodiscover.provenance/2"``
- ``version``, ``commit`` (``git describe``-style hash when run from a checkout, ``dirty`` flag),
  ``machine`` (platform, cpus, python, torch/numba versions where loaded), ``command`` (argv)
- ``engine``: ``spn`` | ``flip`` | ``standard`` | ``literature`` | ... ; ``strategy``: resolved name
- ``options``: every engine option *resolved* (defaults filled in), JSON-able
- ``seed``: the integer seed actually used (a random one is drawn and recorded when none was given)
- ``workers``, ``device``
- ``start``: ``{"kind": "random"|"standard"|"strassen"|"mixed"|"symmetric"|"file"|"catalog",
  "source": str|None, "published": bool}``: where the search began; ``published`` is True when it
  began from a published scheme (the result is then not a discovery from scratch)
- ``completed_by``: list of the parts that produced the final exact scheme, from ``COMPLETED_BY``
- ``seconds``: from the start of the search to this result; ``restart``/``step`` where meaningful
- ``target_rank`` and ``above_target`` for a best-effort result above the rank asked
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

SCHEMA = "algodiscover.provenance/2"

PROVENANCE_KEYS = ("schema", "version", "commit", "machine", "command", "engine", "strategy", "options",
                   "seed", "workers", "device", "start", "completed_by", "seconds")

#: the parts that can complete a scheme (``completed_by`` holds a subset, in the order they acted)
COMPLETED_BY = ("gradient", "als", "repair", "polish", "flip", "lift", "reduction", "standard", "import")

START_KINDS = ("random", "standard", "strassen", "mixed", "symmetric", "file", "catalog")


@lru_cache(maxsize=1)
def git_commit() -> dict | None:
    """The checkout's commit (``{"hash", "dirty"}``) when the package runs from a git work tree, else None."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        h = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                           timeout=5).stdout.strip()
        if not h:
            return None
        st = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no",
                             "--", "algodiscover"], capture_output=True, text=True, timeout=5).stdout
        return {"hash": h, "dirty": bool(st.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict:
    """What ran it: enough to tell a CPU run from a GPU run and two library versions apart."""
    info: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(),
                            "python": platform.python_version(),
                            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}
    for mod in ("numpy", "torch", "numba"):
        m = sys.modules.get(mod)
        if m is not None:
            info[mod] = getattr(m, "__version__", None)
    return info


def command_line(argv: Iterable[str] | None = None) -> str:
    """The command as a user would type it again: the script's name (``discover``, ``algodiscover``),
    or ``python -m PACKAGE`` when run as ``python -m`` (argv[0] is then the package's ``__main__.py``)."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return ""
    first = Path(argv[0])
    if first.name == "__main__.py":
        return shlex.join(["python", "-m", first.parent.name] + argv[1:])
    argv[0] = first.name
    return shlex.join(argv)


def environment() -> dict:
    """The keys every record shares: schema, version, commit, machine, command."""
    from . import __version__
    return {"schema": SCHEMA, "version": __version__, "commit": git_commit(), "machine": machine(),
            "command": command_line()}


def start_record(kind: str, source: str | None = None, *, published: bool = False) -> dict:
    if kind not in START_KINDS:
        raise ValueError(f"unknown start kind {kind!r}; expected one of {', '.join(START_KINDS)}")
    return {"kind": kind, "source": source, "published": bool(published)}


ORIGIN_KEYS = ("engine", "command", "seed", "seconds", "shape", "rank_asked")


def origin_record(prov: Mapping[str, Any] | None, rank: int | None = None) -> dict | None:
    """What produced a start scheme, from its own provenance: engine, command, seed, seconds, shape, the
    commit, its rank and its own ``start`` (which carries its origin in turn), so a search begun from an
    earlier result records the whole chain back to a standard start.  None when there is no provenance."""
    if not prov:
        return None
    rec = {k: jsonable(prov[k]) for k in ORIGIN_KEYS if k in prov}
    commit = prov.get("commit")
    if isinstance(commit, Mapping):
        rec["commit"] = commit.get("hash")
    if rank is not None:
        rec["rank"] = int(rank)
    if prov.get("start") is not None:
        rec["start"] = jsonable(prov["start"])
    return rec


def search_record(engine: str, *, strategy: str | None = None, options: Mapping[str, Any] | None = None,
                  seed: int | None = None, workers: int | None = None, device: str = "cpu",
                  start: Mapping[str, Any] | None = None, **extra) -> dict:
    """The part of the provenance fixed for a whole search (computed once, shared by its results)."""
    rec = environment()
    rec.update({"engine": engine, "strategy": strategy, "options": jsonable(dict(options or {})), "seed": seed,
                "workers": workers, "device": device, "start": dict(start) if start is not None else None})
    rec.update(jsonable(extra))
    return rec


def result_record(search: Mapping[str, Any], *, completed_by: Iterable[str], seconds: float, **extra) -> dict:
    """One scheme's provenance: the search's record plus what completed this scheme and when."""
    parts = list(dict.fromkeys(completed_by))
    bad = [p for p in parts if p not in COMPLETED_BY]
    if bad:
        raise ValueError(f"unknown completed_by part(s) {bad}; expected a subset of {', '.join(COMPLETED_BY)}")
    rec = dict(search)
    rec["completed_by"] = parts
    rec["seconds"] = round(float(seconds), 3)
    rec.update(jsonable(extra))
    return rec


def jsonable(x):
    """Plain JSON types: tuples to lists, numpy scalars to Python numbers, unknown objects to str."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (bool, str)) or x is None:
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    try:
        import numpy as np
        if isinstance(x, np.generic):
            return x.item()
    except ImportError:  # pragma: no cover
        pass
    return str(x)
