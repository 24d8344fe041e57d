"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.recipe.fisher_config`."""

import warnings

from fisher.recipe.fisher_config import *
from fisher.recipe.fisher_config import __all__  # noqa: F401

warnings.warn("fisher.model.config is deprecated: import fisher.recipe.fisher_config", DeprecationWarning, stacklevel=2)
