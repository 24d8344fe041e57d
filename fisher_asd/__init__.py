"""fisher_asd: multi-encoder machine anomalous-sound detection.

``fisher_asd.Detector`` (:mod:`fisher_asd.detector`) is imported on first access, so ``import fisher_asd`` stays light.
"""

from __future__ import annotations

from typing import Any

from fisher import __version__

__all__ = ["Detector", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from fisher_asd.detector import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
