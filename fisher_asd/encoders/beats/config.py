"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher_asd.encoders.beats.beats_config`."""

import warnings

from fisher_asd.encoders.beats.beats_config import *
from fisher_asd.encoders.beats.beats_config import __all__  # noqa: F401

warnings.warn(
    "fisher_asd.encoders.beats.config is deprecated: import fisher_asd.encoders.beats.beats_config",
    DeprecationWarning,
    stacklevel=2,
)
