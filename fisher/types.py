"""Type aliases for the inputs of the public API (instead of ``Any``).

* :data:`WaveLike` — one clip ``[N]``, a batch ``[B, N]`` or a list of 1-D clips: numpy / torch / nested lists,
  float in [-1, 1) or integer PCM (checked by :func:`fisher.signals.validate.as_clips`).
* :data:`ArrayLike` — numeric arrays (numpy, torch, nested lists) such as embeddings ``[N, D]``.
* :data:`PathLike` — a file or folder path.
* :data:`SampleRate` — a sampling rate in Hz (positive, finite; checked by :func:`fisher.signals.validate.check_sr`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

if TYPE_CHECKING:  # torch stays optional: the torch-free ONNX runtime imports this module
    import torch

__all__ = ["ArrayLike", "PathLike", "SampleRate", "WaveLike"]

# The aliases that mention torch are string forward references, so importing this module never imports torch.
ArrayLike: TypeAlias = "np.ndarray | torch.Tensor | Sequence[float] | Sequence[Sequence[float]]"
WaveLike: TypeAlias = (
    "np.ndarray | torch.Tensor | Sequence[float] | Sequence[np.ndarray | torch.Tensor | Sequence[float]]"
)
PathLike: TypeAlias = str | os.PathLike
SampleRate: TypeAlias = int | float
