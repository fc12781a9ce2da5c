"""Plots: SPN training curves (``discover --plot``) and best ranks against the bounds (``catalog best --plot``).

Both functions take plain Python data, write a file whose format matplotlib picks from the
suffix (.png, .svg, .pdf), and return the matplotlib Figure.  They never touch pyplot's global
state, so they work headless and inside notebooks alike.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..core.shape import parse_shape
from ..errors import FormatError

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
RESIDUAL_FLOOR = 1e-16  # residuals of exactly 0 are drawn here on the log axis


def check_plot_path(path) -> Path:
    """The path as a Path, or a FormatError naming what is wrong (bad suffix, missing directory)."""
    p = Path(path)
    if p.suffix.lower() not in PLOT_SUFFIXES:
        raise FormatError(f"cannot plot to {p.name!r}: expected a file ending in {', '.join(PLOT_SUFFIXES)}")
    if not p.parent.exists():
        raise FormatError(f"cannot write {p}: directory {p.parent} does not exist")
    if p.is_dir():
        raise FormatError(f"cannot write {p}: it is a directory")
    return p


def _save(fig, path, dpi: int = 150) -> None:
    """Save with reproducible SVG (no date, fixed ids) and PDF (no creation date) files."""
    import matplotlib
    p = Path(path)
    suffix = p.suffix.lower()
    metadata = {"Date": None} if suffix == ".svg" else {"CreationDate": None} if suffix == ".pdf" else None
    try:
        with matplotlib.rc_context({"svg.hashsalt": "algodiscover"}):
            fig.savefig(p, dpi=dpi, metadata=metadata)
    except OSError as e:
        raise FormatError(f"cannot write {p}: {e.strerror or e}") from None


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (int, float)):
        return [x]
    return [v for v in x]


def _finite(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def _series(curves):
    """(x, residual columns, quantized columns, batch starts) from the engine's snapshots.

    Each snapshot is ``{"step": int, "residual": [per restart], "quantized_fraction": [per restart]}``
    for the best few restarts, best first.  When ``step`` goes back (a new batch of restarts),
    the x axis continues from the previous batch's last step.
    """
    xs, res, quant, starts = [], [], [], []
    offset, last = 0, None
    for i, snap in enumerate(curves):
        if not isinstance(snap, dict):
            raise FormatError(f"curve snapshot {i} is not a dict with step/residual/quantized_fraction")
        step = snap.get("step", i)
        try:
            step = float(step)
        except (TypeError, ValueError):
            raise FormatError(f"curve snapshot {i}: step {step!r} is not a number") from None
        if last is not None and step + offset < last:
            offset = last
            starts.append(last)
            xs.append(last)  # a gap, so the lines of two batches are not joined
            res.append([])
            quant.append([])
        x = step + offset
        last = x
        xs.append(x)
        res.append([_finite(v) for v in _as_list(snap.get("residual"))])
        quant.append([_finite(v) for v in _as_list(snap.get("quantized_fraction"))])
    return xs, res, quant, starts


def _traces(curves):
    """Per-restart traces from the engine's points ``{"restart", "step", "residual",
    "quantized_fraction"[, "rounded", "proven"]}`` (one per optimisation step of a traced restart).

    Returns ``{restart: {"step": [...], "residual": [...], "quant": [...], "proven": [steps]}}`` in
    the order the restarts first appear."""
    out: dict = {}
    for i, pt in enumerate(curves):
        if not isinstance(pt, dict):
            raise FormatError(f"curve point {i} is not a dict with restart/step/residual/quantized_fraction")
        try:
            j, step = int(pt["restart"]), float(pt["step"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(f"curve point {i}: restart/step {pt.get('restart')!r}/{pt.get('step')!r} "
                              f"are not numbers") from None
        tr = out.setdefault(j, {"step": [], "residual": [], "quant": [], "proven": []})
        tr["step"].append(step)
        tr["residual"].append(_finite(pt.get("residual")))
        tr["quant"].append(_finite(pt.get("quantized_fraction")))
        if pt.get("proven"):
            tr["proven"].append((step, tr["residual"][-1], tr["quant"][-1]))
    return out


def _plot_traces(curves, path, title, max_lines):
    from matplotlib.figure import Figure

    traces = _traces(curves)
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax_r, ax_q = fig.subplots(2, 1, sharex=True)
    colors = ["#1b5e20", "#2c5d8f", "#b58900", "#6a1b9a", "#c0392b", "#555555"]
    any_res = False
    marked = False
    for i, (j, tr) in enumerate(list(traces.items())[:max_lines]):
        col = colors[i % len(colors)]
        ys = [max(r, RESIDUAL_FLOOR) if not math.isnan(r) else math.nan for r in tr["residual"]]
        if any(not math.isnan(y) for y in ys):
            any_res = True
        ax_r.plot(tr["step"], ys, lw=1.1, color=col, label=f"restart {j}")
        ax_q.plot(tr["step"], tr["quant"], lw=1.1, color=col, label=f"restart {j}")
        for (x, r, q) in tr["proven"]:
            kw = dict(marker="*", s=90, color=col, edgecolor="black", linewidths=0.5, zorder=5)
            if not marked:
                kw["label"] = "proven (exact)"
                marked = True
            ax_r.scatter([x], [max(r, RESIDUAL_FLOOR) if not math.isnan(r) else RESIDUAL_FLOOR], **kw)
            kw.pop("label", None)
            ax_q.scatter([x], [q if not math.isnan(q) else 1.0], **kw)
    if any_res:
        ax_r.set_yscale("log")
    ax_r.set_ylabel("residual ‖Σ a⊗b⊗c − T‖²")
    ax_q.set_ylabel("quantized fraction")
    ax_q.set_ylim(-0.03, 1.03)
    ax_q.set_xlabel("optimisation step of the restart")
    if traces:
        ax_r.legend(fontsize=8, loc="upper right", ncol=min(len(traces) + marked, 3))
    else:
        for ax in (ax_r, ax_q):
            ax.text(0.5, 0.5, "no training curve recorded", transform=ax.transAxes, ha="center",
                    va="center", color="#777777")
    ax_r.grid(True, which="major", alpha=0.3)
    ax_q.grid(True, alpha=0.3)
    fig.suptitle(title or "SPN training curves (traced restarts; * = proven)", fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig


def plot_training_curves(curves, path=None, *, title: str | None = None, max_lines: int = 5):
    """Residual (log scale) and quantized fraction over steps.

    ``curves``: the list the SPN engine appends to: one point per optimisation step of each traced
    restart (see :func:`_traces`), drawn as one line per restart with a star where it was proven;
    or per-check snapshots of the best few restarts (see :func:`_series`).  Line i is the
    i-th best restart at each snapshot.  Writes ``path`` when given; returns the Figure.
    """
    from matplotlib.figure import Figure

    if path is not None:
        check_plot_path(path)
    curves = list(curves or [])
    if curves and all(isinstance(c, dict) and "restart" in c for c in curves):
        return _plot_traces(curves, path, title, max_lines)  # the engine's per-step traces
    xs, res, quant, starts = _series(curves)
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax_r, ax_q = fig.subplots(2, 1, sharex=True)
    nlines = min(max_lines, max((len(r) for r in res), default=0))
    colors = ["#1b5e20", "#2c5d8f", "#b58900", "#6a1b9a", "#c0392b", "#555555"]
    any_res = False
    marker = dict(marker="o", markersize=3) if len(xs) <= 20 else {}  # a few points: show them
    for i in range(nlines):
        label = "best restart" if i == 0 else f"#{i + 1}"
        ys = [max(r[i], RESIDUAL_FLOOR) if i < len(r) and not math.isnan(r[i]) else math.nan for r in res]
        if any(not math.isnan(y) for y in ys):
            any_res = True
            ax_r.plot(xs, ys, lw=1.4 if i == 0 else 0.9, color=colors[i % len(colors)], label=label, **marker)
        qs = [q[i] if i < len(q) else math.nan for q in quant]
        if any(not math.isnan(y) for y in qs):
            ax_q.plot(xs, qs, lw=1.4 if i == 0 else 0.9, color=colors[i % len(colors)], label=label, **marker)
    if any_res:
        ax_r.set_yscale("log")
    ax_r.set_ylabel("residual ‖Σ a⊗b⊗c − T‖²")
    ax_q.set_ylabel("quantized fraction")
    ax_q.set_ylim(-0.03, 1.03)
    ax_q.set_xlabel("optimisation step")
    for x in starts:
        for ax in (ax_r, ax_q):
            ax.axvline(x, color="#999999", lw=0.6, ls=":")
    if nlines:
        ax_r.legend(fontsize=8, loc="upper right", ncol=min(nlines, 3))
    else:
        for ax in (ax_r, ax_q):
            ax.text(0.5, 0.5, "no training curve recorded", transform=ax.transAxes, ha="center",
                    va="center", color="#777777")
    ax_r.grid(True, which="major", alpha=0.3)
    ax_q.grid(True, alpha=0.3)
    fig.suptitle(title or "SPN training curves (best restarts)", fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig


def _opt_int(row, key, i):
    v = row.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise FormatError(f"row {i}: {key} must be an integer or None, got {v!r}")
    return int(v)


def plot_best_ranks(rows, path=None, *, title: str | None = None):
    """Per shape: the catalogue's best rank beside the best known rank, the lower bound and m·k·n.

    ``rows``: dicts with keys ``shape`` (anything ``parse_shape`` accepts), ``catalog_rank``,
    ``best_known`` and ``lower_bound`` (integers or None).  Writes ``path`` when given; returns the Figure.
    """
    from matplotlib.figure import Figure

    if path is not None:
        check_plot_path(path)
    rows = list(rows or [])
    data = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "shape" not in row:
            raise FormatError(f"row {i} is not a dict with a 'shape' key")
        s = parse_shape(row["shape"])
        data.append((s, _opt_int(row, "catalog_rank", i), _opt_int(row, "best_known", i),
                     _opt_int(row, "lower_bound", i)))
    n = len(data)
    fig = Figure(figsize=(max(5.0, 0.62 * n + 2.2), 4.6), layout="constrained")
    ax = fig.add_subplot()
    xs = list(range(n))
    for x, (s, cat, best, lb) in zip(xs, data):
        if lb is not None and best is not None:
            ax.plot([x, x], [lb, best], color="#bbbbbb", lw=5, solid_capstyle="butt", zorder=1)
    series = [
        ("m·k·n (schoolbook)", [s.naive_rank for s, *_ in data], dict(marker="_", color="#777777", s=160)),
        ("lower bound", [lb for *_, lb in data], dict(marker="^", color="#c0392b", s=42)),
        ("best known", [best for _, _, best, _ in data], dict(marker="*", color="#2c5d8f", s=80)),
        ("catalogue", [cat for _, cat, _, _ in data], dict(marker="o", facecolors="none",
                                                             edgecolors="#1b5e20", s=70, linewidths=1.5)),
    ]
    for label, ys, kw in series:
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=label, zorder=3, **kw)
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{s.m}×{s.k}×{s.n}" for s, *_ in data], rotation=45 if n > 8 else 0,
                       ha="right" if n > 8 else "center")
    ax.set_xlim(-0.7, max(n - 1, 0) + 0.7)
    ax.set_ylabel("rank (multiplications)")
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ranks = [y for _, ys, _ in series for y in ys if y is not None]
    if ranks and max(ranks) / max(min(ranks), 1) > 20:
        ax.set_yscale("log")
    if not data:
        ax.text(0.5, 0.5, "no shapes", transform=ax.transAxes, ha="center", va="center", color="#777777")
    else:
        ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(title or "Best rank per shape: catalogue vs. literature (grey bar: open gap)", fontsize=10)
    if path is not None:
        _save(fig, path)
    return fig
