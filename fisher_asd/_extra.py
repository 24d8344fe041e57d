"""Clear errors for the optional ``[asd]`` extra (transformers)."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["INSTALL_HINT", "require"]

INSTALL_HINT = "pip install 'fisher-signal[asd]'"


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming ``feature`` and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{feature} needs the optional package '{module.split('.')[0]}', which is not installed; "
            f"install the ASD extra with: {INSTALL_HINT}"
        ) from err
