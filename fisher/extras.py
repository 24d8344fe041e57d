"""Clear errors for optional extras: ``[asd]`` (transformers) and ``[scale]`` (faiss-cpu, ray[data]).

Optional packages are imported lazily, only by the feature that needs them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["ASD_HINT", "SCALE_HINT", "require_extra", "require_scale"]

ASD_HINT = "pip install 'fisher-signal[asd]'"
SCALE_HINT = "pip install 'fisher-signal[scale]'"


def require_extra(module: str, feature: str, extra: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming ``feature`` and ``pip install 'fisher-signal[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{feature} needs the optional package '{module.split('.')[0]}', which is not installed; "
            f"install the {extra} extra with: pip install 'fisher-signal[{extra}]'"
        ) from err


def require_scale(module: str, feature: str) -> ModuleType:
    """Import ``module`` (``"faiss"``, ``"ray"``) for ``feature``, or explain how to install ``[scale]``."""
    return require_extra(module, feature, "scale")
