"""Deprecated location (to be removed in 0.3): moved to :mod:`fisher_asd.detector.stream_config`."""

import warnings

from fisher_asd.detector.stream_config import *
from fisher_asd.detector.stream_config import __all__  # noqa: F401

warnings.warn(
    "fisher_asd.detector.config is deprecated: import fisher_asd.detector.stream_config",
    DeprecationWarning,
    stacklevel=2,
)
