"""``discover --replay FILE``: re-run the search recorded in a scheme file's provenance and compare.

Exit 0: the replay found the same scheme (same canonical key, :func:`core.canonical.canonical_key`);
1: it found another scheme, or none; 2: the file cannot be replayed, with the reason in one line (an old
provenance without ``schema``, an engine without ``replay``, a GPU run, options this version does not know).

The engine named in the provenance does the work (``get_engine(name).replay(provenance)``); two origins are
replayed here: ``standard`` (the standard algorithm: rebuilt from the shape) and ``literature`` (a scheme
typed from a publication: rebuilt from :mod:`algodiscover.examples` when it is one of them).
"""

from __future__ import annotations

import inspect
import sys
import time

from ..errors import AlgoDiscoverError, EngineNotFound, ReplayError


def _replay_standard(prov, scheme):
    from ..core.scheme import Scheme
    yield Scheme.standard(scheme.shape)


def _replay_literature(prov, scheme):
    from .. import examples
    source = prov.get("source")
    for name in ("strassen", "winograd", "laderman"):
        fn = getattr(examples, name, None)
        if fn is None:
            continue
        s = fn()
        if s.provenance.get("source") == source or prov.get("name") == name:
            yield s
            return
    raise ReplayError(f"a scheme typed from the literature ({source or 'no source recorded'}) is not one of "
                      f"algodiscover.examples, so there is nothing to re-type it from")


BUILTIN = {"standard": _replay_standard, "literature": _replay_literature}


def replayer(prov: dict, scheme):
    """The iterator of schemes the recorded search produces again (raises ReplayError when impossible)."""
    from ..provenance import SCHEMA
    schema = prov.get("schema")
    if schema != SCHEMA:
        what = f"schema {schema!r}" if schema else "no provenance schema"
        raise ReplayError(f"old provenance ({what}; replay needs {SCHEMA}): it does not record the resolved "
                          f"options; regenerate the file with this version")
    engine = prov.get("engine")
    if not engine:
        raise ReplayError("the provenance names no engine")
    if engine in BUILTIN:
        return BUILTIN[engine](prov, scheme)
    device = str(prov.get("device") or "cpu")
    if device != "cpu":
        from ..search.device import resolve_device
        try:
            resolve_device(device)
        except AlgoDiscoverError:
            raise ReplayError(f"the scheme was found on {device}, which this machine does not have") from None
    from ..search import get_engine
    try:
        mod = get_engine(engine)
    except EngineNotFound as e:
        raise ReplayError(str(e)) from None
    fn = getattr(mod, "replay", None)
    if fn is None:
        raise ReplayError(f"the {engine} engine cannot replay a search (it has no replay())")
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover
        params = {}
    kw = {}
    if "shape" in params:
        kw["shape"] = scheme.shape
    if "rank" in params:
        kw["rank"] = scheme.rank
    return fn(prov, **kw)


def locate_start(prov: dict, path) -> dict:
    """The provenance with a relative start file found again.  A walk started from ``--start FILE`` records
    FILE as given, usually relative to the directory the search ran in (for the committed results: the
    repository root).  When that path does not exist from here, the result file's directory and each directory
    above it are tried in turn; the first where the start file exists is used (its absolute path replaces the
    recorded one in the returned copy).  Otherwise the provenance is returned unchanged (the engine then says
    the start is not available)."""
    from pathlib import Path
    srec = prov.get("start")
    if not isinstance(srec, dict) or srec.get("kind") != "file":
        return prov
    src = srec.get("source")
    if not isinstance(src, str) or not src or Path(src).is_absolute() or Path(src).exists():
        return prov
    here = Path(path).resolve().parent
    for d in (here, *here.parents):
        cand = d / src
        if cand.is_file():
            return {**prov, "start": {**srec, "source": str(cand)}}
    return prov


def run_replay(args) -> int:
    from ..core.canonical import canonical_key, normalize_signs
    from ..formats import load_all
    path = args.replay
    try:
        items = load_all(path)  # each re-verified
        if len(items) != 1:
            raise ReplayError(f"it holds {len(items)} schemes; replay one scheme file at a time")
        scheme = items[0][1]
        v = scheme.verify()
        if not (v.ok or v.ring in ("Z2", "Z3")):
            raise ReplayError(f"it fails exact verification ({v.summary()}); see 'algodiscover verify {path}'")
        key = canonical_key(scheme)
        prov = locate_start(dict(scheme.provenance), path)
        t0 = time.monotonic()
        found = []
        for s in replayer(prov, scheme):
            s = normalize_signs(s)
            sv = s.verify()
            if not (sv.ok or (sv.ring in ("Z2", "Z3") and v.ring == sv.ring)):
                continue
            k = canonical_key(s)
            if k == key:
                lv = ((s.provenance or {}).get("options") or {}).get("lift")
                note = (f"; lift version {lv} (the file records none)"
                        if lv is not None and "lift" not in (prov.get("options") or {}) else "")
                print(f"replayed {path}: the same scheme ({scheme.shape.angle()} rank {scheme.rank}, canonical key "
                      f"{key[:12]}) in {time.monotonic() - t0:.1f} s; engine {prov.get('engine')}, "
                      f"seed {prov.get('seed')}{note}")
                return 0
            found.append((s, k))
    except (ReplayError, AlgoDiscoverError) as e:
        print(f"discover: cannot replay {path}: {e}", file=sys.stderr)
        return 2
    if found:
        s, k = found[0]
        print(f"replayed {path}: a different scheme ({s.shape.angle()} rank {s.rank}, canonical key {k[:12]}; "
              f"recorded {key[:12]}); {len(found)} scheme(s) found, none the recorded one", file=sys.stderr)
    else:
        print(f"replayed {path}: the recorded search found no scheme this time (recorded canonical key {key[:12]})",
              file=sys.stderr)
    return 1
