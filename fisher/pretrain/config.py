"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher.pretrain.pretrain_config`."""

import warnings

from fisher.pretrain.pretrain_config import *
from fisher.pretrain.pretrain_config import __all__  # noqa: F401

warnings.warn(
    "fisher.pretrain.config is deprecated: import fisher.pretrain.pretrain_config", DeprecationWarning, stacklevel=2
)
