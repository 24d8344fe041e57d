"""FISHER: a foundation model for industrial signals (sound, vibration, current) at any sampling rate.

Quick start::

    import fisher
    model = fisher.Fisher.from_pretrained("small")     # or a local directory / official .pt file
    emb = model.embed(wave, sr=16000)                   # [bands * 384] for one clip

Torch-free deployment::

    fisher.export_onnx(model, "fisher-small.onnx")     # needs torch
    emb = fisher.OnnxFisher("fisher-small.onnx").embed(wave, sr=16000)   # numpy + scipy + onnxruntime only

Data flow: waveform → :mod:`fisher.spectrogram` (STFT sub-bands) → :mod:`fisher.model` (ViT per band)
→ :mod:`fisher.embedding` (windows, batching, pooling).

Public names are imported lazily (PEP 562), so ``import fisher`` does not import torch; torch is loaded on first use
of a name that needs it (``fisher.Fisher``, ``fisher.spectrogram``, ``fisher.export_onnx`` …).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> defining module
_LAZY = {
    "Fisher": "fisher.model",
    "split_bands": "fisher.model",
    "FisherConfig": "fisher.config",
    "PretrainedRecord": "fisher.registry",
    "list_models": "fisher.registry",
    "frame_params": "fisher.framing",
    "min_samples": "fisher.framing",
    "num_bands": "fisher.framing",
    "spectrogram": "fisher.spectrogram",
    "inference_capabilities": "fisher.capabilities",
    "export_onnx": "fisher.onnx_export",
    "OnnxFisher": "fisher.onnx_runtime",
}

__all__ = [
    "Fisher",
    "FisherConfig",
    "OnnxFisher",
    "PretrainedRecord",
    "__version__",
    "export_onnx",
    "frame_params",
    "inference_capabilities",
    "list_models",
    "min_samples",
    "num_bands",
    "spectrogram",
    "split_bands",
]

if TYPE_CHECKING:  # pragma: no cover - static analysers see the eager imports
    from fisher.capabilities import inference_capabilities
    from fisher.config import FisherConfig
    from fisher.framing import frame_params, min_samples, num_bands
    from fisher.model import Fisher, split_bands
    from fisher.onnx_export import export_onnx
    from fisher.onnx_runtime import OnnxFisher
    from fisher.registry import PretrainedRecord, list_models
    from fisher.spectrogram import spectrogram


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")  # submodules, as after the old eager import
        raise AttributeError(f"module 'fisher' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups bypass __getattr__
    return value


class _Package(types.ModuleType):
    """Keeps public functions that share a submodule's name (``fisher.spectrogram``) from being replaced by the
    submodule when the import system binds it on the package (the submodule stays in ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _LAZY:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
