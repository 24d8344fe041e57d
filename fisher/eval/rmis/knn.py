"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.eval.rmis.distances`."""

import warnings

from fisher.eval.rmis.distances import *
from fisher.eval.rmis.distances import __all__  # noqa: F401

warnings.warn("fisher.eval.rmis.knn is deprecated: import fisher.eval.rmis.distances", DeprecationWarning, stacklevel=2)
