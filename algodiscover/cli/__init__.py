"""Command-line interface: thin argument parsing around library calls.

Each subcommand lives in its own module of this package, listed in ``SUBCOMMANDS``; the module
defines ``register(subparsers)`` which adds its parser and sets ``func`` to a ``run(args) -> int``.
Bad input raises an ``AlgoDiscoverError``; ``main`` turns it into one line on stderr and exit 2.
A defect (``InternalError``, e.g. a crashed search worker, or any other exception) is one line and
exit 3; its traceback is in a log file (``algodiscover.crashlog``) that the line names.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import AlgoDiscoverError, InternalError

SUBCOMMANDS = ["discover", "verify", "show", "export", "render", "convert", "equiv", "catalog", "nn"]
SUBCOMMANDS += ["optimize", "codegen", "bench", "tune"]  # issue 13: algodiscover.execute

EXIT_OK, EXIT_NOT_FOUND, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message):  # noqa: D401
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")

    def format_help(self):
        for hook in getattr(self, "help_hooks", ()):  # help text computed only when --help is asked
            hook(self)
        return super().format_help()


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="algodiscover",
                            description="Discover, prove, catalogue and render fast matrix-multiplication algorithms.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"algodiscover {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


def _run(parser: ArgumentParser, argv) -> int:
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # the command line, for provenance
        args.prog = parser.prog
        return int(args.func(args) or 0)
    except InternalError as e:  # a defect of algodiscover, not bad input (the message names its log file)
        if os.environ.get("ALGODISCOVER_DEBUG"):
            raise
        print(f"{parser.prog}: internal error: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except AlgoDiscoverError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except Exception as e:  # a bug, not bad input: say so in one line unless debugging
        if os.environ.get("ALGODISCOVER_DEBUG"):
            raise
        import traceback
        from ..crashlog import write_crash_log
        path = write_crash_log(f"{parser.prog} {' '.join(sys.argv[1:] if argv is None else map(str, argv))}\n"
                               + traceback.format_exc(), what=parser.prog)
        print(f"{parser.prog}: internal error: {type(e).__name__}: {e} (traceback in {path}; "
              f"set ALGODISCOVER_DEBUG=1 to see it here)", file=sys.stderr)
        return EXIT_INTERNAL


def main(argv=None) -> int:
    """Entry point of ``algodiscover COMMAND ...``."""
    return _run(build_parser(), argv)


def discover_main(argv=None) -> int:
    """Entry point of ``discover ...`` (same as ``algodiscover discover ...``)."""
    from . import discover
    parser = ArgumentParser(prog="discover", description=discover.DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    discover.add_arguments(parser)
    parser.set_defaults(func=discover.run)
    return _run(parser, argv)


def entry(fn):
    sys.exit(fn())
