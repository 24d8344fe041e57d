"""Clear errors for the optional ``[asd]`` extra (transformers); see :mod:`fisher.extras`."""

from __future__ import annotations

from types import ModuleType

from fisher.extras import ASD_HINT as INSTALL_HINT
from fisher.extras import require_extra

__all__ = ["INSTALL_HINT", "require"]


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming ``feature`` and the install command."""
    return require_extra(module, feature, "asd")
