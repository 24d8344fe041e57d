"""fisher_asd: multi-encoder machine anomalous-sound detection.

``fisher_asd.Detector`` (:mod:`fisher_asd.detector`) is imported on first access, so ``import fisher_asd`` stays light.
``fisher_asd.preset(name)`` / ``fisher_asd.preset_names()`` describe the report's submitted systems (``system1`` …
``system4``), see :mod:`fisher_asd.detector.presets`.
"""

from __future__ import annotations

from typing import Any

from fisher.version import __version__

__all__ = ["Detector", "__version__", "preset", "preset_names"]


def preset(name: str) -> Any:
    """The submitted system ``name`` (``"system1"`` … ``"system4"`` or ``"mef6-7m"``, ``"mef6-12m"``, ``"mef6-hyb"``,
    ``"mef5-7m"``): a :class:`fisher_asd.detector.presets.DetectorPreset` with ``.name``, ``.description``,
    ``.streams`` (``.name``, ``.mef``, ``.train_machines``, ``.encoder`` …) and ``.weights`` ``{stream: weight}``."""
    from fisher_asd.detector.presets import preset as _preset

    return _preset(name)


def preset_names() -> list[str]:
    """Names of the detector presets followed by their aliases."""
    from fisher_asd.detector.presets import preset_names as _names

    return _names()


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from fisher_asd.detector import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
