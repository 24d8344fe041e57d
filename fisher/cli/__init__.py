"""The ``fisher`` command line: ``fisher <command> ...``.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module adds its parser and sets
``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fisher.clikit.runner import USER_ERRORS, run_parser

__all__ = ["COMMANDS", "USER_ERRORS", "build_parser", "main", "run_parser"]

# Modules under fisher.cli that provide sub-commands, in help order.
COMMANDS = ["demo", "convert", "export", "models", "bench", "dcase_eval", "rmis", "pretrain"]


def build_parser() -> argparse.ArgumentParser:
    from fisher.version import __version__

    parser = argparse.ArgumentParser(prog="fisher", description="FISHER industrial-signal encoder and evaluation tools")
    parser.add_argument("--version", action="version", version=f"fisher-signal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"fisher.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_parser(build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
