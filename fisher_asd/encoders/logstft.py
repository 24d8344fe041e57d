"""The ``logstft`` baseline (:class:`fisher.eval.baseline.LogSTFT`, no weights) as a ``fisher_asd`` encoder.

Time-averaged log power per ~40 Hz STFT band at the input's own rate: ``embedding_dim(sr)`` values (201 at 16 kHz).
Same encoder as in the evaluation tools, so numbers are comparable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["LogSTFTEncoder"]


class LogSTFTEncoder:
    """Adapter over :class:`fisher.eval.baseline.LogSTFT` implementing the encoder protocol."""

    name = "logstft"
    sample_rate = None
    dim = None

    def __init__(self, bins_per_band: int = 1) -> None:
        from fisher.eval.baseline import LogSTFT

        self.baseline = LogSTFT(bins_per_band=bins_per_band)

    def __repr__(self) -> str:
        return f"LogSTFTEncoder({self.baseline!r})"

    def embedding_dim(self, sr: float) -> int:
        """Number of bands at ``sr`` Hz."""
        return self.baseline.embedding_dim(sr)

    def embed(self, waves: Any, sr: float, *, batch_size: int = 8) -> np.ndarray | torch.Tensor:
        """``[B, embedding_dim(sr)]`` (``[dim]`` for one clip); ``batch_size`` is accepted for the protocol only."""
        return self.baseline.embed(waves, sr)

    def frames(self, waves: Any, sr: float):
        raise NotImplementedError("the logstft baseline has no frame-level (trainable) variant")
