"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.clikit.outputs`."""

import warnings

from fisher.clikit.outputs import *
from fisher.clikit.outputs import __all__  # noqa: F401

warnings.warn("fisher.cli.outputs is deprecated: import fisher.clikit.outputs", DeprecationWarning, stacklevel=2)
