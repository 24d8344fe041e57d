"""``python -m fisher.pretrain ARGS`` = ``fisher pretrain ARGS`` (handy under ``torchrun -m``)."""

import sys

from fisher.cli import main

if __name__ == "__main__":
    sys.exit(main(["pretrain", *sys.argv[1:]]))
