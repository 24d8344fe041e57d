"""FISHER: a foundation model for industrial signals (sound, vibration, current) at any sampling rate.

Quick start::

    import fisher
    model = fisher.Fisher.from_pretrained("small")     # or a local directory / official .pt file
    emb = model.embed(wave, sr=16000)                   # [bands * 384] for one clip

Data flow: waveform → :mod:`fisher.model.bands` (STFT sub-bands) → :mod:`fisher.model.network` (ViT per band)
→ :mod:`fisher.inference.embed` (windows, batching, pooling).
"""

from __future__ import annotations

__version__ = "0.1.0"

from fisher.hub.registry import PretrainedRecord, list_models
from fisher.model.bands import frame_params, min_samples, num_bands, spectrogram, split_bands
from fisher.model.config import FisherConfig
from fisher.model.network import Fisher

__all__ = [
    "Fisher",
    "FisherConfig",
    "PretrainedRecord",
    "__version__",
    "frame_params",
    "list_models",
    "min_samples",
    "num_bands",
    "spectrogram",
    "split_bands",
]
