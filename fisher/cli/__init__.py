"""The ``fisher`` command line: ``fisher <command> ...``.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module adds its parser and sets
``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules under fisher.cli that provide sub-commands, in help order.
COMMANDS = ["demo", "convert", "export", "models", "dcase_eval", "rmis", "pretrain"]


def build_parser() -> argparse.ArgumentParser:
    from fisher import __version__

    parser = argparse.ArgumentParser(prog="fisher", description="FISHER industrial-signal encoder and evaluation tools")
    parser.add_argument("--version", action="version", version=f"fisher-signal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"fisher.cli.{name}").register(sub)
    return parser


# Errors that mean "bad input or state" and are shown as one line instead of a traceback.
USER_ERRORS = (ValueError, TypeError, KeyError, OSError, RuntimeError)


def run_parser(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the chosen sub-command's ``func`` and turn user errors into exit code 1."""
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"{parser.prog} {args.command}: error: {message}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return run_parser(build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
