"""``discover``: search for a proven algorithm for <m,k,n> with a budget of r multiplications."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from ..core.bounds import lower_bound
from ..core.canonical import canonical_key, normalize_signs
from ..core.scheme import Scheme
from ..core.shape import parse_shape
from ..core.verify import verify
from ..errors import FormatError, RankError, ShapeError
from ..search import Budget, Progress, engine_names, run_search
from .output import ProgressDisplay, check_new_file, render_scheme

DESCRIPTION = "Search for a proven bilinear algorithm for the shape with at most --rank multiplications."

# engine-specific options: passed to the engine only when given on the command line
ENGINE_OPTIONS = ("batch", "steps", "data", "strategy", "coefficients", "workers", "ring", "start", "init",
                  "symmetry", "field", "cubes", "plateau", "restart_after", "pool_size", "climb", "nicer", "grow",
                  "checkpoint", "resume", "policy", "kernel", "max_weight", "weight_bias", "lift_guard",
                  "ternary")


DEFAULTS_LINE = ("defaults: --seed: random (drawn, printed and recorded in each scheme's provenance, so the run can "
                 "be repeated); --time-limit: none; --restarts: none; --count: 1 (stop at the first proven scheme); "
                 "--engine: spn; --device: cpu.")


def add_arguments(p) -> None:
    p.add_argument("--shape", default=None, help="matrix shape m x k x n, e.g. 2x2x2 or 2,3,4 (any order); required "
                                                 "unless --replay")
    p.add_argument("--rank", default=None, type=_int_arg("rank"),
                   help="number of multiplications r (schemes of a lower rank are kept too, and said so); required "
                        "unless --replay")
    p.add_argument("--engine", default="spn", help=f"search engine (default spn; available: {', '.join(engine_names())})")
    p.add_argument("--seed", type=_int_arg("seed", minimum=0), default=None,
                   help="random seed (default: random, drawn, printed and recorded; the same seed and options "
                        "give the same result)")
    p.add_argument("--restarts", type=_int_arg("restarts", minimum=1), default=None,
                   help="stop after this many restarts (flip: walks) (default: no limit)")
    p.add_argument("--time-limit", type=_float_arg("time-limit"), default=None,
                   help="stop after this many wall-clock seconds (default: no limit)")
    p.add_argument("--count", type=_int_arg("count", minimum=1), default=1,
                   help="stop after this many distinct proven schemes (default 1; more than 1 needs --out DIR/)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--out", default=None,
                   help="write the scheme to FILE (.json, .exp, .m, .npz, .txt, ...; with --count 1), or one file per "
                        "distinct scheme into DIR/ (files already there are kept)")
    p.add_argument("--format", default="text", choices=["text", "json", "latex"], help="how to print the result (default text)")
    p.add_argument("--force", action="store_true",
                   help="search below the proven lower bound; overwrite an existing --out FILE or --plot FILE")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display (it is shown only on a terminal)")
    p.add_argument("--plot", default=None, metavar="FILE", help="save the training curves (SPN engine) to FILE.png/.svg/.pdf")
    p.add_argument("--db", default=None, metavar="PATH", help="catalogue to add proven schemes to (default: $ALGODISCOVER_DB or the user's data directory)")
    p.add_argument("--no-catalog", action="store_true", help="do not add proven schemes to the catalogue")
    p.add_argument("--replay", default=None, metavar="FILE",
                   help="re-run the search recorded in FILE's provenance; exit 0 when it finds the same scheme "
                        "(canonical key), 1 another, 2 when it cannot be replayed (the reason is printed)")
    g = p.add_argument_group("SPN engine (StrassenNets)")
    g.add_argument("--batch", type=_int_arg("batch", minimum=1), default=None, help="restarts trained at once (default: the strategy's)")
    g.add_argument("--steps", type=_int_arg("steps", minimum=1), default=None, help="optimisation steps per restart (default: the strategy's)")
    g.add_argument("--data", choices=["random", "exhaustive"], default=None, help="training data (default exhaustive)")
    g.add_argument("--strategy", default=None, metavar="NAME[:key=value,...]",
                   help="training schedule (default: 'default'); the names and keys are listed at the end of --help")
    g.add_argument("--coefficients", choices=["ternary", "integer", "half"], default=None, help="coefficient set (default ternary)")
    g.add_argument("--workers", type=_int_arg("workers", minimum=1), default=None,
                   help="processes on the CPU (default, both engines: all cores from m*k*n = 24, else 1)")
    g = p.add_argument_group("flip-graph engine")
    g.add_argument("--ring", choices=["Z", "Z2", "Z3"], default=None,
                   help="goal ring (default Z: lift and prove; Z2/Z3: stop at the scheme mod 2/mod 3)")
    g.add_argument("--start", default=None, help="start from this scheme file")
    g.add_argument("--init", choices=["mixed", "standard", "strassen", "symmetric"], default=None,
                   help="start without --start: standard algorithm, Strassen on 2x2x2 blocks, or mixed (default); "
                        "symmetric: diagonal cubes (the start of --symmetry)")
    g.add_argument("--symmetry", choices=["none", "c3", "s3", "z6", "t2"], default=None,
                   help="square shapes: walk only schemes invariant under the cyclic symmetry (c3), the order-6 "
                        "group with transposition (s3; even n) or cyclic x reversal (z6); shapes <m,k,m>: the twisted "
                        "transposition (t2, from the standard algorithm); default none")
    g.add_argument("--field", type=int, choices=[2, 3], default=None,
                   help="where the walk runs: GF(2) (default) or GF(3) (reaches schemes with 1/2)")
    g.add_argument("--max-weight", type=_int_arg("max-weight", minimum=0), default=None, metavar="N",
                   help="--field 3: refuse a flip that gives a factor more than N nonzero entries (default 0: no "
                        "limit); sparse factors coincide more often, so the walk finds more reductions")
    g.add_argument("--weight-bias", type=float, default=None, metavar="B",
                   help="--field 3: accept a flip that adds d > 0 nonzero entries to the two factors it changes "
                        "with probability exp(-B*d) only (default 0: always)")
    g.add_argument("--ternary", action="store_true", default=None,
                   help="--field 3 (indexed kernel): the ZT walk: moves that would make a coefficient +-2 over the "
                        "integers are not made, so every scheme visited is valid over Z with coefficients -1, 0, 1 "
                        "(no lifting); needs a ZT start (the standard algorithm, Strassen blocks or a ZT file)")
    g.add_argument("--cubes", default=None, metavar="BITS",
                   help="diagonal cubes of --symmetry, e.g. 10001,01010,00100 (default: index pairs i, n-1-i)")
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
    g.add_argument("--lift-guard", type=_int_arg("lift-guard", minimum=0), default=None, metavar="K",
                   help="flip, --ring Z: a new best rank at most K above --rank counts only when its scheme lifts "
                        "to the integers, else the walk goes back to one that did (default 0: off)")
    g.add_argument("--policy", choices=("walk", "pool"), default=None,
                   help="flip: walk (one walker at its best level, default) or pool (descent level by level from "
                        "a pool of schemes; unset --plateau/--restart-after/--pool-size then default to "
                        "50000/1000000/64)")
    g.add_argument("--kernel", type=int, choices=(1, 2, 3, 4), default=None,
                   help="flip: the kernel walk version (default by shape: 1 below m*k*n = 100, else 2; 2 and 3 "
                        "make a plus transition at once on a scheme with no flippable pair instead of waiting "
                        "out --plateau, which matters on rigid schemes such as the Strassen square of <4,4,4>:49; "
                        "4: plus transitions up to --climb above the best level at once there); with --field 3: "
                        "1 = scan walk, 2 = indexed walk (default where m*k, k*n, m*n <= 32)")
    add_cluster_arguments(p)
    p.help_hooks = [_help_epilog]  # filled in when --help is formatted (cli.ArgumentParser.format_help)


def strategy_help() -> str:
    """The SPN strategy names and their keys, read from the registry (torch-free) when --help is asked."""
    import textwrap
    from dataclasses import fields
    from ..search import spn_strategies as st
    names = sorted(st.STRATEGIES)
    keys = [f.name for f in fields(st.Strategy) if f.name != "name"]
    wrap = lambda text: textwrap.fill(text, width=100, subsequent_indent="  ", break_on_hyphens=False)  # noqa: E731
    return "\n".join([
        wrap(f"SPN strategies (--strategy NAME or NAME:key=value,...): {', '.join(names)}, default "
             f"(= {st.DEFAULT_STRATEGY} up to m*k*n = {st.SMALL}, {st.DEFAULT_ROUND} from m*k*n = {st.ROUND_FROM}, "
             f"else {st.DEFAULT_LARGE})."),
        wrap(f"strategy keys: {', '.join(keys)}."),
        wrap("example: --strategy als:repair=0,steps=500"),
    ])


def _help_epilog(parser) -> None:
    import textwrap
    if getattr(parser, "_epilog_done", False):
        return
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parts = [textwrap.fill(DEFAULTS_LINE, width=100, subsequent_indent="  ")]
    try:
        parts.append(strategy_help())
    except ImportError as e:  # pragma: no cover - a broken installation
        parts.append(f"(SPN strategies unavailable: {e})")
    parts.append(textwrap.fill("progress (drawn on a terminal only, never when piped): elapsed time; time left and "
                               "restarts left of the budget; restarts done (flip: walks); schemes proven; best rank "
                               "reached (flip); best residual of a rounded candidate not yet proven ('—' before the "
                               "first); rate; engine figures such as 'saved restart points' (flip: schemes kept per "
                               "rank level to restart from) and 'mod-2 schemes not lifted to Z' (flip: Hensel "
                               "lifting failed).", width=100, subsequent_indent="  ", break_on_hyphens=False))
    parts.append(textwrap.fill("exit status: 0 a scheme was proven (over ZT/Z/Q; with --ring Z2/Z3: valid mod 2/3 only); "
                               "1 the budget ended without one; 2 bad input; 3 internal error.", width=100,
                               subsequent_indent="  "))
    parser.epilog = "\n\n".join(parts)
    parser._epilog_done = True


def add_cluster_arguments(p) -> None:
    """--cluster, --checkpoint, --resume (issue 15: Dask clusters and resumable runs)."""
    g = p.add_argument_group("cluster (Dask)")
    g.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="run the search's tasks on a Dask cluster: tcp://host:8786, host:8786, or local:N "
                        "(a LocalCluster of N one-thread processes); needs pip install 'algodiscover[cluster]'")
    g.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="keep the run's state in DIR every few seconds (walker states, finished tasks, proven "
                        "schemes; flip locally, or any engine with --cluster)")
    g.add_argument("--resume", default=None, metavar="DIR", help="continue the run checkpointed in DIR (same DIR format locally and on a cluster)")


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
    p = sub.add_parser("discover", help="search for a proven algorithm", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


class _Writer:
    """Writes proven schemes as soon as they are found: one file (the one printed), or one file per scheme in a
    directory.  Everything about the target is checked before the search starts."""

    def __init__(self, out: str | None, shape, *, count: int = 1, force: bool = False):
        self.dir = None
        self.file = None
        self.kept = 0  # DIR/: files already there (same canonical key: the same algorithm) left as they were
        self.force = force
        if out is None:
            return
        path = Path(out)
        if out.endswith(("/", "\\")) or path.is_dir():
            if path.exists() and not path.is_dir():
                raise FormatError(f"--out {out}: {path} is a file, not a directory")
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise FormatError(f"cannot create output directory {out}: {e.strerror or e}") from None
            self.dir = path
        else:
            if count > 1:
                raise FormatError(f"--count {count} with --out {out}: a file holds one scheme; use a directory, "
                                  f"--out {out.rsplit('.', 1)[0] if '.' in Path(out).name else out}/ "
                                  f"(one file per distinct scheme)")
            from ..formats import output_format
            output_format(path, None)  # an unknown suffix is bad input now, not after the search
            check_new_file(path, force)
            self.file = path

    def write(self, scheme: Scheme, key: str) -> Path | None:
        from ..formats import save
        if self.dir is not None:
            s = scheme.shape
            target = self.dir / f"{s.m}x{s.k}x{s.n}-r{scheme.rank}-{key[:12]}.json"
            if target.exists() and not self.force:
                self.kept += 1
                return None
            return save(scheme, target)
        if self.file is not None:  # --count 1: the one scheme found, which is also the one printed
            written, self.file = save(scheme, self.file), None
            return written
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
    if args.replay is not None:
        from .replay import run_replay
        return run_replay(args)
    if args.shape is None or args.rank is None:
        raise ShapeError("--shape and --rank are required (or --replay FILE)")
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
    if args.db and args.start and (args.start == "catalog" or args.start.startswith("catalog:")):
        # --start catalog[:ID] reads the catalogue --db names (the engine reads $ALGODISCOVER_DB, the
        # default catalogue of this run; worker processes inherit it)
        os.environ["ALGODISCOVER_DB"] = str(Path(args.db).expanduser().resolve())
    writer = _Writer(args.out, shape, count=args.count, force=args.force)
    if args.plot:
        from ..render.plots import check_plot_path
        check_plot_path(args.plot)
        check_new_file(args.plot, args.force, what="--plot")
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


def _command(args) -> str:
    """The command line as the user typed it (the CLI's own ``command`` provenance key)."""
    from ..provenance import command_line
    argv = getattr(args, "argv", None)
    if argv is None:
        return command_line()
    return command_line([getattr(args, "prog", "discover"), *argv])


def with_cli_provenance(scheme: Scheme, args, *, engine: str, seed, options: dict, device: str,
                        seconds: float) -> Scheme:
    """The scheme with the CLI's own ``command``; for an engine that does not yet record the provenance schema
    itself, the CLI fills in what it knows through :func:`provenance.search_record` -- without ``schema``, since
    the engine's resolved options are unknown to it (such a file says so when replayed)."""
    from .. import provenance
    prov = dict(scheme.provenance)
    updates: dict = {"command": _command(args)}
    if prov.get("schema") != provenance.SCHEMA:
        rec = provenance.search_record(engine, strategy=options.get("strategy"), seed=seed,
                                       workers=options.get("workers"), device=device)
        rec.pop("schema")
        rec.pop("options")  # unknown to the CLI: recording {} would claim "no options"
        rec["seconds"] = round(seconds, 3)
        updates.update({k: v for k, v in rec.items() if k not in prov and v is not None and k != "command"})
    return scheme.with_provenance(**updates)


def _run(args, shape, rank, device, writer, catalog, out) -> int:
    if rank >= shape.naive_rank:
        from .. import provenance
        print(f"rank {rank} >= m*k*n = {shape.naive_rank}: the standard algorithm already fits the budget", file=sys.stderr)
        rec = provenance.search_record("standard", options={}, seed=None, workers=1, device="cpu",
                                       start=provenance.start_record("standard"), shape=f"{shape.m}x{shape.k}x{shape.n}",
                                       rank=shape.naive_rank)
        rec = provenance.result_record(rec, completed_by=["standard"], seconds=0.0, command=_command(args))
        std = Scheme.standard(shape).with_provenance(**rec)
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
    seed = args.seed
    recorded = _checkpoint_seed(getattr(args, "resume", None))
    if recorded is not None:  # a resumed run continues with the seed it started with
        if seed is not None and seed != recorded:
            from ..cluster import CheckpointError
            raise CheckpointError(f"--resume {args.resume}: that run's seed is {recorded}, not {seed}; resume it "
                                  f"without --seed (or with --seed {recorded})")
        seed = recorded
    if seed is None:  # drawn here, passed to the engine, printed and recorded: every run can be repeated
        seed = secrets.randbelow(2**31)
    budget = Budget(restarts=args.restarts, time_limit=args.time_limit, count=args.count)
    modular = options.get("ring") if options.get("ring") in ("Z2", "Z3") else None
    progress = ProgressDisplay(enabled=not args.quiet, budget=budget,
                               proven_label=f"found (valid mod {modular[1]} only)" if modular else "proven")
    seen: dict[str, Scheme] = {}  # the one place where the CLI deduplicates (by canonical key)
    below: list[int] = []
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
            search = _cluster_search(args, shape, rank, seed, budget, device, on_progress, stop, options)
            if search is None:
                search = run_search(args.engine, shape, rank, seed=seed, budget=budget, device=device,
                                    on_progress=on_progress, stop=stop, **options)
            for scheme in search:
                scheme = normalize_signs(scheme)  # same algorithm, signs moved to the outputs
                v = verify(scheme, symbolic=False)  # engines verify; this is the CLI's own guard
                if not v.ok and not (v.ring in ("Z2", "Z3") and options.get("ring") == v.ring):
                    continue
                if scheme.rank > rank:
                    continue
                key = canonical_key(scheme)
                if key in seen:
                    continue
                scheme = with_cli_provenance(scheme, args, engine=args.engine, seed=seed, options=options,
                                             device=device, seconds=time.monotonic() - t0)
                seen[key] = scheme
                if scheme.rank < rank:
                    below.append(scheme.rank)
                writer.write(scheme, key)
                if catalog is not None:
                    catalog.add(scheme)
                if not first_printed:
                    verify(scheme)  # the sympy cross-check too, for small schemes
                    progress.clear()
                    if scheme.rank < rank:
                        print(f"found rank {scheme.rank} < {rank} asked", file=sys.stderr)
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
        if writer.kept:
            where += f" ({writer.kept} already there, kept)"
        rings = {verify(sch).ring for sch in seen.values()}
        mod_only = rings == {"Z2"} or rings == {"Z3"}
        what = (f"{len(seen)} distinct scheme(s) valid mod {next(iter(rings))[1]} only (not an integer algorithm)"
                if mod_only else f"{len(seen)} distinct scheme(s)")
        verb = "found" if mod_only else "proven"
        lower = ""
        if below:
            lower = (f"; {len(below)} of rank < {rank} asked (best rank {min(below)})" if len(seen) > 1
                     else f"; rank {below[0]} < {rank} asked")
        msg = (f"{verb} {what} for {shape.angle()} of rank <= {rank} in {elapsed:.1f} s{lower}; seed {seed}{where}"
               if below else f"{verb} {what} for {shape.angle()} of rank {rank} in {elapsed:.1f} s; seed {seed}{where}")
        if interrupted:
            msg += " (interrupted; everything proven so far is kept)"
        print(msg, file=sys.stderr)
        return 0
    best = last[0].best_residual if last else None
    best_s = f"{best:.3g}" if isinstance(best, (int, float)) and best == best and best != float("inf") else "—"
    why = "interrupted" if interrupted else "budget ended"
    where = _best_effort(locals().get("search"), args, shape, rank)
    if where is not None:  # engines that walk down ranks (flip) say how far they got
        print(f"no proven scheme for {shape.angle()} of rank {rank}: {why} after {elapsed:.1f} s; {where}; seed {seed}",
              file=sys.stderr)
        return 1
    print(f"no proven scheme for {shape.angle()} of rank {rank}: {why} after {elapsed:.1f} s; best residual {best_s}; "
          f"seed {seed}", file=sys.stderr)
    return 1


def _checkpoint_seed(d) -> int | None:
    """The seed recorded in DIR/checkpoint.json (None when there is no readable one: the engine then says
    what is wrong with DIR)."""
    if d is None:
        return None
    from ..search.flip import checkpoint_manifest
    seed = checkpoint_manifest(d).get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _cluster_search(args, shape, rank, seed, budget, device, on_progress, stop, options):
    """The cluster run for --cluster (with --checkpoint/--resume), or None for a local search."""
    address = getattr(args, "cluster", None)
    if address is None:
        if (getattr(args, "checkpoint", None) or getattr(args, "resume", None)) and args.engine != "flip":
            from ..cluster import CheckpointError  # the flip engine checkpoints local runs itself
            raise CheckpointError(f"--checkpoint/--resume: the {args.engine} engine checkpoints only on a cluster; "
                                  f"add --cluster ADDRESS (e.g. --cluster local:2), or use --engine flip")
        return None
    from ..cluster import run_cluster
    options = {k: v for k, v in options.items() if k not in ("checkpoint", "resume")}
    search = run_cluster(args.engine, shape, rank, cluster=address, seed=seed, budget=budget, device=device,
                         on_progress=on_progress, stop=stop, checkpoint=getattr(args, "checkpoint", None),
                         resume=getattr(args, "resume", None), **options)
    if not args.quiet:
        info = search.info
        line = f"cluster {info['address']}: {info['workers']} worker thread(s); seed {info['seed']}"
        if info.get("dashboard"):
            line += f"; dashboard {info['dashboard']}"
        if info.get("checkpoint"):
            line += f"; checkpoint {info['checkpoint']}"
            if info.get("resumed"):
                line += f" ({info['resumed']} scheme(s) already proven)"
        print(line, file=sys.stderr)
    return search


def _best_effort(search, args, shape, rank) -> str | None:
    """A missed target: an engine's iterator may expose ``stats["best_rank"]`` (mod 2), ``stats["levels"]``
    (seconds to each rank), ``best_above_target`` (the best proven scheme above the rank asked, its provenance
    with ``target_rank`` and ``above_target``) and ``best_modular`` (labelled Z2, or Z3 from a GF(3) walk).
    With --out they are written beside the asked file (FILE, FILE with suffix .z2.json / .z3.json) or as
    DIR/best-above-target.json and DIR/best-modular-z2.json / -z3.json.  Returns the sentence for the final message, or None when the engine has none."""
    stats = getattr(search, "stats", None)
    if not isinstance(stats, dict) or stats.get("best_rank") is None:
        return None
    above = getattr(search, "best_above_target", None)
    modular = getattr(search, "best_modular", None)
    levels = stats.get("levels") or {}
    field = int(stats.get("field", 2))
    text = f"best rank reached {stats['best_rank']} mod {field}"
    if stats.get("walk") == "ZT":
        text += " (ZT walk)"
    if above is not None:
        text += f", best proven {above.rank} ({above.verify(symbolic=False).ring})"
    elif isinstance(stats.get("start_proven"), dict):
        sp = stats["start_proven"]
        text += f", best proven: the start scheme ({sp['rank']}, {sp['ring']}; not a new result)"
    if levels:
        text += "; time to each rank: " + ", ".join(f"{k}: {v:.1f}s" for k, v in list(levels.items())[-6:])
    if stats.get("flips_per_s"):
        text += f"; {stats['flips_per_s']:.3g} flips/s"
    if args.out:
        from ..formats import save
        out = Path(args.out)
        if args.out.endswith(("/", "\\")) or out.is_dir():
            f_above, f_mod = out / "best-above-target.json", out / f"best-modular-z{field}.json"
        else:
            f_above, f_mod = out, out.with_suffix(f".z{field}.json")
        written = []
        for sch, f, what in ((above, f_above, "above the target"), (modular, f_mod, f"valid mod {field} only")):
            if sch is None:
                continue
            if f.exists() and not getattr(args, "force", False):
                text += f"; not written: {f} exists (use --force to overwrite)"
                continue
            save(sch, f)
            written.append(f"{f} (rank {sch.rank}, {what})")
        if written:
            text += "; written " + " and ".join(written)
    return text
