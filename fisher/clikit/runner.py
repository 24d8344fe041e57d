"""Run a parsed command: the sub-command's ``func`` gets the namespace; user errors become one line and exit code 1."""

from __future__ import annotations

import argparse
import sys

__all__ = ["USER_ERRORS", "run_parser"]

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
