"""``python -m fisher.pretrain ARGS`` = ``fisher pretrain ARGS`` (handy under ``torchrun -m``)."""

import argparse
import sys

from fisher.clikit.runner import run_parser
from fisher.pretrain.command import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fisher")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return run_parser(parser, ["pretrain", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
