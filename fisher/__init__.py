"""FISHER: a foundation model for industrial signals (sound, vibration, current) at any sampling rate.

Quick start::

    import fisher
    model = fisher.Fisher.from_pretrained("small")     # or a local directory / official .pt file
    emb = model.embed(wave, sr=16000)                   # [bands * 384] for one clip

Torch-free deployment::

    fisher.export_onnx(model, "fisher-small.onnx")     # needs torch
    emb = fisher.OnnxFisher("fisher-small.onnx").embed(wave, sr=16000)   # numpy + scipy + onnxruntime only

Data flow: waveform → :mod:`fisher.recipe` (framing, windows, batching, pooling; torch-free) →
:mod:`fisher.model` (STFT sub-bands, ViT per band; ``Fisher.embed``). Layers: ``docs/architecture.md``.

Public names are imported lazily (PEP 562), so ``import fisher`` does not import torch; torch is loaded on first use
of a name that needs it (``fisher.Fisher``, ``fisher.spectrogram``, ``fisher.export_onnx`` …).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from fisher.version import __version__

# public name -> defining module
_LAZY = {
    "Fisher": "fisher.model.network",
    "split_bands": "fisher.model.bands",
    "FisherConfig": "fisher.recipe.fisher_config",
    "PretrainedRecord": "fisher.hub.registry",
    "list_models": "fisher.hub.registry",
    "frame_params": "fisher.recipe.framing",
    "min_samples": "fisher.recipe.framing",
    "num_bands": "fisher.recipe.framing",
    "spectrogram": "fisher.model.bands",
    "inference_capabilities": "fisher.compute.capabilities",
    "export_onnx": "fisher.deploy.export",
    "OnnxFisher": "fisher.deploy.runtime",
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
    from fisher.compute.capabilities import inference_capabilities
    from fisher.deploy.export import export_onnx
    from fisher.deploy.runtime import OnnxFisher
    from fisher.hub.registry import PretrainedRecord, list_models
    from fisher.model.bands import spectrogram, split_bands
    from fisher.model.network import Fisher
    from fisher.recipe.fisher_config import FisherConfig
    from fisher.recipe.framing import frame_params, min_samples, num_bands


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")  # submodules, as after the old eager import
        raise AttributeError(f"module 'fisher' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups bypass __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
