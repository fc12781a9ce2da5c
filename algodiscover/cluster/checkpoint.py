"""``--checkpoint DIR`` / ``--resume DIR``: a long cluster run that survives the client restarting.

The directory (every file written whole to a temporary name, then renamed: a crash never leaves half
a file)::

    DIR/checkpoint.json        {"format": "algodiscover.checkpoint/1", "engine", "shape", "rank", "seed",
                                "options", "version", "commit", "created", "updated", "tasks_done",
                                "spn": {"task_restarts", "done": [[j0, j1], ...], "next"}     (spn runs)
                                "flip": {"walkers", "segment_attempts"}}                      (flip runs)
    DIR/walkers/walker-NNN.json  the state of flip walker NNN after its last finished segment
                                 (``algodiscover.flip-walker/1``: the walk continues from it exactly)
    DIR/schemes/*.json         every proven scheme so far, in the algodiscover JSON format

Resuming re-proves every scheme in ``schemes/`` (they count towards ``--count`` and are not reported
again), reruns the SPN restart ranges not finished and continues every flip walker from its state.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

from ..errors import AlgoDiscoverError

FORMAT = "algodiscover.checkpoint/1"
MANIFEST = "checkpoint.json"


class CheckpointError(AlgoDiscoverError, ValueError):
    """A checkpoint directory that cannot be written, read or resumed as asked."""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json(path: Path, obj) -> None:
    """Write whole, then rename (the flip engine's own checkpoint writer: one DIR format, one writer)."""
    from ..search.flip import _write_json
    _write_json(Path(path), obj)


def merge_ranges(ranges) -> list[list[int]]:
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


class Checkpoint:
    """An open checkpoint directory: ``create`` a new one or ``open`` one to resume."""

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest

    # ---- opening
    @classmethod
    def create(cls, path, manifest: dict) -> "Checkpoint":
        p = Path(path)
        if (p / MANIFEST).exists():
            raise CheckpointError(f"{p} already holds a checkpoint; continue it with --resume {p} "
                                  f"(or choose an empty directory)")
        try:
            (p / "schemes").mkdir(parents=True, exist_ok=True)
            (p / "walkers").mkdir(exist_ok=True)
        except OSError as e:
            raise CheckpointError(f"cannot create the checkpoint directory {p}: {e.strerror or e}") from None
        m = {"format": FORMAT, **manifest, "created": _now(), "updated": _now(), "tasks_done": 0}
        ck = cls(p, m)
        ck.save()
        return ck

    @classmethod
    def open(cls, path) -> "Checkpoint":
        p = Path(path)
        f = p / MANIFEST
        if not f.exists():
            raise CheckpointError(f"{p} holds no checkpoint ({MANIFEST} missing); start one with --checkpoint {p}")
        try:
            m = json.loads(f.read_text())
        except (OSError, ValueError) as e:
            raise CheckpointError(f"cannot read the checkpoint {f}: {e}") from None
        if not isinstance(m, dict) or m.get("format") != FORMAT:
            raise CheckpointError(f"{f} is not an algodiscover checkpoint (format {m.get('format') if isinstance(m, dict) else None!r})")
        (p / "schemes").mkdir(exist_ok=True)
        (p / "walkers").mkdir(exist_ok=True)
        return cls(p, m)

    def check_matches(self, engine: str, shape, rank: int, seed) -> None:
        m = self.manifest
        want = {"engine": engine, "shape": list(shape), "rank": int(rank)}
        for k, v in want.items():
            if m.get(k) != v:
                raise CheckpointError(f"the checkpoint in {self.path} is a run with {k} {m.get(k)!r}, "
                                      f"not {v!r}; resume it with the same --engine, --shape and --rank")
        if seed is not None and m.get("seed") != seed:
            raise CheckpointError(f"the checkpoint in {self.path} has seed {m.get('seed')}, not {seed}; "
                                  f"leave --seed out to resume it")

    # ---- writing
    def save(self) -> None:
        self.manifest["updated"] = _now()
        try:
            write_json(self.path / MANIFEST, self.manifest)
        except OSError as e:
            raise CheckpointError(f"cannot write the checkpoint {self.path / MANIFEST}: {e.strerror or e}") from None

    def add_scheme(self, scheme, key: str) -> None:
        from ..formats.json_format import dump
        s = scheme.shape
        f = self.path / "schemes" / f"{s.m}x{s.k}x{s.n}-r{scheme.rank}-{key[:16]}.json"
        if f.exists():
            return
        tmp = f.with_name(f".{f.name}.tmp")
        tmp.write_text(dump(scheme))
        os.replace(tmp, f)

    def save_walker(self, index: int, state: dict) -> None:
        write_json(self.path / "walkers" / f"walker-{index:03d}.json", state)

    # ---- reading
    def schemes(self):
        """The schemes saved so far, each re-read and re-proven (a file that fails is skipped)."""
        from ..formats import load
        out = []
        for f in sorted((self.path / "schemes").glob("*.json")):
            try:
                out.append(load(f))
            except AlgoDiscoverError:
                continue
        return out

    def walkers(self) -> dict[int, dict]:
        out = {}
        for f in sorted((self.path / "walkers").glob("walker-*.json")):
            try:
                out[int(f.stem.split("-")[1])] = json.loads(f.read_text())
            except (OSError, ValueError, IndexError) as e:
                raise CheckpointError(f"cannot read the walker state {f}: {e}") from None
        return out
