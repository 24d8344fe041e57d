import sys

from fisher.cli import main

sys.exit(main())
