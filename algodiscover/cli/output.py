"""Shared output helpers for the CLI: scheme rendering and the terminal progress line."""

from __future__ import annotations

import sys
import time

from pathlib import Path

from ..core.scheme import Scheme
from ..errors import FormatError

#: exit status when a command refuses a scheme that is not a proven algorithm (as ``verify`` does)
EXIT_NOT_PROVEN = 1


def check_new_file(path, force: bool = False, *, what: str = "--out") -> Path:
    """Refuse (FormatError, exit 2) to overwrite an existing file unless ``force``; the parent must exist.

    Every writer command of the CLI calls this before any work, so a typo never replaces a file
    silently and the message names the flag that allows it.
    """
    p = Path(path)
    if p.is_dir():
        raise FormatError(f"cannot write {what} {p}: it is a directory")
    if not p.parent.exists():
        raise FormatError(f"cannot write {p}: directory {p.parent} does not exist")
    if p.exists() and not force:
        raise FormatError(f"{p} already exists; use --force to overwrite it")
    return p


def not_proven_line(scheme: Scheme) -> str | None:
    """The loud first line for a scheme that is not an algorithm over Z/Q, else None.

    ``# NOT A VALID ALGORITHM: ring invalid (k Brent equations fail)`` for an invalid scheme,
    ``# VALID MOD 2 ONLY: not an integer algorithm (k Brent equations fail over Z)`` for a Z2 scheme.
    """
    v = scheme.verify()
    if v.ok:
        return None
    if v.ring in ("Z2", "Z3"):
        return f"# VALID MOD {v.ring[1]} ONLY: not an integer algorithm ({v.n_failures} Brent equations fail over Z)"
    return f"# NOT A VALID ALGORITHM: ring {v.ring} ({v.n_failures} Brent equations fail)"


def render_scheme(scheme: Scheme, fmt: str = "text") -> str:
    """The scheme as text formulas (with ring and metrics), JSON, or a LaTeX fragment."""
    if fmt == "json":
        from ..formats.json_format import dump
        return dump(scheme).rstrip("\n")
    if fmt == "latex":
        from ..render.latex import scheme_to_latex
        return scheme_to_latex(scheme, fragment=True)
    v = scheme.verify()
    mark = not_proven_line(scheme)
    lines = ([mark] if mark else []) + [scheme.to_text()]
    prov = scheme.provenance
    origin = f"engine {prov.get('engine', '?')}" + (f", seed {prov['seed']}" if "seed" in prov else "")
    lines.append(f"# {v.summary()}; {origin}")
    return "\n".join(lines)


#: engine-specific ``Progress.extra`` keys, shown under names that say what they count
EXTRA_LABELS = {
    "pool": "saved restart points",
    "unlifted": "mod-2 schemes not lifted to Z",
    "successes": "restarts proven",
    "rank": "walk rank",
    "flips/s": "flips/s",
    "workers": "workers",
}


def _fmt_seconds(x: float) -> str:
    if x < 60:
        return f"{x:.1f} s"
    m, sec = divmod(int(round(x)), 60)
    return f"{m // 60}:{m % 60:02d}:{sec:02d}" if m >= 60 else f"{m}:{sec:02d}"


def progress_fields(p, budget=None, distinct: int | None = None, *, proven_label: str = "proven"
                    ) -> list[tuple[str, str]]:
    """The contract fields of a :class:`~algodiscover.search.Progress` as (label, value) pairs.

    elapsed; budget left (time left from ``budget.time_limit``, restarts left from ``budget.restarts``, or
    "no limit"); units done (``p.unit``: restarts, walks, tasks); proven; best rank (when the engine
    reports one); best residual ("—" before any candidate was checked, never "inf"); rate; then the
    engine's extra figures under explained names (:data:`EXTRA_LABELS`).
    """
    import math
    out = [("elapsed", _fmt_seconds(max(p.elapsed, 0.0)))]
    limited = False
    if budget is not None and budget.time_limit is not None:
        out.append(("time left", _fmt_seconds(max(budget.time_limit - p.elapsed, 0.0))))
        limited = True
    if budget is not None and budget.restarts is not None:
        out.append((f"{p.unit} left", str(max(budget.restarts - p.restarts_done, 0))))
        limited = True
    if not limited:
        out.append(("budget", "no limit"))
    out.append((p.unit, str(p.restarts_done)))
    out.append((proven_label, str(distinct if distinct is not None else p.proven)))
    if p.best_rank is not None:
        out.append(("best rank", str(p.best_rank)))
    r = p.best_residual
    ok = isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r)
    out.append(("best residual", f"{r:.3g}" if ok else "—"))
    rate = p.rate
    if rate is None and p.elapsed > 0 and p.restarts_done:
        rate = p.restarts_done / p.elapsed
    out.append(("rate", f"{rate:.3g} {p.unit}/s" if rate else "—"))
    for k, v in (p.extra or {}).items():
        if k == "rank" and p.best_rank is not None:
            continue
        out.append((EXTRA_LABELS.get(k, str(k)), str(v)))
    return out


def progress_text(p, budget=None, distinct: int | None = None) -> str:
    return f"[{p.engine}] " + " · ".join(f"{k} {v}" for k, v in progress_fields(p, budget, distinct))


class ProgressDisplay:
    """The live progress display of a search (rich), on stderr, only on a terminal.

    Shows a bar when the budget has a bound (restarts, else time) and the contract fields of
    :func:`progress_fields`.  Disabled (nothing written at all) when stderr is not a terminal, with
    ``--quiet``, or ``enabled=False``; ``force=True`` draws it on any stream (tests).
    """

    def __init__(self, enabled: bool, budget=None, *, force: bool = False, file=None, interval: float = 0.25,
                 proven_label: str = "proven"):
        self.budget = budget
        self.proven_label = proven_label
        self.interval = interval
        self._file = file if file is not None else sys.stderr
        self.enabled = bool(enabled) and (force or _isatty(self._file))
        self._force = force
        self._progress = None
        self._task = None
        self._last = 0.0

    def _start(self):
        from rich.console import Console
        from rich.live import Live
        console = Console(file=self._file, force_terminal=True if self._force else None, highlight=False)
        self._progress = Live("", console=console, transient=True, auto_refresh=False,
                              redirect_stdout=False, redirect_stderr=False)
        self._progress.start()

    def renderable(self, p, distinct: int | None = None):
        """What the display shows for this snapshot: engine, a bar when the budget is bounded, the fields."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text
        b = self.budget
        total = completed = None
        if b is not None and b.restarts is not None:
            total, completed = b.restarts, min(p.restarts_done, b.restarts)
        elif b is not None and b.time_limit is not None:
            total, completed = b.time_limit, min(p.elapsed, b.time_limit)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        if total is not None:
            grid.add_column(width=16, no_wrap=True)
        grid.add_column(overflow="fold")
        status = Text(" · ".join(f"{k} {v}" for k, v in progress_fields(p, b, distinct,
                                                                         proven_label=self.proven_label)))
        cells = [Text(f"[{p.engine}]", style="bold")]
        if total is not None:
            cells.append(ProgressBar(total=float(total), completed=float(completed), width=16))
        grid.add_row(*cells, status)
        return grid

    def update(self, p, distinct: int | None = None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._progress is not None and now - self._last < self.interval:
            return
        self._last = now
        if self._progress is None:
            self._start()
        self._progress.update(self.renderable(p, distinct), refresh=True)

    def clear(self) -> None:
        """Remove the display (before printing a result); it comes back at the next update."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    close = clear


# the name the CLI used for its hand-drawn line; kept for code written against it
ProgressLine = ProgressDisplay


def _isatty(f) -> bool:
    try:
        return bool(f.isatty())
    except (AttributeError, ValueError):
        return False
