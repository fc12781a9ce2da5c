"""``results/``: the repository's own proven discoveries as scheme files, with a generated index.

``export_results(catalog, dir)`` writes, per (shape, rank), the best catalogued scheme (widest ring, then
fewest additions) as ``{m}x{k}x{n}-r{rank}.json``, never replacing a better file already there; then
``write_index(dir)`` re-reads *every* scheme file in the directory (re-verified; files written by other
tools too) and writes ``INDEX.md``: shape, rank, ring, engine, time, and the literature bounds.
"""

from __future__ import annotations

from pathlib import Path

from ..core.bounds import best_known_rank, lower_bound
from ..core.verify import VALID_RINGS
from ..errors import AlgoDiscoverError

_RING_ORDER = {"ZT": 0, "Z": 1, "Q": 2}


def _quality(scheme) -> tuple:
    return (_RING_ORDER.get(scheme.verify().ring, 9), scheme.additions_naive, scheme.nnz)


def export_results(catalog, directory, *, shape=None) -> list[Path]:
    """Write the best scheme per (shape, rank) into ``directory``; returns the files written."""
    from ..formats import load, save
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    best: dict = {}
    for e in catalog.entries(shape=shape, with_data=True):
        if e.ring not in VALID_RINGS:
            continue
        key = (tuple(e.shape), e.rank)
        s = e.scheme()
        if key not in best or _quality(s) < _quality(best[key]):
            best[key] = s
    written = []
    for ((m, k, n), r), s in sorted(best.items()):
        path = d / f"{m}x{k}x{n}-r{r}.json"
        if path.exists():
            try:
                old = load(path)
                if old.verify().ok and _quality(old) <= _quality(s):
                    continue  # keep a file that is at least as good (e.g. saved by a search engine)
            except AlgoDiscoverError:
                pass  # an unreadable or invalid file is replaced
        written.append(save(s, path))
    return written


def start_text(start) -> str:
    """Where a search began, in a few words: the start kind, or for a start file its name, the move
    that brought it to this shape and "published" when it was not this toolkit's."""
    if not isinstance(start, dict) or not start.get("kind"):
        return ""
    kind = start["kind"]
    if kind not in ("file", "catalog"):
        return kind
    src = str(start.get("source") or "")
    name = src.rsplit("#", 1)[-1] if kind == "catalog" else Path(src).name
    text = f"{'catalogue entry ' if kind == 'catalog' else ''}{name}"
    if start.get("move"):
        text = f"{text}, {start['move'].split(' (')[0]}"
    if start.get("published"):
        text += " (published)"
    return text


def index_rows(directory, modular: list | None = None) -> tuple[list[dict], list[str]]:
    """(rows for every proven scheme file in ``directory``, problems with the others).  A scheme that is valid
    modulo 2 or 3 only (ring Z2 / Z3, e.g. a flip-graph result for a mod-2 target) is not a proven scheme: it
    goes into ``modular`` (rows of the same form, ring Z2/Z3) when a list is given, else into problems."""
    from ..formats import load_all
    rows, problems = [], []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            items = load_all(path)
        except AlgoDiscoverError as e:
            problems.append(f"{path.name}: {e}")
            continue
        for key, s in items:
            v = s.verify()
            if not v.ok and not (modular is not None and v.ring in ("Z2", "Z3")):
                problems.append(f"{path.name}: {v.summary()}")
                continue
            prov = s.provenance
            secs = prov.get("seconds", prov.get("time"))
            (rows if v.ok else modular).append({
                "file": path.name + (f" [{key}]" if key is not None else ""),
                "shape": tuple(s.shape), "rank": s.rank, "ring": v.ring,
                "additions_naive": s.additions_naive, "nnz": s.nnz,
                "engine": prov.get("engine"), "strategy": prov.get("strategy"), "seed": prov.get("seed"),
                "seconds": secs if isinstance(secs, (int, float)) and not isinstance(secs, bool) else None,
                "found": prov.get("found", prov.get("date")), "start": start_text(prov.get("start")),
                "best_known": best_known_rank(s.shape), "best_known_integer": best_known_rank(s.shape, "integer"),
                "lower_bound": lower_bound(s.shape),
            })
    for rr in (rows, modular if modular is not None else []):
        rr.sort(key=lambda r: (sorted(r["shape"]), r["shape"], r["rank"], r["file"]))
    return rows, problems


def _cells(r: dict) -> tuple[str, str, str, str, str]:
    """The cells both INDEX tables share: file link, shape, search time, engine (strategy), seed."""
    m, k, n = r["shape"]
    secs = f"{r['seconds']:.1f} s" if r["seconds"] is not None else ""
    engine = (r["engine"] or "") + (f" ({r['strategy']})" if r["strategy"] else "")
    return (f"[{r['file']}]({r['file'].split(' ')[0]})", f"{m}x{k}x{n}", secs, engine,
            "" if r["seed"] is None else str(r["seed"]))


def write_index(directory) -> Path:
    """Regenerate ``INDEX.md`` from the scheme files in ``directory``."""
    d = Path(directory)
    modular: list[dict] = []
    rows, problems = index_rows(d, modular)
    lines = [
        "# Proven schemes in this directory",
        "",
        "Generated by `algodiscover catalog export --results " + d.name + "/` from the files here; every file",
        "was re-verified exactly while writing this index. Ring: ZT = coefficients in {-1,0,1} (valid over",
        "every ring), Z = integers, Q = rationals. `time` is the search time recorded by the engine for this",
        "file's run; `start` is where that run began: a starting algorithm, or a file (this toolkit's own result",
        "unless marked published) moved from a neighbouring shape when a move is named; the start's own run is",
        "in its provenance (`start.origin`). Best known: the literature's best rank over the integers (Z) and",
        "over the rationals (Q), compared like with like.",
        "",
        "| file | shape | rank | ring | additions | engine | seed | start | time | best known Z | best known Q | lower bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name, shape, secs, engine, seed = _cells(r)
        lines.append(f"| {name} | {shape} | {r['rank']} | {r['ring']} | "
                     f"{r['additions_naive']} | {engine} | {seed} | {r['start']} | "
                     f"{secs} | "
                     f"{'' if r['best_known_integer'] is None else r['best_known_integer']} | "
                     f"{'' if r['best_known'] is None else r['best_known']} | {r['lower_bound']} |")
    if not rows:
        lines.append("| (none yet) | | | | | | | | | | | |")
    if modular:
        lines += ["", "## Valid modulo 2 or 3 only (not integer algorithms)", "",
                  "Schemes found for a target over GF(2) or GF(3) (ring Z2 / Z3): exact over that field, they fail",
                  "over the integers, so they are not algorithms over Z or Q (`execute` refuses them; the file",
                  "carries the label). Best known mod 2: the literature's best rank modulo 2.", "",
                  "| file | shape | rank | ring | engine | seed | start | time | best known mod 2 | best known Z |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in modular:
            name, shape, secs, engine, seed = _cells(r)
            mod2 = best_known_rank(r["shape"], "mod2") if r["ring"] == "Z2" else None
            lines.append(f"| {name} | {shape} | {r['rank']} | {r['ring']} | "
                         f"{engine} | {seed} | {r['start']} | {secs} | "
                         f"{'' if mod2 is None else mod2} | "
                         f"{'' if r['best_known_integer'] is None else r['best_known_integer']} |")
    if problems:
        lines += ["", "Files not listed (they did not re-verify as proven schemes):", ""]
        lines += [f"- {p}" for p in problems]
    out = d / "INDEX.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
