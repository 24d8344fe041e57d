"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.compute.capabilities`."""

import warnings

from fisher.compute.capabilities import *
from fisher.compute.capabilities import __all__  # noqa: F401

warnings.warn(
    "fisher.inference.capabilities is deprecated: import fisher.compute.capabilities", DeprecationWarning, stacklevel=2
)
