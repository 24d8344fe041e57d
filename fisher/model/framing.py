"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.recipe.framing`."""

import warnings

from fisher.recipe.framing import *
from fisher.recipe.framing import __all__  # noqa: F401

warnings.warn("fisher.model.framing is deprecated: import fisher.recipe.framing", DeprecationWarning, stacklevel=2)
