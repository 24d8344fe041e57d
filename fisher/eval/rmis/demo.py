"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.eval.rmis.auc_table`."""

import warnings

from fisher.eval.rmis.auc_table import *
from fisher.eval.rmis.auc_table import __all__  # noqa: F401

warnings.warn(
    "fisher.eval.rmis.demo is deprecated: import fisher.eval.rmis.auc_table", DeprecationWarning, stacklevel=2
)
