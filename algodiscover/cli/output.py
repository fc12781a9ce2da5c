"""Shared output helpers for the CLI: scheme rendering and the terminal progress line."""

from __future__ import annotations

import sys
import time

from ..core.scheme import Scheme


def render_scheme(scheme: Scheme, fmt: str = "text") -> str:
    """The scheme as text formulas (with ring and metrics), JSON, or a LaTeX fragment."""
    if fmt == "json":
        from ..formats.json_format import dump
        return dump(scheme).rstrip("\n")
    if fmt == "latex":
        from ..render.latex import scheme_to_latex
        return scheme_to_latex(scheme, fragment=True)
    v = scheme.verify()
    lines = [scheme.to_text()]
    prov = scheme.provenance
    origin = f"engine {prov.get('engine', '?')}" + (f", seed {prov['seed']}" if "seed" in prov else "")
    lines.append(f"# {v.summary()}; {origin}")
    return "\n".join(lines)


class ProgressLine:
    """A single self-overwriting status line on stderr, only when it is a terminal."""

    def __init__(self, enabled: bool, interval: float = 0.2):
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def update(self, p, distinct: int | None = None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        parts = [f"[{p.engine}] {p.elapsed:6.1f}s", f"restarts {p.restarts_done}"]
        if p.best_residual is not None:
            parts.append(f"best residual {p.best_residual:.3g}")
        parts.append(f"proven {distinct if distinct is not None else p.proven}")
        for k, v in p.extra.items():
            parts.append(f"{k} {v}")
        line = "  ".join(parts)
        pad = max(self._width - len(line), 0)
        sys.stderr.write("\r" + line + " " * pad)
        sys.stderr.flush()
        self._width = len(line)

    def clear(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0
