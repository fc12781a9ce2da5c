"""``discover``: search for a proven algorithm for <m,k,n> with a budget of r multiplications."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from ..core.bounds import lower_bound
from ..core.canonical import canonical_key, normalize_signs
from ..core.scheme import Scheme
from ..core.shape import parse_shape
from ..core.verify import verify
from ..errors import FormatError, RankError
from ..search import Budget, Progress, engine_names, run_search
from .output import ProgressLine, render_scheme

DESCRIPTION = "Search for a proven bilinear algorithm for the shape with at most --rank multiplications."

# engine-specific options: passed to the engine only when given on the command line
ENGINE_OPTIONS = ("batch", "steps", "data", "strategy", "coefficients", "workers", "ring", "start", "init",
                  "plateau", "restart_after", "pool_size", "climb", "nicer", "grow", "checkpoint", "resume")


def add_arguments(p) -> None:
    p.add_argument("--shape", required=True, help="matrix shape m x k x n, e.g. 2x2x2 or 2,3,4 (any order)")
    p.add_argument("--rank", required=True, type=_int_arg("rank"), help="number of multiplications r")
    p.add_argument("--engine", default="spn", help=f"search engine (default spn; available: {', '.join(engine_names())})")
    p.add_argument("--seed", type=_int_arg("seed", minimum=0), default=None, help="random seed (same seed, same result)")
    p.add_argument("--restarts", type=_int_arg("restarts", minimum=1), default=None, help="stop after this many restarts")
    p.add_argument("--time-limit", type=_float_arg("time-limit"), default=None, help="stop after this many wall-clock seconds")
    p.add_argument("--count", type=_int_arg("count", minimum=1), default=1, help="stop after this many distinct proven schemes (default 1)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--out", default=None, help="write the scheme to FILE.json, or one file per distinct scheme into DIR/")
    p.add_argument("--format", default="text", choices=["text", "json", "latex"], help="how to print the result")
    p.add_argument("--force", action="store_true", help="allow a rank below the proven lower bound")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.add_argument("--plot", default=None, metavar="FILE", help="save the training curves (SPN engine) to FILE.png/.svg/.pdf")
    p.add_argument("--db", default=None, metavar="PATH", help="catalogue to add proven schemes to (default: $ALGODISCOVER_DB or the user's data directory)")
    p.add_argument("--no-catalog", action="store_true", help="do not add proven schemes to the catalogue")
    g = p.add_argument_group("SPN engine (StrassenNets)")
    g.add_argument("--batch", type=_int_arg("batch", minimum=1), default=None, help="restarts trained at once")
    g.add_argument("--steps", type=_int_arg("steps", minimum=1), default=None, help="optimisation steps per restart")
    g.add_argument("--data", choices=["random", "exhaustive"], default=None, help="training data (default exhaustive)")
    g.add_argument("--strategy", default=None, help="training schedule name")
    g.add_argument("--coefficients", choices=["ternary", "integer", "half"], default=None, help="coefficient set")
    g.add_argument("--workers", type=_int_arg("workers", minimum=1), default=None,
                   help="processes on the CPU (default all cores; spn: all cores from m*k*n = 24, else 1)")
    g = p.add_argument_group("flip-graph engine")
    g.add_argument("--ring", choices=["Z", "Z2"], default=None, help="goal ring (default Z)")
    g.add_argument("--start", default=None, help="start from this scheme file")
    g.add_argument("--init", choices=["mixed", "standard", "strassen"], default=None,
                   help="start without --start: standard algorithm, Strassen on 2x2x2 blocks, or mixed (default)")
    g.add_argument("--plateau", type=_int_arg("plateau", minimum=1), default=None,
                   help="flips without a reduction before a plus transition (default 1000)")
    g.add_argument("--restart-after", type=_int_arg("restart-after", minimum=1), default=None,
                   help="flips without a new best rank before a walker restarts from a pool (default 100000)")
    g.add_argument("--pool-size", type=_int_arg("pool-size", minimum=1), default=None,
                   help="schemes kept per rank level (default 16)")
    g.add_argument("--climb", type=_int_arg("climb", minimum=0), default=None,
                   help="plus transitions may raise the rank this far above the best level (default 1)")
    g.add_argument("--grow", type=_int_arg("grow", minimum=0), default=None,
                   help="flip: walks grow by --restart-after for every GROW restarts without a new best rank "
                        "(default 8; 0: fixed length)")
    g.add_argument("--nicer", type=_int_arg("nicer", minimum=0), default=None, metavar="N",
                   help="flip: after a scheme lifts, try N more at that rank and report the nicest "
                        "(ZT over Z over Q, then fewer nonzeros; default 0)")
    g.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="flip: write walker states and proven schemes to DIR every few seconds")
    g.add_argument("--resume", default=None, metavar="DIR", help="flip: continue the search checkpointed in DIR")


def _int_arg(name, minimum=None):
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise _ArgError(f"--{name} must be an integer, got {text!r}") from None
        if minimum is not None and v < minimum:
            raise _ArgError(f"--{name} must be at least {minimum}, got {v}")
        return v
    conv.__name__ = name
    return conv


def _float_arg(name):
    def conv(text):
        try:
            v = float(text)
        except ValueError:
            raise _ArgError(f"--{name} must be a number of seconds, got {text!r}") from None
        if not v > 0 or v != v or v == float("inf"):
            raise _ArgError(f"--{name} must be a positive number of seconds, got {text!r}")
        return v
    conv.__name__ = name
    return conv


_ArgError = argparse.ArgumentTypeError


def register(sub) -> None:
    p = sub.add_parser("discover", help="search for a proven algorithm", description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(func=run)


class _Writer:
    """Writes proven schemes as soon as they are found: one file, or one file per scheme in a directory."""

    def __init__(self, out: str | None, shape):
        self.dir = None
        self.file = None
        if out is None:
            return
        path = Path(out)
        if out.endswith(("/", "\\")) or path.is_dir():
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise FormatError(f"cannot create output directory {out}: {e.strerror or e}") from None
            self.dir = path
        else:
            if not path.parent.exists():
                raise FormatError(f"cannot write {out}: directory {path.parent} does not exist")
            self.file = path
        self.shape = shape
        self.best_adds = None

    def write(self, scheme: Scheme, key: str) -> Path | None:
        from ..formats import save
        if self.dir is not None:
            s = scheme.shape
            return save(scheme, self.dir / f"{s.m}x{s.k}x{s.n}-r{scheme.rank}-{key[:12]}.json")
        if self.file is not None:
            adds = scheme.additions_naive
            if self.best_adds is None or adds < self.best_adds:  # keep the sparsest one found
                self.best_adds = adds
                return save(scheme, self.file)
        return None


class _Stopper:
    """SIGINT/SIGTERM ask the search to stop cleanly; a second SIGINT interrupts at once."""

    def __init__(self):
        self.requested = False
        self._old = {}

    def __call__(self) -> bool:
        return self.requested

    def _handler(self, signum, frame):
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not in the main thread
                pass
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


def run(args) -> int:
    shape = parse_shape(args.shape)
    rank = args.rank
    if rank <= 0:
        raise RankError(f"rank must be positive, got {rank}")
    lb = lower_bound(shape)
    if rank < lb and not args.force:
        raise RankError(f"rank {rank} is below the proven lower bound {lb} for {shape.angle()} (use --force to search anyway)")
    if args.engine not in engine_names():  # clear error before anything else; the module loads later
        from ..errors import EngineNotFound
        raise EngineNotFound(f"unknown engine {args.engine!r}; available: {', '.join(engine_names())}")
    from ..search.device import resolve_device
    device = resolve_device(args.device)
    writer = _Writer(args.out, shape)
    if args.plot:
        from ..render.plots import check_plot_path
        check_plot_path(args.plot)
    out = sys.stdout
    from ..catalog import CatalogWriter
    catalog = None if args.no_catalog else CatalogWriter(args.db)  # batched; failures are warnings
    try:
        return _run(args, shape, rank, device, writer, catalog, out)
    finally:
        if catalog is not None:
            catalog.close()  # flushes what is pending, also after Ctrl-C
            if catalog.added and not args.quiet:
                print(f"catalogue {catalog.path}: {catalog.added} new scheme(s), {catalog.duplicates} already known",
                      file=sys.stderr)


def _run(args, shape, rank, device, writer, catalog, out) -> int:
    if rank >= shape.naive_rank:
        print(f"rank {rank} >= m*k*n = {shape.naive_rank}: the standard algorithm already fits the budget", file=sys.stderr)
        std = Scheme.standard(shape).with_provenance(engine="standard")
        verify(std)
        writer.write(std, canonical_key(std))
        if catalog is not None:
            catalog.add(std)
        print(render_scheme(std, args.format), file=out)
        return 0

    options = {k: getattr(args, k) for k in ENGINE_OPTIONS if getattr(args, k, None) is not None}
    curves = [] if args.plot and args.engine == "spn" else None
    if curves is not None:
        options["curves"] = curves
    elif args.plot:
        print(f"--plot: the {args.engine} engine records no training curves; no plot written", file=sys.stderr)
    budget = Budget(restarts=args.restarts, time_limit=args.time_limit, count=args.count)
    progress = ProgressLine(enabled=not args.quiet and sys.stderr.isatty())
    seen: dict[str, Scheme] = {}
    last: list[Progress] = []
    stopper = _Stopper()

    def on_progress(p: Progress):
        last[:] = [p]
        progress.update(p, distinct=len(seen))

    def stop() -> bool:
        return stopper() or len(seen) >= args.count

    first_printed = False
    t0 = time.monotonic()
    interrupted = False
    with stopper:
        try:
            search = run_search(args.engine, shape, rank, seed=args.seed, budget=budget, device=device,
                                on_progress=on_progress, stop=stop, **options)
            for scheme in search:
                scheme = normalize_signs(scheme)  # same algorithm, signs moved to the outputs
                v = verify(scheme, symbolic=False)  # engines verify; this is the CLI's own guard
                if not v.ok and not (v.ring == "Z2" and options.get("ring") == "Z2"):
                    continue
                key = canonical_key(scheme)
                if key in seen:
                    continue
                seen[key] = scheme
                writer.write(scheme, key)
                if catalog is not None:
                    catalog.add(scheme.with_provenance(**{k: v for k, v in (
                        ("engine", args.engine), ("seed", args.seed), ("strategy", options.get("strategy")),
                        ("seconds", round(time.monotonic() - t0, 3)))
                        if v is not None and k not in scheme.provenance}))
                if not first_printed:
                    verify(scheme)  # the sympy cross-check too, for small schemes
                    progress.clear()
                    print(render_scheme(scheme, args.format), file=out)
                    out.flush()
                    first_printed = True
                if len(seen) >= args.count:
                    break
        except KeyboardInterrupt:
            interrupted = True
    progress.clear()
    interrupted = interrupted or stopper.requested
    elapsed = time.monotonic() - t0
    if curves is not None:
        from ..render.plots import plot_training_curves
        try:
            plot_training_curves(curves, args.plot, title=f"SPN training curves: {shape.angle()}, rank {rank}")
            print(f"training curves ({len(curves)} snapshots) written to {args.plot}", file=sys.stderr)
        except FormatError as e:  # the search result stands; only the plot is lost
            print(f"--plot: {e}", file=sys.stderr)
    if seen:
        where = f"; written to {args.out}" if args.out else ""
        msg = f"proven {len(seen)} distinct scheme(s) for {shape.angle()} of rank {rank} in {elapsed:.1f} s{where}"
        if interrupted:
            msg += " (interrupted; everything proven so far is kept)"
        print(msg, file=sys.stderr)
        return 0
    best = last[0].best_residual if last else None
    best_s = f"{best:.3g}" if isinstance(best, (int, float)) else "n/a"
    why = "interrupted" if interrupted else "budget ended"
    where = _best_effort(locals().get("search"), args, shape, rank)
    if where is not None:  # engines that walk down ranks (flip) say how far they got
        print(f"no proven scheme for {shape.angle()} of rank {rank}: {why} after {elapsed:.1f} s; {where}",
              file=sys.stderr)
        return 1
    print(f"no proven scheme for {shape.angle()} of rank {rank}: {why} after {elapsed:.1f} s; best residual {best_s}",
          file=sys.stderr)
    return 1


def _best_effort(search, args, shape, rank) -> str | None:
    """A missed target: an engine's iterator may expose ``stats["best_rank"]`` (mod 2), ``stats["levels"]``
    (seconds to each rank), ``best_above_target`` (the best proven scheme above the rank asked, its provenance
    with ``target_rank`` and ``above_target``) and ``best_modular`` (labelled Z2).  With --out they are written
    beside the asked file (FILE, FILE with suffix .z2.json) or as DIR/best-above-target.json and
    DIR/best-modular-z2.json.  Returns the sentence for the final message, or None when the engine has none."""
    stats = getattr(search, "stats", None)
    if not isinstance(stats, dict) or stats.get("best_rank") is None:
        return None
    above = getattr(search, "best_above_target", None)
    modular = getattr(search, "best_modular", None)
    levels = stats.get("levels") or {}
    text = f"best rank reached {stats['best_rank']} mod 2"
    if above is not None:
        text += f", best proven {above.rank} ({above.verify(symbolic=False).ring})"
    if levels:
        text += "; time to each rank: " + ", ".join(f"{k}: {v:.1f}s" for k, v in list(levels.items())[-6:])
    if stats.get("flips_per_s"):
        text += f"; {stats['flips_per_s']:.3g} flips/s"
    if args.out:
        from ..formats import save
        out = Path(args.out)
        if args.out.endswith(("/", "\\")) or out.is_dir():
            f_above, f_mod = out / "best-above-target.json", out / "best-modular-z2.json"
        else:
            f_above, f_mod = out, out.with_suffix(".z2.json")
        written = []
        if above is not None:
            save(above, f_above)
            written.append(f"{f_above} (rank {above.rank}, above the target)")
        if modular is not None:
            save(modular, f_mod)
            written.append(f"{f_mod} (rank {modular.rank}, valid mod 2 only)")
        if written:
            text += "; written " + " and ".join(written)
    return text
