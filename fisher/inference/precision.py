"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.compute.precision`."""

import warnings

from fisher.compute.precision import *
from fisher.compute.precision import __all__  # noqa: F401

warnings.warn(
    "fisher.inference.precision is deprecated: import fisher.compute.precision", DeprecationWarning, stacklevel=2
)
