"""Command-line options shared by several ``fisher`` sub-commands."""

from __future__ import annotations

import argparse

__all__ = ["add_allow_pickle"]


def add_allow_pickle(parser: argparse.ArgumentParser) -> None:
    """Add ``--allow-pickle`` (the opt-in for ``Fisher.from_pretrained(..., allow_pickle=True)``) to ``parser``.

    Args:
        parser: a sub-command's parser that loads a FISHER checkpoint from ``args.src``.
    """
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="trust the file: allow torch.load(weights_only=False) if the safe loader refuses it",
    )
