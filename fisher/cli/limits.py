"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.clikit.limits`."""

import warnings

from fisher.clikit.limits import *
from fisher.clikit.limits import __all__  # noqa: F401

warnings.warn("fisher.cli.limits is deprecated: import fisher.clikit.limits", DeprecationWarning, stacklevel=2)
