"""BEATs (Chen et al., 2023): own re-implementation with official checkpoint compatibility."""

from __future__ import annotations

from .beats_config import BEATsConfig
from .model import BEATs, BEATsHidden

__all__ = ["BEATs", "BEATsConfig", "BEATsHidden"]
